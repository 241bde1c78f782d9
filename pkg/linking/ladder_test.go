package linking_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

var ladderNow = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

// ladderEnv is a tenant "t1" on the memory store with a ladder and a
// LinkAdmin whose token revocations and link events are recorded.
type ladderEnv struct {
	st     *memory.Store
	ix     *keyring.PII
	ladder *linking.Ladder
	admin  *linking.LinkAdmin
	seen   *recorder
	tenant store.Tenant
}

// recorder records revoked subjects and link events in order.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.log = append(r.log, s)
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

func (r *recorder) RevokeSubject(_ context.Context, tenantID, subject string) (int, error) {
	r.add("revoke " + subject)
	return 1, nil
}

func (r *recorder) Subject(tenantID, oid string) string { return tenantID + ":" + oid }

func (r *recorder) LinkEvent(_ context.Context, typ string, l store.Link) error {
	r.add(typ + " " + l.ExternalID)
	return nil
}

func newLadderEnv(t *testing.T, allowNames bool) *ladderEnv {
	t.Helper()
	st := memory.New(func() time.Time { return ladderNow })
	mustTenant(t, st)
	tn, err := st.GetTenant(context.Background(), "t1")
	if err != nil {
		t.Fatal(err)
	}
	tn.Matching.AllowNameMatch = allowNames
	ix := testPII(t)
	rec := &recorder{}
	return &ladderEnv{st: st, ix: ix, seen: rec, tenant: tn,
		ladder: &linking.Ladder{Roster: st, Links: st, Index: ix, Now: func() time.Time { return ladderNow }},
		admin:  &linking.LinkAdmin{Links: st, Tokens: rec, Subjects: rec, Events: rec}}
}

// roster imports rows into t1 with the env's LinkAdmin keeping links in step.
func (e *ladderEnv) roster(t *testing.T, rows ...string) linking.ImportReport {
	t.Helper()
	rep, err := (&linking.Importer{Roster: e.st, Index: e.ix, Links: e.admin}).Import(context.Background(), "t1", strings.NewReader(strings.Join(rows, "\n")))
	if err != nil || len(rep.Errors) > 0 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	return rep
}

// login matches p and stores the links, as the login does.
func (e *ladderEnv) login(t *testing.T, p linking.Person, role store.Role) linking.Result {
	t.Helper()
	res, err := e.ladder.Match(context.Background(), e.tenant, p, role)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ladder.Link(context.Background(), "t1", p, res); err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *ladderEnv) links(t *testing.T, id string) []store.Link {
	t.Helper()
	ls, err := e.st.LinksByRecord(context.Background(), "t1", id)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// row is a roster person row with SNILS, birth date and school.
func row(id, role, last, first, birth, snils, school string) string {
	return fmt.Sprintf(`{"external_id":%q,"role":%q,"last_name":%q,"first_name":%q,"birth_date":%q,"snils":%q,"school":%q}`,
		id, role, last, first, birth, snils, school)
}

// esiaPerson is an ESIA person as the login hands it to the ladder.
func esiaPerson(oid, last, first, birth, snils string) linking.Person {
	p := linking.Person{OID: oid, ETag: "E1", Identity: linking.Identity{Name: linking.FullName{Last: last, First: first}, SNILS: snils}}
	if birth != "" {
		bd, err := linking.ParseBirthDate(birth)
		if err != nil {
			panic(err)
		}
		p.Identity.BirthDate = bd
	}
	return p
}

func recordIDs(ps []store.Person) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ExternalID)
	}
	return out
}

