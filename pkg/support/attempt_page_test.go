package support_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/support"
)

// attemptOf logs the ESIA person esia in against one roster record rec of
// tenant "t1" as the login does — the ladder's explanation in the link
// step, ESIA's values kept — and returns the attempt desk and the code.
func attemptOf(t *testing.T, rec store.Person, esia linking.Person) (*support.AttemptDesk, *memory.Store, string) {
	t.Helper()
	ctx := context.Background()
	st := memory.New(func() time.Time { return now })
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := keyring.OpenPII(ctx, memory.New(nil), kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", TimeZone: "Europe/Moscow"}); err != nil {
		t.Fatal(err)
	}
	// The roster keeps a SNILS normalised, as the import writes it.
	if d, _, _ := linking.NormaliseSNILS(rec.SNILS); d != "" {
		rec.SNILS = d
	}
	rec.Index = linking.IndexOf(ix, linking.IdentityOfRecord(rec))
	if err := st.UpsertPersons(ctx, "t1", []store.Person{rec}); err != nil {
		t.Fatal(err)
	}
	ladder := &linking.Ladder{Roster: st, Links: st, Index: ix, Now: func() time.Time { return now }}
	tenant, _ := st.GetTenant(ctx, "t1")
	res, err := ladder.Match(ctx, tenant, esia, "")
	if err != nil {
		t.Fatal(err)
	}
	const ref = "7K2M9QX4TB"
	a := store.Attempt{Ref: ref, TenantID: "t1", ClientID: "diary", Outcome: string(res.Outcome), Reason: string(res.Outcome)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.RecordAttempt(ctx, store.Attempt{Ref: ref, TenantID: "t1", ClientID: "diary", Outcome: store.OutcomeInProgress},
		store.AttemptEvent{Step: "authorize", At: now.Add(-time.Minute)}))
	must(st.RecordAttempt(ctx, a, store.AttemptEvent{Step: "esia", At: now.Add(-30 * time.Second),
		Detail: json.RawMessage(`{"level":"PR","trusted":true,"has_snils":true,"documents":["RF_PASSPORT","RF_BRTH_CERT"]}`)}))
	data, err := linking.EncodePerson(esia)
	must(err)
	must(st.KeepAttemptValues(ctx, store.AttemptValues{Ref: ref, TenantID: "t1", Data: data, KeptAt: now}))
	detail, _ := json.Marshal(map[string]any{"outcome": res.Outcome, "rung": res.Rung, "reason": res.Reason, "candidates": res.Candidates})
	must(st.RecordAttempt(ctx, a, store.AttemptEvent{Step: "link", At: now, Detail: detail}))
	return &support.AttemptDesk{Store: st, Ladder: ladder, Now: func() time.Time { return now }}, st, ref
}

var tenantSupport = store.Scope{Role: store.StaffTenantSupport, TenantID: "t1"}

func pavlovRecord() store.Person {
	return store.Person{ExternalID: "st-1", Role: store.RoleStudent, LastName: "Павлов", FirstName: "Игорь", MiddleName: "Сергеевич",
		BirthDate: store.Date{Year: 2012, Month: 3, Day: 5}, SNILS: "150-964-327 68", School: "МБОУ СОШ № 1", Class: "7Б",
		BirthCert: &store.BirthCert{Type: "RF_BRTH_CERT", Series: "II-МЮ", Number: "654321"}}
}

func pavlovESIA() linking.Person {
	return linking.Person{OID: "oid-1", Identity: linking.Identity{
		Name:      linking.FullName{Last: "Павлов", First: "Игорь", Patronymic: "Сергеевич"},
		BirthDate: store.Date{Year: 2012, Month: 3, Day: 5}, SNILS: "150-964-327 68"},
		BirthCerts: []linking.BirthCert{{Type: linking.BirthCertRF, Series: "II-МЮ", Number: "654321"}}}
}

func rowOf(d *support.AttemptDetail, field string) support.FieldRow {
	for _, r := range d.Fields {
		if r.Field == field {
			return r
		}
	}
	return support.FieldRow{}
}

