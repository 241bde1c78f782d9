package consent_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// fixture is a tenant with a child, two parents and the clock.
type fixture struct {
	svc   *consent.Service
	st    *memory.Store
	t     store.Tenant
	now   time.Time
	child store.Person
	mum   consent.Parent
	dad   consent.Parent
}

var ctx = context.Background()

func newFixture(t *testing.T) *fixture {
	f := &fixture{st: memory.New(nil), now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	f.t = store.Tenant{ID: "t1", DisplayName: "Дневник", OperatorName: "ГБУ «Оператор»", TimeZone: "Europe/Moscow",
		Consent: store.DefaultConsentPolicy()}
	must(t, f.st.CreateTenant(ctx, f.t))
	f.child = store.Person{ExternalID: "s-1", Role: store.RoleStudent, LastName: "Иванова", FirstName: "Ася",
		BirthDate: store.Date{Year: 2016, Month: 3, Day: 1}, SNILS: "11223344595"}
	must(t, f.st.UpsertPersons(ctx, "t1", []store.Person{f.child,
		{ExternalID: "p-mum", Role: store.RoleParent, LastName: "Иванова", FirstName: "Мария"},
		{ExternalID: "p-dad", Role: store.RoleParent, LastName: "Иванов", FirstName: "Олег"}}))
	must(t, f.st.UpsertRelations(ctx, "t1", []store.Relation{{Parent: "p-mum", Student: "s-1", Kind: "mother"}, {Parent: "p-dad", Student: "s-1", Kind: "father"}}))
	kid := linking.Identity{Name: linking.FullName{Last: "Иванова", First: "Ася"}, SNILS: "112-233-445 95"}
	f.mum = consent.Parent{OID: "2001", Name: "Иванова Мария", Records: []string{"p-mum"}, Kids: []linking.Identity{kid}}
	f.dad = consent.Parent{OID: "2002", Name: "Иванов Олег", Records: []string{"p-dad"}, Kids: []linking.Identity{kid}}
	f.svc = &consent.Service{Store: f.st, Now: func() time.Time { return f.now }}
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) childSubject() consent.Subject {
	return consent.Subject{TenantID: "t1", PersonID: "s-1", OID: "3001", Name: "Иванова Ася", BirthDate: f.child.BirthDate, Child: true}
}

func (f *fixture) granted(t *testing.T) []store.Consent {
	cs, err := f.st.ConsentsOf(ctx, "t1", "s-1")
	must(t, err)
	var out []store.Consent
	for _, c := range cs {
		if c.Status == store.ConsentGranted {
			out = append(out, c)
		}
	}
	return out
}

// TestAgePolicy: on 24.11.2026, with the default thresholds (18, 14) and
// with a tenant's own (self-consent from 19, an own confirmed account
// required from 15).
func TestAgePolicy(t *testing.T) {
	tests := []struct {
		name           string
		adult, ownFrom int // 0: the default
		birth          store.Date
		trusted        bool
		want           consent.Outcome
	}{
		{"10 with a child account", 0, 0, store.Date{Year: 2016, Month: 3, Day: 1}, false, consent.NeedsParental},
		{"15 confirmed", 0, 0, store.Date{Year: 2011, Month: 1, Day: 1}, true, consent.NeedsParental},
		{"15 unconfirmed", 0, 0, store.Date{Year: 2011, Month: 1, Day: 1}, false, consent.NeedsConfirmation},
		{"14 today, unconfirmed", 0, 0, store.Date{Year: 2012, Month: 11, Day: 24}, false, consent.NeedsConfirmation},
		{"13 and a day short of 14", 0, 0, store.Date{Year: 2012, Month: 11, Day: 25}, false, consent.NeedsParental},
		{"18 today", 0, 0, store.Date{Year: 2008, Month: 11, Day: 24}, true, consent.NeedsSelfConsent},
		{"40", 0, 0, store.Date{Year: 1986, Month: 5, Day: 5}, true, consent.NeedsSelfConsent},
		{"19/15: 18 needs a parent", 19, 15, store.Date{Year: 2008, Month: 1, Day: 1}, true, consent.NeedsParental},
		{"19/15: 19 today consents", 19, 15, store.Date{Year: 2007, Month: 11, Day: 24}, true, consent.NeedsSelfConsent},
		{"19/15: 14 unconfirmed, a child account is enough", 19, 15, store.Date{Year: 2012, Month: 1, Day: 1}, false, consent.NeedsParental},
		{"19/15: 15 today unconfirmed, refused", 19, 15, store.Date{Year: 2011, Month: 11, Day: 24}, false, consent.NeedsConfirmation},
		{"19/15: 15 confirmed", 19, 15, store.Date{Year: 2011, Month: 1, Day: 1}, true, consent.NeedsParental},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.t.Consent.AdultAge, f.t.Consent.OwnAccountAge = tc.adult, tc.ownFrom
			must(t, f.st.UpdateTenant(ctx, f.t))
			subj := f.childSubject()
			subj.BirthDate, subj.Trusted = tc.birth, tc.trusted
			d, err := f.svc.Check(ctx, f.t, subj)
			must(t, err)
			if d.Outcome != tc.want {
				t.Fatalf("outcome = %s, want %s (age %d)", d.Outcome, tc.want, d.Age)
			}
		})
	}
}

