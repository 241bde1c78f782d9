package consent_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// openRequest is the child's open request, or nil.
func (f *fixture) openRequest(t *testing.T) *store.ConsentRequest {
	t.Helper()
	r, err := f.st.OpenRequestOf(ctx, "t1", "s-1")
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	must(t, err)
	return &r
}

// TestDecideNeverOpensARequest: only the child's login asks the parents.
// A parent's answer finds the open request or none; no stray request is
// left to expire later with a spurious consent.expired.
func TestDecideNeverOpensARequest(t *testing.T) {
	tests := []struct {
		name string
		// loggedIn: the child tried to log in first (a request is open).
		loggedIn bool
		steps    func(t *testing.T, f *fixture) error
		wantErr  error
		granted  int
		events   map[string]int
	}{
		{"decline, the child never tried", false,
			func(t *testing.T, f *fixture) error { return f.svc.Decide(ctx, f.t, f.mum, "s-1", false) },
			consent.ErrNoRequest, 0, map[string]int{}},
		{"grant, the child never tried", false,
			func(t *testing.T, f *fixture) error { return f.svc.Decide(ctx, f.t, f.mum, "s-1", true) },
			nil, 1, map[string]int{"consent.granted": 1}},
		{"grant after the other parent's", true,
			func(t *testing.T, f *fixture) error {
				must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
				return f.svc.Decide(ctx, f.t, f.dad, "s-1", true)
			},
			nil, 1, map[string]int{"consent.requested": 1, "consent.granted": 1}},
		{"decline after the other parent's grant", true,
			func(t *testing.T, f *fixture) error {
				must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
				return f.svc.Decide(ctx, f.t, f.dad, "s-1", false)
			},
			consent.ErrNoRequest, 1, map[string]int{"consent.requested": 1, "consent.granted": 1}},
		{"decline, then the other parent grants", true,
			func(t *testing.T, f *fixture) error {
				must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", false))
				return f.svc.Decide(ctx, f.t, f.dad, "s-1", true)
			},
			nil, 1, map[string]int{"consent.requested": 1, "consent.denied": 1, "consent.granted": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.loggedIn {
				_, err := f.svc.Check(ctx, f.t, f.childSubject())
				must(t, err)
			}
			if err := tc.steps(t, f); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if r := f.openRequest(t); r != nil {
				t.Fatalf("a request is open: %+v", r)
			}
			if g := f.granted(t); len(g) != tc.granted {
				t.Fatalf("%d consents granted, want %d", len(g), tc.granted)
			}
			// Long after, the janitor finds nothing to expire.
			f.now = f.now.AddDate(0, 2, 0)
			_, err := f.svc.Sweep(ctx, f.st)
			must(t, err)
			if got := f.eventTypes(t); !reflect.DeepEqual(got, tc.events) {
				t.Fatalf("events = %v, want %v", got, tc.events)
			}
		})
	}
}

// TestParentActsOnAnExpiredRequest: once the request is past its time —
// swept already or not yet — a decline records nothing (ErrNoRequest), a
// grant still makes the consent, and the request is expired exactly once.
func TestParentActsOnAnExpiredRequest(t *testing.T) {
	for _, swept := range []bool{true, false} {
		for _, accept := range []bool{true, false} {
			name := map[bool]string{true: "grant", false: "decline"}[accept] + map[bool]string{true: " after the sweep", false: " before the sweep"}[swept]
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				f.t.Consent.RequestDays = 7
				must(t, f.st.UpdateTenant(ctx, f.t))
				d, err := f.svc.Check(ctx, f.t, f.childSubject())
				must(t, err)
				f.now = f.now.AddDate(0, 0, 8)
				if swept {
					_, err := f.svc.Sweep(ctx, f.st)
					must(t, err)
				}
				err = f.svc.Decide(ctx, f.t, f.mum, "s-1", accept)
				want := map[string]int{"consent.requested": 1, "consent.expired": 1}
				if accept {
					must(t, err)
					want["consent.granted"] = 1
				} else if !errors.Is(err, consent.ErrNoRequest) {
					t.Fatalf("decline: err = %v", err)
				}
				r, err := f.st.GetRequest(ctx, "t1", d.Request.ID)
				must(t, err)
				if r.Status != store.RequestExpired || len(r.Declines) != 0 {
					t.Fatalf("request = %+v", r)
				}
				if f.openRequest(t) != nil {
					t.Fatal("a new request was opened")
				}
				_, err = f.svc.Sweep(ctx, f.st)
				must(t, err)
				if got := f.eventTypes(t); !reflect.DeepEqual(got, want) {
					t.Fatalf("events = %v, want %v", got, want)
				}
				wantOutcome := consent.NeedsParental
				if accept {
					wantOutcome = consent.Allowed
				}
				if d, _ := f.svc.Check(ctx, f.t, f.childSubject()); d.Outcome != wantOutcome {
					t.Fatalf("the child then: %s", d.Outcome)
				}
			})
		}
	}
}