// TestAttemptPageDifferences: the side-by-side table says how each field
// differs — one digit, adjacent characters swapped, ё/е, a patronymic
// missing in the diary, day and month swapped — with values masked
// (SNILS by its last five digits, the surname and initials, a birth date
// by its year with the differing parts marked, a certificate number by its
// last three characters), and the advice names the field, the record, the
// school and the class.
func TestAttemptPageDifferences(t *testing.T) {
	tests := []struct {
		name        string
		rec         func(*store.Person)
		esia        func(*linking.Person)
		field       string
		result      string // the candidate's cell
		esiaShown   string // ESIA's value, masked
		recShown    string // the record's value, masked
		advice      string // "" when none is expected for the field
		marked      string // a birth date's marked parts, joined
		outcomeCode string
	}{
		{"one digit of the SNILS", func(p *store.Person) { p.SNILS = "150-964-387 68" }, nil,
			"snils", "отличается одной цифрой (символ 8)", "***-***-327 68", "***-***-387 68",
			"Исправьте в дневнике поле «СНИЛС» — запись st-1 (ученик, МБОУ СОШ № 1, 7Б класс)", "", "conflict"},
		{"adjacent digits of the SNILS swapped", func(p *store.Person) { p.SNILS = "150-964-372 68" }, nil,
			"snils", "отличается: переставлены соседние символы (символ 8)", "***-***-327 68", "***-***-372 68",
			"Исправьте в дневнике поле «СНИЛС»", "", "conflict"},
		{"ё and е", func(p *store.Person) { p.FirstName = "Алёна" }, func(p *linking.Person) { p.Identity.Name.First = "Алена" },
			"first_name", "совпадает после приведения к одному написанию («ё» и «е»)", "А.", "А.", "", "", "linked"},
		{"patronymic missing in the diary (and a SNILS typo, no certificate)", func(p *store.Person) { p.MiddleName = "" },
			func(p *linking.Person) { p.Identity.SNILS, p.BirthCerts = "150-964-387 68", nil },
			"patronymic", "не заполнено в дневнике", "С.", "", "Заполните в дневнике поле «отчество» — запись st-1 (ученик, МБОУ СОШ № 1, 7Б класс)", "", "not_found"},
		{"day and month swapped", nil, func(p *linking.Person) { p.Identity.BirthDate = store.Date{Year: 2012, Month: 5, Day: 3} },
			"birth_date", "отличается: перепутаны день и месяц", "**.**.2012", "**.**.2012",
			"Исправьте в дневнике поле «дата рождения» — запись st-1", "**|**", "conflict"},
		{"certificate number masked", nil, nil, "birth_cert", "совпадает", "II-МЮ ***321", "II-МЮ ***321", "", "", "linked"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, esia := pavlovRecord(), pavlovESIA()
			if tc.rec != nil {
				tc.rec(&rec)
			}
			if tc.esia != nil {
				tc.esia(&esia)
			}
			desk, _, ref := attemptOf(t, rec, esia)
			d, err := desk.Attempt(context.Background(), tenantSupport, "g1", ref)
			if err != nil {
				t.Fatal(err)
			}
			if d.View.Outcome != tc.outcomeCode {
				t.Fatalf("outcome %q, want %q", d.View.Outcome, tc.outcomeCode)
			}
			row := rowOf(d, tc.field)
			if len(row.Cells) != 1 || len(d.Columns) != 1 {
				t.Fatalf("row %+v, columns %+v", row, d.Columns)
			}
			cell := row.Cells[0]
			if !strings.HasPrefix(cell.Result, tc.result) || row.ESIA.String() != tc.esiaShown || cell.Value.String() != tc.recShown {
				t.Fatalf("%s: cell %q %q, ESIA %q; want %q %q, %q", tc.field, cell.Value, cell.Result, row.ESIA, tc.recShown, tc.result, tc.esiaShown)
			}
			if tc.marked != "" {
				var marked []string
				for _, p := range cell.Value.Parts {
					if p.Mark {
						marked = append(marked, p.Text)
					}
				}
				if strings.Join(marked, "|") != tc.marked {
					t.Fatalf("marked parts %q, want %q", marked, tc.marked)
				}
			}
			advice := strings.Join(d.Advice, "\n")
			if (tc.advice == "") != !strings.Contains(advice, fieldTitle(tc.field)) || (tc.advice != "" && !strings.Contains(advice, tc.advice)) {
				t.Fatalf("advice %q, want %q", d.Advice, tc.advice)
			}
			if col := d.Columns[0]; col.School != "МБОУ СОШ № 1" || col.Class != "7Б" || !col.InScope {
				t.Fatalf("column %+v", col)
			}
			if last := rowOf(d, "last_name"); last.ESIA.String() != "Павлов" || last.Cells[0].Value.String() != "Павлов" {
				t.Fatalf("surname shown as %q / %q", last.ESIA, last.Cells[0].Value)
			}
		})
	}
}