// TestAgeInTheTenantsTimeZone: at 20:00 UTC on 23 November it is still the
// 23rd in Moscow but already the 24th in Vladivostok — a birthday there counts.
func TestAgeInTheTenantsTimeZone(t *testing.T) {
	f := newFixture(t)
	f.now = time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)
	subj := f.childSubject()
	subj.BirthDate, subj.Trusted = store.Date{Year: 2008, Month: 11, Day: 24}, true
	d, _ := f.svc.Check(ctx, f.t, subj)
	if d.Outcome != consent.NeedsParental { // Moscow: still 17
		t.Fatalf("Moscow: %s", d.Outcome)
	}
	f.t.TimeZone = "Asia/Vladivostok"
	d, _ = f.svc.Check(ctx, f.t, subj)
	if d.Outcome != consent.NeedsSelfConsent {
		t.Fatalf("Vladivostok: %s", d.Outcome)
	}
}

func TestRequestIsIdempotent(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.Check(ctx, f.t, f.childSubject()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	events, _ := f.st.ListEvents(ctx, "t1", "", 100)
	if len(events) != 1 || events[0].Type != "consent.requested" {
		t.Fatalf("events = %+v", events)
	}
	d, _ := f.svc.Check(ctx, f.t, f.childSubject())
	if d.Request == nil || len(d.Request.Parents) != 2 {
		t.Fatalf("request = %+v", d.Request)
	}
}

func TestTwoParentsGrantingAtOnceMakeOneConsent(t *testing.T) {
	f := newFixture(t)
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	var wg sync.WaitGroup
	for _, p := range []consent.Parent{f.mum, f.dad, f.mum, f.dad} {
		wg.Add(1)
		go func(p consent.Parent) {
			defer wg.Done()
			if err := f.svc.Decide(ctx, f.t, p, "s-1", true); err != nil {
				t.Error(err)
			}
		}(p)
	}
	wg.Wait()
	if g := f.granted(t); len(g) != 1 {
		t.Fatalf("%d consents granted, want 1", len(g))
	}
	d, _ := f.svc.Check(ctx, f.t, f.childSubject())
	if d.Outcome != consent.Allowed {
		t.Fatalf("child after consent: %s", d.Outcome)
	}
	// The decision names the consent it rests on (the login's code does).
	if g := f.granted(t); d.ConsentID == "" || d.ConsentID != g[0].ID {
		t.Fatalf("Allowed rests on consent %q, want the granted one %q", d.ConsentID, g[0].ID)
	}
}

func TestDeclineLeavesTheRequestOpenForTheOtherParent(t *testing.T) {
	f := newFixture(t)
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", false))
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", false)) // twice: still one decline
	d, _ := f.svc.Check(ctx, f.t, f.childSubject())
	if d.Outcome != consent.NeedsParental || d.Request == nil || len(d.Request.Declines) != 1 {
		t.Fatalf("after a decline: %+v", d)
	}
	must(t, f.svc.Decide(ctx, f.t, f.dad, "s-1", true))
	if d, _ := f.svc.Check(ctx, f.t, f.childSubject()); d.Outcome != consent.Allowed {
		t.Fatalf("after the other parent: %s", d.Outcome)
	}
}

func TestNotAParent(t *testing.T) {
	f := newFixture(t)
	stranger := f.mum
	stranger.Kids = []linking.Identity{{SNILS: "123-456-789 64"}} // ESIA lists another child
	if err := f.svc.Decide(ctx, f.t, stranger, "s-1", true); !errors.Is(err, consent.ErrNotParent) {
		t.Fatalf("err = %v", err)
	}
	unrelated := f.mum
	unrelated.Records = []string{"p-other"}
	if err := f.svc.Decide(ctx, f.t, unrelated, "s-1", true); !errors.Is(err, consent.ErrNotParent) {
		t.Fatalf("err = %v", err)
	}
	if len(f.granted(t)) != 0 {
		t.Fatal("consent made")
	}
}

func TestTurning18SwitchesToSelfConsent(t *testing.T) {
	f := newFixture(t)
	subj := f.childSubject()
	subj.BirthDate, subj.Trusted = store.Date{Year: 2008, Month: 12, Day: 1}, true // 17 until 1 December
	_, _ = f.svc.Check(ctx, f.t, subj)
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
	if d, _ := f.svc.Check(ctx, f.t, subj); d.Outcome != consent.Allowed {
		t.Fatalf("17: %s", d.Outcome)
	}
	f.now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if d, _ := f.svc.Check(ctx, f.t, subj); d.Outcome != consent.NeedsSelfConsent {
		t.Fatalf("18: %s", d.Outcome)
	}
	cs, _ := f.st.ConsentsOf(ctx, "t1", "s-1")
	if cs[0].Status != store.ConsentSuperseded || cs[0].EndReason != "turned_adult" {
		t.Fatalf("parental consent at 18: %+v", cs[0])
	}
}

func TestExpiryAndRequestExpiry(t *testing.T) {
	f := newFixture(t)
	f.t.Consent.TermDays = 365
	f.t.Consent.RequestDays = 7
	must(t, f.st.UpdateTenant(ctx, f.t))
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	f.now = f.now.Add(8 * 24 * time.Hour)
	n, err := f.svc.Sweep(ctx, f.st)
	must(t, err)
	if n != 1 {
		t.Fatalf("swept %d, want the expired request", n)
	}
	d, _ := f.svc.Check(ctx, f.t, f.childSubject())
	if d.Request == nil || d.Request.CreatedAt != f.now {
		t.Fatalf("a new request after expiry: %+v", d.Request)
	}
	must(t, f.svc.Decide(ctx, f.t, f.dad, "s-1", true))
	f.now = f.now.Add(366 * 24 * time.Hour)
	if _, err := f.svc.Sweep(ctx, f.st); err != nil {
		t.Fatal(err)
	}
	if len(f.granted(t)) != 0 {
		t.Fatal("consent outlived its term")
	}
	if d, _ := f.svc.Check(ctx, f.t, f.childSubject()); d.Outcome != consent.NeedsParental {
		t.Fatalf("after expiry: %s", d.Outcome)
	}
}

func TestEvidenceAndDestructionAfterWithdrawal(t *testing.T) {
	f := newFixture(t)
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
	ev, _ := f.st.EvidenceOf(ctx, "t1", "s-1")
	var grant *store.Evidence
	for i := range ev {
		if ev[i].Event == "granted" {
			grant = &ev[i]
		}
	}
	if grant == nil || grant.Details.GrantorOID != "2001" || grant.Details.GrantorName != "Иванова Мария" ||
		grant.Details.SubjectName == "" || grant.Details.Operator != "ГБУ «Оператор»" || grant.Details.TextHash == "" ||
		len(grant.Details.DataCategories) == 0 || grant.Details.Channel != "parent_page" {
		t.Fatalf("evidence = %+v", grant)
	}
	must(t, f.svc.Revoke(ctx, f.t, f.mum, "s-1"))
	f.now = f.now.Add(29 * 24 * time.Hour)
	_, _ = f.svc.Sweep(ctx, f.st)
	ev, _ = f.st.EvidenceOf(ctx, "t1", "s-1")
	for _, e := range ev {
		if e.Destroyed {
			t.Fatal("destroyed before the period")
		}
	}
	f.now = f.now.Add(2 * 24 * time.Hour)
	_, _ = f.svc.Sweep(ctx, f.st)
	ev, _ = f.st.EvidenceOf(ctx, "t1", "s-1")
	destroyed, record := 0, false
	for _, e := range ev {
		if e.Destroyed {
			destroyed++
			if e.Details.GrantorName != "" {
				t.Fatalf("destroyed evidence keeps a name: %+v", e)
			}
		}
		record = record || e.Event == "destroyed"
	}
	if destroyed == 0 || !record {
		t.Fatalf("destroyed=%d record=%v: %+v", destroyed, record, ev)
	}
	exp, err := f.svc.Export(ctx, "t1", "s-1")
	must(t, err)
	if len(exp.Consents) != 1 || exp.Consents[0].Status != store.ConsentRevoked || len(exp.Evidence) < 4 {
		t.Fatalf("export = %+v", exp)
	}
}

func TestSelfConsentNewTextVersion(t *testing.T) {
	f := newFixture(t)
	adult := consent.Subject{TenantID: "t1", PersonID: "p-mum", OID: "2001", Name: "Иванова Мария", BirthDate: store.Date{Year: 1985, Month: 1, Day: 1}, Trusted: true}
	d, _ := f.svc.Check(ctx, f.t, adult)
	if d.Outcome != consent.NeedsSelfConsent {
		t.Fatalf("first login: %s", d.Outcome)
	}
	must(t, f.svc.GrantSelf(ctx, f.t, adult, d.Text, true))
	if d, _ := f.svc.Check(ctx, f.t, adult); d.Outcome != consent.Allowed {
		t.Fatalf("after consent: %s", d.Outcome)
	}
	f.t.Consent.TextVersion = "2"
	d, _ = f.svc.Check(ctx, f.t, adult)
	if d.Outcome != consent.NeedsSelfConsent || d.Text.Version != "2" || d.Text.Hash == consent.TextFor(store.Tenant{}, store.ConsentSelf).Hash {
		t.Fatalf("new version: %+v", d)
	}
}

// TestAnotherTenantNeedsItsOwnConsent: consent is to one operator's
// processing for one diary; another tenant asks again.
func TestAnotherTenantNeedsItsOwnConsent(t *testing.T) {
	f := newFixture(t)
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
	other := f.t
	other.ID = "t2"
	must(t, f.st.CreateTenant(ctx, other))
	must(t, f.st.UpsertPersons(ctx, "t2", []store.Person{f.child}))
	subj := f.childSubject()
	subj.TenantID = "t2"
	if d, _ := f.svc.Check(ctx, other, subj); d.Outcome != consent.NeedsParental {
		t.Fatalf("other tenant: %s", d.Outcome)
	}
	if d, _ := f.svc.Check(ctx, f.t, f.childSubject()); d.Outcome != consent.Allowed {
		t.Fatalf("first tenant: %s", d.Outcome)
	}
}

// TestBirthDateFromTheRoster: without an ESIA birth date the roster
// record's decides, as it does for the claims' age_group; with neither the
// person is a minor who needs a parent's consent — never an adult who
// consents for themself, and never refused for an unconfirmed account.
func TestBirthDateFromTheRoster(t *testing.T) {
	tests := []struct {
		name        string
		esia        store.Date
		roster      store.Date
		trusted     bool
		want        consent.Outcome
		wantUnknown bool
	}{
		{"ESIA's date wins", store.Date{Year: 1990, Month: 1, Day: 1}, store.Date{Year: 2016, Month: 3, Day: 1}, true, consent.NeedsSelfConsent, false},
		{"roster: an adult", store.Date{}, store.Date{Year: 1990, Month: 1, Day: 1}, true, consent.NeedsSelfConsent, false},
		{"roster: 10", store.Date{}, store.Date{Year: 2016, Month: 3, Day: 1}, false, consent.NeedsParental, false},
		{"roster: 15, unconfirmed", store.Date{}, store.Date{Year: 2011, Month: 1, Day: 1}, false, consent.NeedsConfirmation, false},
		{"neither: a minor", store.Date{}, store.Date{}, true, consent.NeedsParental, true},
		{"neither, unconfirmed: still a parent's consent", store.Date{}, store.Date{}, false, consent.NeedsParental, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.child
			rec.BirthDate = tc.roster
			must(t, f.st.UpsertPersons(ctx, "t1", []store.Person{rec}))
			subj := f.childSubject()
			subj.BirthDate, subj.Trusted = tc.esia, tc.trusted
			d, err := f.svc.Check(ctx, f.t, subj)
			must(t, err)
			if d.Outcome != tc.want || d.AgeUnknown != tc.wantUnknown {
				t.Fatalf("outcome = %s (age %d, unknown %v), want %s (unknown %v)", d.Outcome, d.Age, d.AgeUnknown, tc.want, tc.wantUnknown)
			}
		})
	}
}

