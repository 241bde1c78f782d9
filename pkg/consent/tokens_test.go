package consent_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// pairwise names a person to a tenant as the broker would, for the tests.
type pairwise struct{}

func (pairwise) Subject(tenantID, oid string) string { return "sub-" + tenantID + "-" + oid }

// flakyTokens revokes through the store, failing the first fail calls —
// before revoking, or after (failAfter), as a lost connection would.
type flakyTokens struct {
	st        *fixture
	fail      int
	failAfter bool
}

var errInjected = errors.New("injected failure")

func (f *flakyTokens) RevokeSubject(c context.Context, tenantID, subject string) (int, error) {
	if f.fail > 0 && !f.failAfter {
		f.fail--
		return 0, errInjected
	}
	n, err := f.st.st.RevokeOAuthSubject(c, tenantID, subject)
	if f.fail > 0 {
		f.fail--
		return 0, errInjected
	}
	return n, err
}

// withTokens links the child's ESIA account to its record and gives it a
// live refresh token at the diary.
func (f *fixture) withTokens(t *testing.T, tokens *flakyTokens) {
	t.Helper()
	tokens.st = f
	f.svc.Tokens, f.svc.Subjects = tokens, pairwise{}
	must(t, f.st.CreateLink(ctx, store.Link{TenantID: "t1", ESIAOID: "3001", ExternalID: "s-1", Role: store.RoleStudent,
		Status: store.LinkActive, CreatedAt: f.now, UpdatedAt: f.now}))
	must(t, f.st.CreateOAuthRecord(ctx, store.OAuthRecord{Kind: store.OAuthRefresh, Signature: "rt-1", RequestID: "req-1",
		ClientID: "diary", TenantID: "t1", Subject: pairwise{}.Subject("t1", "3001"), Active: true, CreatedAt: f.now,
		ExpiresAt: f.now.AddDate(1, 0, 0)}))
}

func (f *fixture) tokenActive(t *testing.T) bool {
	t.Helper()
	r, err := f.st.GetOAuthRecord(ctx, store.OAuthRefresh, "rt-1")
	if err != nil && !errors.Is(err, store.ErrInactive) {
		t.Fatal(err)
	}
	return r.Active
}

func (f *fixture) eventTypes(t *testing.T) map[string]int {
	t.Helper()
	evs, err := f.st.ListEvents(ctx, "t1", "", 1000)
	must(t, err)
	out := map[string]int{}
	for _, e := range evs {
		out[e.Type]++
	}
	return out
}

// TestTokenRevocationIsNotLost: a consent ends (a parent's revocation, the
// janitor's expiry, or an expiry noticed at login) together with the
// revocation of the child's tokens. When revoking fails — before or after
// the tokens were touched — the consent stays granted and nothing is
// reported, so that the retry revokes them; no ending leaves live tokens.
func TestTokenRevocationIsNotLost(t *testing.T) {
	endings := []struct {
		name  string
		event string
		end   func(f *fixture) error
	}{
		{"parent revokes", "consent.revoked", func(f *fixture) error { return f.svc.Revoke(ctx, f.t, f.mum, "s-1") }},
		{"janitor expires", "consent.expired", func(f *fixture) error {
			f.now = f.now.AddDate(0, 0, 31)
			_, err := f.svc.Sweep(ctx, f.st)
			return err
		}},
		{"login notices the expiry", "consent.expired", func(f *fixture) error {
			f.now = f.now.AddDate(0, 0, 31)
			_, err := f.svc.Check(ctx, f.t, f.childSubject())
			return err
		}},
	}
	for _, e := range endings {
		for _, failAfter := range []bool{false, true} {
			name := e.name + "/fails before revoking"
			if failAfter {
				name = e.name + "/fails after revoking"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				f.t.Consent.TermDays = 30
				must(t, f.st.UpdateTenant(ctx, f.t))
				tokens := &flakyTokens{failAfter: failAfter}
				f.withTokens(t, tokens)
				_, err := f.svc.Check(ctx, f.t, f.childSubject())
				must(t, err)
				must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))

				tokens.fail = 1
				if err := e.end(f); !errors.Is(err, errInjected) {
					t.Fatalf("with a failing revocation: err = %v", err)
				}
				if len(f.granted(t)) != 1 || !f.tokenActive(t) || f.eventTypes(t)[e.event] != 0 {
					t.Fatalf("a failed ending left granted=%d token=%v events=%v", len(f.granted(t)), f.tokenActive(t), f.eventTypes(t))
				}
				must(t, e.end(f)) // the retry
				if len(f.granted(t)) != 0 || f.tokenActive(t) || f.eventTypes(t)[e.event] != 1 {
					t.Fatalf("after the retry: granted=%d token=%v events=%v", len(f.granted(t)), f.tokenActive(t), f.eventTypes(t))
				}
				if d, _ := f.svc.Check(ctx, f.t, f.childSubject()); d.Outcome != consent.NeedsParental {
					t.Fatalf("the child after the ending: %s", d.Outcome)
				}
			})
		}
	}
}

// TestExpiryBlocksTheChildAndRevokesTokens: past the term the janitor
// expires the consent, the diary hears of it, the token is dead, and the
// child is asked for a parent's consent again.
func TestExpiryBlocksTheChildAndRevokesTokens(t *testing.T) {
	f := newFixture(t)
	f.t.Consent.TermDays = 365
	must(t, f.st.UpdateTenant(ctx, f.t))
	f.withTokens(t, &flakyTokens{})
	_, _ = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, f.svc.Decide(ctx, f.t, f.dad, "s-1", true))
	f.now = f.now.Add(364 * 24 * time.Hour)
	if d, _ := f.svc.Check(ctx, f.t, f.childSubject()); d.Outcome != consent.Allowed || !f.tokenActive(t) {
		t.Fatalf("within the term: %s, token %v", d.Outcome, f.tokenActive(t))
	}
	f.now = f.now.Add(2 * 24 * time.Hour)
	n, err := f.svc.Sweep(ctx, f.st)
	must(t, err)
	if n != 1 || f.tokenActive(t) || f.eventTypes(t)["consent.expired"] != 1 {
		t.Fatalf("sweep %d, token %v, events %v", n, f.tokenActive(t), f.eventTypes(t))
	}
	d, err := f.svc.Check(ctx, f.t, f.childSubject())
	must(t, err)
	if d.Outcome != consent.NeedsParental || d.Request == nil {
		t.Fatalf("after expiry: %+v", d)
	}
}