func fieldTitle(field string) string {
	return map[string]string{"snils": "«СНИЛС»", "first_name": "«имя»", "patronymic": "«отчество»", "birth_date": "«дата рождения»",
		"birth_cert": "«свидетельство о рождении»"}[field]
}

// TestAttemptPageUnmaskAndScope: «Показать» needs a reason and a known
// field, shows that field in full (ESIA's and the record's) and nothing
// else, and is audited with the reason; a school_admin of another school
// gets ErrNotFound as for a code that does not exist, and their own sees it.
func TestAttemptPageUnmaskAndScope(t *testing.T) {
	ctx := context.Background()
	rec, esia := pavlovRecord(), pavlovESIA()
	esia.Identity.SNILS = "150-964-387 68"
	desk, st, ref := attemptOf(t, rec, esia)

	if _, err := desk.Unmask(ctx, tenantSupport, "g1", ref, "snils", " "); !errors.Is(err, support.ErrNoReason) {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := desk.Unmask(ctx, tenantSupport, "g1", ref, "inn", "звонок"); !errors.Is(err, support.ErrBadQuery) {
		t.Fatalf("unknown field: %v", err)
	}
	d, err := desk.Unmask(ctx, tenantSupport, "g1", ref, "snils", "звонок мамы")
	if err != nil {
		t.Fatal(err)
	}
	row := rowOf(d, "snils")
	if row.ESIA.String() != "150-964-387 68" || !row.ESIA.Full || row.Cells[0].Value.String() != "150-964-327 68" || !row.Cells[0].Value.Full {
		t.Fatalf("unmasked row %+v", row)
	}
	if bd := rowOf(d, "birth_date"); bd.ESIA.Full || bd.ESIA.String() != "**.**.2012" {
		t.Fatalf("another field shown: %+v", bd)
	}
	entries, _ := st.ListAudit(ctx, "t1", 0)
	var unmasks int
	for _, e := range entries {
		if e.Action == support.ActionUnmask {
			unmasks++
			if e.Target != ref || e.Actor != "staff:g1" || !strings.Contains(string(e.Detail), `"reason":"звонок мамы"`) ||
				!strings.Contains(string(e.Detail), `"field":"snils"`) || !strings.Contains(string(e.Detail), `"records":["st-1"]`) {
				t.Fatalf("unmask entry %+v %s", e, e.Detail)
			}
		}
	}
	if unmasks != 1 {
		t.Fatalf("%d unmask entries", unmasks)
	}

	own := store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"МБОУ СОШ № 1"}}
	other := store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"МБОУ Лицей № 3"}}
	if _, err := desk.Attempt(ctx, own, "g2", ref); err != nil {
		t.Fatalf("own school: %v", err)
	}
	for _, q := range []string{ref, "ZZZZZZZZZZ", "not a code"} {
		if _, err := desk.Attempt(ctx, other, "g3", q); !errors.Is(err, support.ErrNotFound) {
			t.Fatalf("another school, %q: %v", q, err)
		}
		if _, _, err := desk.Recheck(ctx, other, "g3", q); !errors.Is(err, support.ErrNotFound) {
			t.Fatalf("another school's re-check, %q: %v", q, err)
		}
		if _, err := desk.Unmask(ctx, other, "g3", q, "snils", "звонок"); !errors.Is(err, support.ErrNotFound) {
			t.Fatalf("another school's unmask, %q: %v", q, err)
		}
	}
}