// regrantAfterClaim is the store as the destruction janitor sees it when a
// parent grants again between its claim of a record and the destruction:
// the grant runs right after ClaimWithdrawn returns.
type regrantAfterClaim struct {
	consent.Store
	grant func(ctx context.Context)
}

func (s regrantAfterClaim) ClaimWithdrawn(c context.Context, tenantID string, before time.Time, limit int) ([]store.ConsentRef, error) {
	refs, err := s.Store.ClaimWithdrawn(c, tenantID, before, limit)
	if len(refs) > 0 && s.grant != nil {
		s.grant(c)
	}
	return refs, err
}

// TestDestructionSparesANewGrant: a record the janitor claimed for
// destruction, whose parent grants again before it gets there, keeps the
// evidence of the new grant and its grantor; nothing is destroyed.
func TestDestructionSparesANewGrant(t *testing.T) {
	f := newFixture(t)
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
	must(t, f.svc.Revoke(ctx, f.t, f.mum, "s-1"))
	f.now = f.now.Add(31 * 24 * time.Hour)
	f.svc.Store = regrantAfterClaim{Store: f.st, grant: func(c context.Context) {
		_, _ = f.svc.Check(c, f.t, f.childSubject())
		must(t, f.svc.Decide(c, f.t, f.dad, "s-1", true))
	}}
	if _, err := f.svc.Sweep(ctx, f.st); err != nil {
		t.Fatal(err)
	}
	if g := f.granted(t); len(g) != 1 || g[0].GrantorOID != "2002" {
		t.Fatalf("the new consent: %+v", g)
	}
	ev, err := f.st.EvidenceOf(ctx, "t1", "s-1")
	must(t, err)
	for _, e := range ev {
		if e.Destroyed || e.Event == "destroyed" {
			t.Fatalf("evidence destroyed although the record was granted again: %+v", e)
		}
	}
}