// TestLadderRechecksLinkAtLogin: the link of an ESIA person is re-checked
// at every login against the data of both sides; a SNILS or birth date
// that changed on the ESIA side (or the roster's) suspends it with the
// reason, a value missing on one side is no change, and the link comes
// back when the data agree again.
func TestLadderRechecksLinkAtLogin(t *testing.T) {
	const (
		snils = "112-233-445 95"
		birth = "1985-03-05"
	)
	tests := []struct {
		name          string
		snils, birth  string // what ESIA says at the second login
		outcome, rung string
		reason        string // of the match
		suspended     string // reason of the suspended link, "" when none
	}{
		{"nothing changed", snils, birth, "linked", linking.RungLink, "", ""},
		{"SNILS changed in ESIA", "112-233-445 96", birth, "not_found", "", linking.ReasonNoRule, linking.SuspendSNILSChanged},
		{"birth date changed in ESIA", snils, "1985-03-15", "conflict", linking.RungSNILS, linking.ReasonBirthDateDiffer, linking.SuspendBirthDateChanged},
		{"birth date: day and month swapped in ESIA", snils, "1985-05-03", "conflict", linking.RungSNILS, linking.ReasonBirthDateDiffer, linking.SuspendBirthDateChanged},
		{"SNILS gone from ESIA (missing is no change)", "", birth, "linked", linking.RungLink, "", ""},
		{"birth date gone from ESIA", snils, "", "linked", linking.RungLink, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLadderEnv(t, false)
			e.roster(t, row("t-1", "teacher", "Смирнова", "Елена", birth, snils, "Школа № 1"))
			first := e.login(t, esiaPerson("100", "Смирнова", "Елена", birth, snils), "")
			if first.Outcome != linking.OutcomeLinked || first.Rung != linking.RungSNILS {
				t.Fatalf("first login: %+v", first)
			}
			res := e.login(t, esiaPerson("100", "Смирнова", "Елена", tc.birth, tc.snils), "")
			if string(res.Outcome) != tc.outcome || res.Rung != tc.rung || res.Reason != tc.reason {
				t.Fatalf("second login: %s/%s/%s, want %s/%s/%s", res.Outcome, res.Rung, res.Reason, tc.outcome, tc.rung, tc.reason)
			}
			links := e.links(t, "t-1")
			if len(links) != 1 {
				t.Fatalf("links = %+v", links)
			}
			if tc.suspended == "" {
				if links[0].Status != store.LinkActive || len(res.Suspended) != 0 {
					t.Fatalf("link = %+v, suspended %+v", links[0], res.Suspended)
				}
				// The link keeps what ESIA gave, even what it left out
				// this time.
				if links[0].SNILSIndex != e.ix.Index(store.IndexSNILS, "11223344595") || links[0].BirthDateIndex != e.ix.Index(store.IndexBirthDate, birth) {
					t.Fatalf("link evidence = %q %q", links[0].SNILSIndex, links[0].BirthDateIndex)
				}
				return
			}
			if links[0].Status != store.LinkSuspended || links[0].Reason != tc.suspended ||
				len(res.Suspended) != 1 || res.Suspended[0].Reason != tc.suspended {
				t.Fatalf("link = %+v, suspended %+v; want suspended (%s)", links[0], res.Suspended, tc.suspended)
			}
			// ESIA's data are right again: the link is back at the next login.
			back := e.login(t, esiaPerson("100", "Смирнова", "Елена", birth, snils), "")
			if back.Outcome != linking.OutcomeLinked || back.Rung != linking.RungLink || e.links(t, "t-1")[0].Status != store.LinkActive {
				t.Fatalf("after the fix: %+v, link %+v", back, e.links(t, "t-1"))
			}
		})
	}
}

