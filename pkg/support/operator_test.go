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

var now = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

// desk is two tenants on the memory store, each with the same record id
// "st-1" (different people), and a failed attempt in "msk".
type desk struct {
	st  *memory.Store
	ix  *keyring.PII
	ref string
}

func newDesk(t *testing.T) desk {
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
	people := map[string]store.Person{
		"msk": {ExternalID: "st-1", Role: store.RoleStudent, LastName: "Павлов", FirstName: "Игорь", MiddleName: "Сергеевич",
			BirthDate: store.Date{Year: 2012, Month: 9, Day: 21}, SNILS: "104-527-893 44", School: "МБОУ СОШ № 1", Class: "7Б",
			BirthCert: &store.BirthCert{Type: "RF_BRTH_CERT", Series: "II-МЮ", Number: "654321"}},
		"spb": {ExternalID: "st-1", Role: store.RoleStudent, LastName: "Смирнова", FirstName: "Ольга",
			BirthDate: store.Date{Year: 2013, Month: 1, Day: 2}, SNILS: "112-233-445 95", School: "Гимназия № 2",
			BirthCert: &store.BirthCert{Type: "RF_BRTH_CERT", Series: "II-МЮ", Number: "654321"}},
	}
	for tenant, p := range people {
		if err := st.CreateTenant(ctx, store.Tenant{ID: tenant}); err != nil {
			t.Fatal(err)
		}
		p.Index = linking.IndexOf(ix, linking.IdentityOfRecord(p))
		if err := st.UpsertPersons(ctx, tenant, []store.Person{p}); err != nil {
			t.Fatal(err)
		}
	}
	rec := linking.IdentityOfRecord(people["msk"])
	candidates := []linking.Candidate{{ExternalID: "st-1", Fields: []linking.FieldExplanation{
		linking.CompareSNILS(rec.SNILS, "104-527-893 45"),
		linking.CompareBirthDate(rec.BirthDate, rec.BirthDate),
	}}}
	detail, _ := json.Marshal(map[string]any{"outcome": "not_found", "rung": "", "reason": "not_found", "candidates": candidates})
	a := store.Attempt{Ref: "7K2M9QX4TB", TenantID: "msk", ClientID: "diary", Outcome: "not_found", Reason: "not_found"}
	if err := st.RecordAttempt(ctx, a, store.AttemptEvent{Step: "link", At: now, Detail: detail}); err != nil {
		t.Fatal(err)
	}
	return desk{st: st, ix: ix, ref: a.Ref}
}

func (d desk) operator() *support.Operator {
	return &support.Operator{Store: d.st, Actor: "broker-cli", Now: func() time.Time { return now }}
}

// TestOperatorAttempt: the operator's desk finds an attempt of any tenant
// by its code in any case, with or without the dash, explains it with the
// candidate's school and class, and audits the read in the attempt's tenant.
func TestOperatorAttempt(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	for _, ref := range []string{"7K2M9-QX4TB", "7k2m9qx4tb", " 7K2M9 QX4TB "} {
		v, err := d.operator().Attempt(ctx, ref)
		if err != nil {
			t.Fatalf("Attempt(%q): %v", ref, err)
		}
		if v.Ref != "7K2M9-QX4TB" || v.Outcome != "not_found" {
			t.Fatalf("Attempt(%q) = %+v", ref, v)
		}
	}
	for _, tc := range []struct {
		ref  string
		want error
	}{{"ZZZZZ-ZZZZZ", support.ErrNotFound}, {"not a code!", support.ErrBadQuery}} {
		if _, err := d.operator().Attempt(ctx, tc.ref); !errors.Is(err, tc.want) {
			t.Errorf("Attempt(%q) = %v, want %v", tc.ref, err, tc.want)
		}
	}
	log, err := d.st.ListAudit(ctx, "msk", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || log[0].Actor != "broker-cli" || log[0].Action != store.AuditReadAttempt || log[0].Target != d.ref {
		t.Fatalf("audit = %+v", log)
	}

	v, _ := d.operator().Attempt(ctx, d.ref)
	p, err := d.st.GetPerson(ctx, "msk", "st-1")
	if err != nil {
		t.Fatal(err)
	}
	msk, _ := time.LoadLocation("Europe/Moscow")
	tests := []struct {
		name      string
		full      bool
		want, not []string
	}{
		{"masked", false, []string{"Попытка входа 7K2M9-QX4TB", "07.12.2026 12:30:00", "запись st-1 (ученик, МБОУ СОШ № 1, 7Б класс)",
			"отличается одной цифрой (символ 11) — в дневнике ***-***-893 44, на Госуслугах ***-***-893 45",
			"Что сделать:", "СНИЛС в дневнике не совпадает с Госуслугами"}, []string{"104-527-893 44", "21.09.2012"}},
		{"unmasked", true, []string{"в дневнике 104-527-893 44, на Госуслугах ***-***-893 45", "в дневнике 21.09.2012"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			r := support.Report{Location: msk, Records: map[string]store.Person{"st-1": p}, Full: map[string]bool{"st-1": tc.full}}
			if err := r.WriteAttempt(&out, v); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("report shows %q:\n%s", n, out.String())
				}
			}
		})
	}
}