// TestGrantSelfAgainIsANoOp: an adult's second acceptance of the text
// already consented to (a second tab, a double submit) records nothing
// more; an acceptance of another text supersedes the consent to the old.
func TestGrantSelfAgainIsANoOp(t *testing.T) {
	f := newFixture(t)
	adult := consent.Subject{TenantID: "t1", PersonID: "p-mum", OID: "2001", Name: "Иванова Мария", BirthDate: store.Date{Year: 1985, Month: 1, Day: 1}, Trusted: true}
	text := consent.TextFor(f.t, store.ConsentSelf)
	must(t, f.svc.GrantSelf(ctx, f.t, adult, text, true))
	must(t, f.svc.GrantSelf(ctx, f.t, adult, text, true))
	count := func() (granted, evidence, events int) {
		cs, err := f.st.ConsentsOf(ctx, "t1", "p-mum")
		must(t, err)
		for _, c := range cs {
			if c.Status == store.ConsentGranted {
				granted++
			}
		}
		ev, err := f.st.EvidenceOf(ctx, "t1", "p-mum")
		must(t, err)
		es, err := f.st.ListEvents(ctx, "t1", "", 0)
		must(t, err)
		for _, e := range es {
			if e.Type == "consent.granted" {
				events++
			}
		}
		return granted, len(ev), events
	}
	if g, ev, es := count(); g != 1 || ev != 1 || es != 1 {
		t.Fatalf("after two acceptances: %d granted, %d evidence, %d webhooks; want 1, 1, 1", g, ev, es)
	}
	f.t.Consent.TextVersion = "2"
	must(t, f.svc.GrantSelf(ctx, f.t, adult, consent.TextFor(f.t, store.ConsentSelf), true))
	cs, err := f.st.ConsentsOf(ctx, "t1", "p-mum")
	must(t, err)
	if len(cs) != 2 || cs[0].Status != store.ConsentGranted || cs[0].TextVersion != "2" || cs[1].Status != store.ConsentSuperseded {
		t.Fatalf("after accepting version 2: %+v", cs)
	}
}