// TestLadderSeveralRecords: records of one person in several roles are
// all linked; several records of the same role are duplicates (ambiguous)
// unless they carry the person's SNILS and are in different schools.
func TestLadderSeveralRecords(t *testing.T) {
	const snils, birth = "112-233-445 95", "1982-07-09"
	parent := func(id, school string) string {
		return row(id, "parent", "Кузнецов", "Андрей", birth, snils, school)
	}
	tests := []struct {
		name       string
		allowNames bool
		rows       []string
		role       store.Role
		outcome    linking.Outcome
		reason     string
		records    []string
	}{
		{"teacher and parent", false, []string{parent("p-1", "Школа № 1"), row("t-1", "teacher", "Кузнецов", "Андрей", birth, snils, "Школа № 1")},
			"", linking.OutcomeLinked, "", []string{"p-1", "t-1"}},
		{"parent in two schools", false, []string{parent("p-1", "Школа № 1"), parent("p-2", "Гимназия № 2")},
			"", linking.OutcomeLinked, "", []string{"p-1", "p-2"}},
		{"parent in two schools, role=parent", false, []string{parent("p-2", "Гимназия № 2"), parent("p-1", "Школа № 1")},
			store.RoleParent, linking.OutcomeLinked, "", []string{"p-1", "p-2"}},
		{"parent in three schools and a teacher", false, []string{parent("p-1", "Школа № 1"), parent("p-2", "Гимназия № 2"), parent("p-3", "Лицей № 3"),
			row("t-1", "teacher", "Кузнецов", "Андрей", birth, snils, "Лицей № 3")}, "", linking.OutcomeLinked, "", []string{"p-1", "p-2", "p-3", "t-1"}},
		{"two parent records in one school", false, []string{parent("p-1", "Школа № 1"), parent("p-2", "Школа № 1")},
			"", linking.OutcomeAmbiguous, linking.ReasonDuplicate, nil},
		{"one school written two ways", false, []string{parent("p-1", "Школа № 1"), parent("p-2", " школа  № 1 ")},
			"", linking.OutcomeAmbiguous, linking.ReasonDuplicate, nil},
		{"a record without a school", false, []string{parent("p-1", "Школа № 1"), parent("p-2", "")},
			"", linking.OutcomeAmbiguous, linking.ReasonDuplicate, nil},
		{"two schools but no SNILS in the roster (name rung)", true, []string{
			row("p-1", "parent", "Кузнецов", "Андрей", birth, "", "Школа № 1"), row("p-2", "parent", "Кузнецов", "Андрей", birth, "", "Гимназия № 2")},
			"", linking.OutcomeAmbiguous, linking.ReasonDuplicate, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLadderEnv(t, tc.allowNames)
			e.roster(t, tc.rows...)
			p := esiaPerson("200", "Кузнецов", "Андрей", birth, snils)
			res := e.login(t, p, tc.role)
			if res.Outcome != tc.outcome || res.Reason != tc.reason || !slices.Equal(recordIDs(res.Records), tc.records) {
				t.Fatalf("match: %s/%s %v, want %s/%s %v", res.Outcome, res.Reason, recordIDs(res.Records), tc.outcome, tc.reason, tc.records)
			}
			if tc.outcome != linking.OutcomeLinked {
				if len(res.Candidates) != len(tc.rows) {
					t.Fatalf("explanation has %d candidates, want %d", len(res.Candidates), len(tc.rows))
				}
				return
			}
			// Every record is linked, and the next login finds them all by
			// their links.
			for _, id := range tc.records {
				if ls := e.links(t, id); len(ls) != 1 || ls[0].ESIAOID != "200" {
					t.Fatalf("links of %s = %+v", id, ls)
				}
			}
			again := e.login(t, p, tc.role)
			if again.Rung != linking.RungLink || !slices.Equal(recordIDs(again.Records), tc.records) {
				t.Fatalf("next login: %s %v", again.Rung, recordIDs(again.Records))
			}
		})
	}
}