// TestOperatorUnmask: a record's values in full need a reason, are audited
// with it in the record's tenant, and a record id of one tenant never
// answers for another.
func TestOperatorUnmask(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	if _, err := d.operator().Unmask(ctx, "msk", "st-1", []string{"snils"}, "  "); !errors.Is(err, support.ErrNoReason) {
		t.Fatalf("blank reason: %v", err)
	}
	if _, err := d.operator().Unmask(ctx, "msk", "st-1", []string{"snils"}, strings.Repeat("я", 501)); !errors.Is(err, support.ErrBadQuery) {
		t.Fatalf("long reason: %v", err)
	}
	if _, err := d.operator().Unmask(ctx, "nope", "st-1", []string{"snils"}, "звонок"); !errors.Is(err, support.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	p, err := d.operator().Unmask(ctx, "spb", "st-1", []string{"snils"}, "звонок мамы, заявка 12")
	if err != nil || p.LastName != "Смирнова" {
		t.Fatalf("spb: %+v %v", p, err)
	}
	spb, _ := d.st.ListAudit(ctx, "spb", 10)
	msk, _ := d.st.ListAudit(ctx, "msk", 10)
	if len(spb) != 1 || spb[0].Action != support.ActionUnmask || spb[0].Target != "st-1" ||
		!strings.Contains(string(spb[0].Detail), "заявка 12") || !strings.Contains(string(spb[0].Detail), "snils") || len(msk) != 0 {
		t.Fatalf("audit spb=%+v msk=%+v", spb, msk)
	}
}

// TestSearchByBirthCertAndRecordID: the two searches the console and the
// CLI added find the tenant's own record only — both tenants hold a
// record "st-1" with the same certificate.
func TestSearchByBirthCertAndRecordID(t *testing.T) {
	d := newDesk(t)
	svc := &support.Service{Attempts: d.st, Roster: d.st, Links: d.st, Audit: d.st, Index: d.ix, Now: func() time.Time { return now }}
	tests := []struct {
		name   string
		tenant string
		q      support.PersonQuery
		want   string // masked SNILS of the one record found, "" for none
		err    error
	}{
		{"cert with dash", "msk", support.PersonQuery{BirthCert: "II-МЮ 654321"}, "***-***-893 44", nil},
		{"cert as read out", "spb", support.PersonQuery{BirthCert: "II МЮ № 654321"}, "***-***-445 95", nil},
		{"cert of nobody", "msk", support.PersonQuery{BirthCert: "II-МЮ 111111"}, "", nil},
		{"not a cert", "msk", support.PersonQuery{BirthCert: "II-МЮ номер"}, "", support.ErrBadQuery},
		{"record id", "msk", support.PersonQuery{RecordID: "st-1"}, "***-***-893 44", nil},
		{"same id, other tenant", "spb", support.PersonQuery{RecordID: " st-1 "}, "***-***-445 95", nil},
		{"no such id", "msk", support.PersonQuery{RecordID: "st-2"}, "", nil},
		{"bad id", "msk", support.PersonQuery{RecordID: "st\x00"}, "", support.ErrBadQuery},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := svc.SearchPersons(context.Background(), support.Caller{ClientID: "c", TenantID: tc.tenant}, tc.q)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("found %+v", got)
			case tc.want != "" && (len(got) != 1 || got[0].SNILS != tc.want):
				t.Fatalf("found %+v, want %s", got, tc.want)
			}
		})
	}
}