// TestTextPerRole: one text per role — a teacher's lists no birth
// certificate and no family data, a person of two roles gets both lists
// once, a parental consent is about the child whatever the role; «в целях»
// is followed by the genitive, also for a tenant that keeps «ведение».
func TestTextPerRole(t *testing.T) {
	tn := store.Tenant{ID: "t1", DisplayName: "Дневник", OperatorName: "ГБУ", OperatorAddress: "Москва", Consent: store.DefaultConsentPolicy()}
	teacher := consent.TextForRole(tn, store.ConsentSelf, store.RoleTeacher)
	for _, bad := range []string{"свидетельства о рождении", "родственных", "детях"} {
		if strings.Contains(teacher.Body, bad) {
			t.Errorf("teacher's text names %q: %s", bad, teacher.Body)
		}
	}
	student := consent.TextForRole(tn, store.ConsentSelf, store.RoleStudent)
	if !strings.Contains(student.Body, "свидетельства о рождении") || student.Hash == teacher.Hash {
		t.Errorf("student's text: %s", student.Body)
	}
	both := consent.TextForRole(tn, store.ConsentSelf, store.RoleTeacher, store.RoleParent)
	if strings.Count(both.Body, "СНИЛС") != 1 || !strings.Contains(both.Body, "место работы") || !strings.Contains(both.Body, "сведения о детях") {
		t.Errorf("teacher and parent: %s", both.Body)
	}
	if p := consent.TextForRole(tn, store.ConsentParental, store.RoleTeacher); p.Hash != consent.TextFor(tn, store.ConsentParental).Hash {
		t.Errorf("a parental text depends on the parent's role")
	}
	if !strings.Contains(teacher.Body, "в целях ведения электронного дневника") || strings.Contains(teacher.Body, "Версия текста") {
		t.Errorf("wording: %s", teacher.Body)
	}
	old := tn
	old.Consent.Purpose = "ведение электронного дневника"
	if b := consent.TextFor(old, store.ConsentSelf).Body; !strings.Contains(b, "в целях ведения электронного дневника.") {
		t.Errorf("old purpose: %s", b)
	}
	for in, want := range map[string]string{"ведение журнала": "ведения журнала", "ведения журнала": "ведения журнала",
		"ведениеX": "ведениеX", "обучения": "обучения"} {
		if got := consent.PurposeAfterAim(in); got != want {
			t.Errorf("PurposeAfterAim(%q) = %q, want %q", in, got, want)
		}
	}
}