// TestRosterWritesRecheckLinks: records written by an import are re-checked
// against the evidence their links keep of the ESIA person: a changed SNILS
// or birth date suspends the link, revokes the tokens and reports it; other
// changes, and links without evidence or suspended by a person, are left.
func TestRosterWritesRecheckLinks(t *testing.T) {
	const snils, birth = "112-233-445 95", "1985-03-14"
	teacher := func(snils, birth, school string) string {
		return row("t-1", "teacher", "Смирнова", "Елена", birth, snils, school)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, e *ladderEnv)
		write   string
		reason  string // "" when the link stays as it was
	}{
		{"SNILS changed", nil, teacher("112-233-445 96", birth, "Школа № 1"), linking.SuspendSNILSChanged},
		{"birth date changed", nil, teacher(snils, "1985-03-15", "Школа № 1"), linking.SuspendBirthDateChanged},
		{"SNILS and birth date changed: the SNILS is named", nil, teacher("112-233-445 96", "1985-03-15", "Школа № 1"), linking.SuspendSNILSChanged},
		{"school changed", nil, teacher(snils, birth, "Гимназия № 2"), ""},
		{"SNILS removed", nil, teacher("", birth, "Школа № 1"), ""},
		{"a link without evidence (made before it was kept)", func(t *testing.T, e *ladderEnv) {
			l := e.links(t, "t-1")[0]
			l.SNILSIndex, l.BirthDateIndex = "", ""
			if err := e.st.UpdateLink(context.Background(), l); err != nil {
				t.Fatal(err)
			}
		}, teacher("112-233-445 96", birth, "Школа № 1"), ""},
		{"a link suspended by support stays so", func(t *testing.T, e *ladderEnv) {
			if _, err := e.admin.Suspend(context.Background(), "t1", "t-1", "", linking.SuspendBySupport); err != nil {
				t.Fatal(err)
			}
			e.seen.take()
		}, teacher("112-233-445 96", birth, "Школа № 1"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newLadderEnv(t, false)
			e.roster(t, teacher(snils, birth, "Школа № 1"))
			e.login(t, esiaPerson("100", "Смирнова", "Елена", birth, snils), "")
			if tc.prepare != nil {
				tc.prepare(t, e)
			}
			before := e.links(t, "t-1")[0]
			rep := e.roster(t, tc.write)
			after := e.links(t, "t-1")[0]
			seen := e.seen.take()
			if tc.reason == "" {
				if after.Status != before.Status || after.Reason != before.Reason || rep.LinksSuspended != 0 || len(seen) != 0 {
					t.Fatalf("link %+v → %+v, report %+v, seen %v", before, after, rep, seen)
				}
				return
			}
			if after.Status != store.LinkSuspended || after.Reason != tc.reason || rep.LinksSuspended != 1 {
				t.Fatalf("link = %+v, report %+v; want suspended (%s)", after, rep, tc.reason)
			}
			if want := []string{"revoke t1:100", "link.suspended t-1"}; !slices.Equal(seen, want) {
				t.Fatalf("seen %v, want %v", seen, want)
			}
		})
	}
}

// TestRosterDeletesUnlink: an import deleting a linked record removes the
// link first the way an unlink does (tokens, link.removed); an importer
// that cannot (no Links) refuses that row and deletes the others.
func TestRosterDeletesUnlink(t *testing.T) {
	ctx := context.Background()
	e := newLadderEnv(t, false)
	e.roster(t, row("t-1", "teacher", "Смирнова", "Елена", "1985-03-14", "112-233-445 95", "Школа № 1"),
		row("t-2", "teacher", "Хан", "Елизавета", "1993-11-11", "", "Школа № 1"),
		row("t-3", "teacher", "Орлова", "Мария", "1990-01-01", "", "Школа № 1"))
	e.login(t, esiaPerson("100", "Смирнова", "Елена", "1985-03-14", "112-233-445 95"), "")

	bare := &linking.Importer{Roster: e.st, Index: e.ix}
	rep, err := bare.Import(ctx, "t1", strings.NewReader(`{"op":"delete","external_id":"t-1"}`+"\n"+`{"op":"delete","external_id":"t-2"}`))
	if err != nil || rep.Deleted != 1 || len(rep.Errors) != 1 || rep.Errors[0].Line != 1 || rep.Errors[0].ExternalID != "t-1" {
		t.Fatalf("without Links: %+v %v", rep, err)
	}
	if _, err := e.st.GetPerson(ctx, "t1", "t-1"); err != nil || len(e.links(t, "t-1")) != 1 || len(e.seen.take()) != 0 {
		t.Fatalf("the linked record went without its link being removed: %v", err)
	}

	rep = e.roster(t, `{"op":"delete","external_id":"t-1"}`, `{"op":"delete","external_id":"t-3"}`)
	if rep.Deleted != 2 || rep.LinksRemoved != 1 {
		t.Fatalf("report = %+v", rep)
	}
	if want := []string{"revoke t1:100", "link.removed t-1"}; !slices.Equal(e.seen.take(), want) {
		t.Fatalf("want %v", want)
	}
	if _, err := e.st.GetPerson(ctx, "t1", "t-1"); err == nil {
		t.Fatal("record not deleted")
	}
}