// TestGrantOfANewTextSupersedesTheOld: a parent granting again after the
// text changed leaves exactly one granted consent, so a revocation ends it.
func TestGrantOfANewTextSupersedesTheOld(t *testing.T) {
	f := newFixture(t)
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
	f.t.Consent.TextVersion = "2"
	must(t, f.svc.Decide(ctx, f.t, f.dad, "s-1", true))
	g := f.granted(t)
	if len(g) != 1 || g[0].TextVersion != "2" {
		t.Fatalf("granted = %+v", g)
	}
	must(t, f.svc.Revoke(ctx, f.t, f.dad, "s-1"))
	if len(f.granted(t)) != 0 {
		t.Fatal("a consent survived the revocation")
	}
}

// TestDestructionInBatchesPerTenant: every due record of every tenant is
// destroyed in one run, past any batch size, whatever other tenants with
// longer periods have waiting; the ESIA oids beside the evidence go too.
func TestDestructionInBatchesPerTenant(t *testing.T) {
	f := newFixture(t)
	long := store.Tenant{ID: "t2", DisplayName: "Другой дневник", TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy()}
	long.Consent.DestroyAfterDay = 365
	must(t, f.st.CreateTenant(ctx, long))
	withdraw := func(tenantID string, i int, at time.Time) string {
		id := fmt.Sprintf("x-%03d", i)
		must(t, f.st.CreateConsent(ctx, store.Consent{ID: tenantID + id, TenantID: tenantID, PersonID: id, Kind: store.ConsentSelf,
			GrantorOID: "4000", TextVersion: "1", Status: store.ConsentGranted, GrantedAt: at.Add(-time.Hour)}))
		must(t, f.st.EndConsent(ctx, tenantID, tenantID+id, store.ConsentRevoked, "test", at))
		must(t, f.st.AppendEvidence(ctx, store.Evidence{TenantID: tenantID, PersonID: id, Event: "granted", At: at.Add(-time.Hour),
			Details: store.EvidenceDetails{GrantorOID: "4000", GrantorName: "Петров Пётр"}}))
		return id
	}
	for i := range 600 { // withdrawn first, kept a year
		withdraw("t2", i, f.now.Add(-time.Duration(600-i)*time.Minute))
	}
	var due []string
	for i := range 250 {
		due = append(due, withdraw("t1", i, f.now))
	}
	// The parental flow leaves oids on the consent and the request.
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", false))
	must(t, f.svc.Decide(ctx, f.t, f.dad, "s-1", true))
	must(t, f.svc.Revoke(ctx, f.t, f.dad, "s-1"))
	due = append(due, "s-1")

	f.now = f.now.AddDate(0, 0, 31)
	n, err := f.svc.Sweep(ctx, f.st)
	must(t, err)
	if n != len(due) {
		t.Fatalf("swept %d, want %d", n, len(due))
	}
	for _, id := range due {
		for _, e := range evidenceOf(t, f, "t1", id) {
			if e.Event != "destroyed" && !e.Destroyed {
				t.Fatalf("%s: evidence %d kept", id, e.ID)
			}
		}
		cs, err := f.st.ConsentsOf(ctx, "t1", id)
		must(t, err)
		if cs[0].GrantorOID != "" {
			t.Fatalf("%s: grantor oid kept: %+v", id, cs[0])
		}
	}
	cs, _ := f.st.ConsentsOf(ctx, "t1", "s-1")
	r, err := f.st.GetRequest(ctx, "t1", cs[0].RequestID)
	must(t, err)
	if r.ChildOID != "" || len(r.Declines) != 1 || r.Declines[0].GrantorOID != "" || r.Declines[0].ParentRecord != "p-mum" {
		t.Fatalf("request after destruction: %+v", r)
	}
	if ev := evidenceOf(t, f, "t2", "x-000"); ev[0].Destroyed {
		t.Fatal("destroyed before its tenant's period")
	}
	if n, err := f.svc.Sweep(ctx, f.st); err != nil || n != 0 {
		t.Fatalf("a second run: %d, %v", n, err)
	}
}

func evidenceOf(t *testing.T, f *fixture, tenantID, personID string) []store.Evidence {
	t.Helper()
	ev, err := f.st.EvidenceOf(ctx, tenantID, personID)
	must(t, err)
	if len(ev) == 0 {
		t.Fatalf("%s/%s: no evidence", tenantID, personID)
	}
	return ev
}
