package oauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// TestExchangeChecksTheLoginsBasis: a code whose login rested on a link
// and a consent becomes a grant only while both hold. Each case ends one
// of them the way a race would leave it — the row changed, the code not
// revoked (written after the revocation ran) — and the exchange is
// invalid_grant, writes no grant, and says so again when the code comes
// back; the person's next login, on what holds then, works. A code without a basis (issued before
// codes kept one) is exchanged as before. Memory and PostgreSQL.
func TestExchangeChecksTheLoginsBasis(t *testing.T) {
	const oid, record = "1000100001", "t-0001"
	cases := []struct {
		name  string
		end   func(t *testing.T, st store.Store, consentID string)
		basis bool
		fails bool
	}{
		{name: "all holds", basis: true},
		{name: "consent revoked", basis: true, fails: true, end: func(t *testing.T, st store.Store, id string) {
			must(t, st.EndConsent(context.Background(), "demo", id, store.ConsentRevoked, "", time.Now()))
		}},
		{name: "consent expired", basis: true, fails: true, end: func(t *testing.T, st store.Store, id string) {
			must(t, st.EndConsent(context.Background(), "demo", id, store.ConsentExpired, "term", time.Now()))
		}},
		{name: "link suspended", basis: true, fails: true, end: func(t *testing.T, st store.Store, _ string) {
			must(t, st.UpdateLink(context.Background(), store.Link{TenantID: "demo", ESIAOID: oid, ExternalID: record,
				Role: store.RoleTeacher, Rung: "snils", Status: store.LinkSuspended, Reason: "snils_changed"}))
		}},
		{name: "link removed", basis: true, fails: true, end: func(t *testing.T, st store.Store, _ string) {
			must(t, st.DeleteLink(context.Background(), "demo", oid, record))
		}},
		{name: "no basis, consent revoked", end: func(t *testing.T, st store.Store, id string) {
			must(t, st.EndConsent(context.Background(), "demo", id, store.ConsentRevoked, "", time.Now()))
		}},
	}
	for _, b := range backends {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				h := b.mk(t)
				ctx := context.Background()
				st := h.store
				must(t, st.UpsertPersons(ctx, "demo", []store.Person{{ExternalID: record, Role: store.RoleTeacher,
					LastName: "Иванова", FirstName: "Анна", BirthDate: store.Date{Year: 1985, Month: 3, Day: 14}}}))
				must(t, st.CreateLink(ctx, store.Link{TenantID: "demo", ESIAOID: oid, ExternalID: record, Role: store.RoleTeacher, Rung: "snils"}))
				grant := func(id string) {
					must(t, st.CreateConsent(ctx, store.Consent{ID: id, TenantID: "demo", PersonID: record, Kind: store.ConsentSelf,
						GrantorOID: oid, TextVersion: "1", TextHash: "9f86d081884c7d65", Status: store.ConsentGranted, GrantedAt: time.Now()}))
				}
				grant("consent-1")
				if tc.basis {
					h.basis = &oauth.Basis{ESIAOID: oid, ConsentID: "consent-1"}
				}
				v := oauth2.GenerateVerifier()
				code := h.code(t, v)
				if tc.end != nil {
					tc.end(t, st, "consent-1")
				}
				tok, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
				if !tc.fails {
					if err != nil {
						t.Fatalf("exchange: %v", err)
					}
					if tok.RefreshToken == "" {
						t.Fatal("no refresh token")
					}
					// The grant's session does not keep the code's basis.
					g, err := st.GetOAuthGrant(ctx, grantOf(t, tok.RefreshToken))
					must(t, err)
					if strings.Contains(string(g.Data), `"basis"`) {
						t.Fatalf("the grant's session keeps the basis: %s", g.Data)
					}
					return
				}
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "consent or the link") {
					t.Fatalf("exchange after the basis ended: %v, want invalid_grant naming the consent or the link", err)
				}
				// Presented again, the code is refused for the same reason.
				if _, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v)); !errors.As(err, &re) ||
					re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "consent or the link") {
					t.Fatalf("the refused code exchanged again: %v, want the same invalid_grant", err)
				}
				// No token was written: revoking the person finds none.
				if n, err := h.provider.RevokeSubject(ctx, "demo", "pairwise-sub"); err != nil || n != 0 {
					t.Fatalf("RevokeSubject after the refused exchange = %d, %v; want 0 tokens", n, err)
				}
				// With the link active again and a consent granted, the
				// person's next login works.
				if err := st.UpdateLink(ctx, store.Link{TenantID: "demo", ESIAOID: oid, ExternalID: record, Role: store.RoleTeacher,
					Rung: "snils", Status: store.LinkActive}); errors.Is(err, store.ErrNotFound) {
					must(t, st.CreateLink(ctx, store.Link{TenantID: "demo", ESIAOID: oid, ExternalID: record, Role: store.RoleTeacher, Rung: "snils"}))
				} else {
					must(t, err)
				}
				if cs, err := st.ConsentsOf(ctx, "demo", record); err != nil || cs[0].Status != store.ConsentGranted {
					grant("consent-2")
					h.basis = &oauth.Basis{ESIAOID: oid, ConsentID: "consent-2"}
				}
				v2 := oauth2.GenerateVerifier()
				if _, err := h.config().Exchange(ctx, h.code(t, v2), oauth2.VerifierOption(v2)); err != nil {
					t.Fatalf("the next login's exchange: %v", err)
				}
			})
		}
	}
}
