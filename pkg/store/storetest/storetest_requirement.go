package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// testOAuthRequirement: an exchange's batch is applied while the link and
// the consent its requirement names hold, in its own tenant; once either
// has ended — the consent revoked or expired, the link suspended or
// removed — the batch fails with ErrUnmet and writes nothing, its gate
// included. Another tenant's link and consent never stand in.
func testOAuthRequirement(t *testing.T, s store.Store) {
	for _, id := range []string{"t1", "t2"} {
		mkTenant(t, s, id)
		must(t, s.UpsertPersons(ctx(), id, []store.Person{mkPerson("s-1", store.RoleStudent, "112-233-445 95")}))
		must(t, s.CreateLink(ctx(), store.Link{TenantID: id, ESIAOID: "1000", ExternalID: "s-1", Role: store.RoleStudent, Rung: "snils"}))
		c := mkConsent("c-"+id, id, "s-1", base)
		c.Status = store.ConsentGranted
		must(t, s.CreateConsent(ctx(), c))
	}
	// s-2 in t1: linked too, its own consent granted but past its term
	// (not yet swept); c-other is s-2's consent, granted until next year.
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("s-2", store.RoleStudent, "112-233-446 96")}))
	must(t, s.CreateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "s-2", Role: store.RoleStudent, Rung: "snils"}))
	past := mkConsent("c-past", "t1", "s-2", base)
	past.Status, past.ExpiresAt = store.ConsentGranted, base.Add(time.Hour)
	must(t, s.CreateConsent(ctx(), past))
	other := mkConsent("c-other", "t1", "s-2", base)
	other.Status, other.Kind, other.ExpiresAt = store.ConsentGranted, store.ConsentParental, time.Now().AddDate(1, 0, 0)
	must(t, s.CreateConsent(ctx(), other))
	req := store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000", PersonID: "s-1", ConsentID: "c-t1"}
	n := 0
	exchange := func(r store.OAuthRequirement) error {
		n++
		code := rec(store.OAuthCode, "code-"+string(rune('a'+n)), "req-"+string(rune('a'+n)))
		must(t, s.CreateOAuthRecord(ctx(), code))
		err := s.ApplyOAuth(ctx(), store.OAuthBatch{
			Require: &r,
			Gate:    &store.OAuthRef{Kind: store.OAuthCode, Signature: code.Signature},
			Grant: &store.OAuthGrant{RequestID: code.RequestID, ClientID: "diary", TenantID: "t1", Subject: "sub-1",
				Data: []byte(`{"x":1}`), CreatedAt: base, ExpiresAt: base.Add(24 * time.Hour)},
		})
		if err != nil {
			// Nothing was written: the code is still active, no grant.
			if _, gerr := s.GetOAuthRecord(ctx(), store.OAuthCode, code.Signature); gerr != nil {
				t.Fatalf("after a failed batch the code reads %v, want active", gerr)
			}
			if _, gerr := s.GetOAuthGrant(ctx(), code.RequestID); !errors.Is(gerr, store.ErrNotFound) {
				t.Fatalf("after a failed batch the grant reads %v, want ErrNotFound", gerr)
			}
		}
		return err
	}
	must(t, exchange(req))
	must(t, exchange(store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000", PersonID: "s-2", ConsentID: "c-other"}))
	for _, tc := range []struct {
		name string
		r    store.OAuthRequirement
	}{
		{"another tenant's consent", store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000", PersonID: "s-1", ConsentID: "c-t2"}},
		{"another tenant's link", store.OAuthRequirement{TenantID: "t2", ESIAOID: "1000", PersonID: "s-1", ConsentID: "c-t1"}},
		{"another person's link", store.OAuthRequirement{TenantID: "t1", ESIAOID: "2000", PersonID: "s-1", ConsentID: "c-t1"}},
		{"no such consent", store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000", PersonID: "s-1", ConsentID: "c-none"}},
		{"empty keys", store.OAuthRequirement{TenantID: "t1", PersonID: "s-1"}},
		{"a key no store keeps", store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000\x00", PersonID: "s-1", ConsentID: "c-t1"}},
		{"another record's consent", store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000", PersonID: "s-1", ConsentID: "c-other"}},
		{"a consent past its term", store.OAuthRequirement{TenantID: "t1", ESIAOID: "1000", PersonID: "s-2", ConsentID: "c-past"}},
	} {
		if err := exchange(tc.r); !errors.Is(err, store.ErrUnmet) {
			t.Fatalf("%s: ApplyOAuth = %v, want ErrUnmet", tc.name, err)
		}
	}

	// The link suspended, then active again; then the consent ended.
	l := store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "s-1", Role: store.RoleStudent, Rung: "snils",
		Status: store.LinkSuspended, Reason: "snils_changed"}
	must(t, s.UpdateLink(ctx(), l))
	wantErr(t, exchange(req), store.ErrUnmet)
	l.Status, l.Reason = store.LinkActive, ""
	must(t, s.UpdateLink(ctx(), l))
	must(t, exchange(req))
	must(t, s.EndConsent(ctx(), "t1", "c-t1", store.ConsentRevoked, "", base.Add(time.Hour)))
	wantErr(t, exchange(req), store.ErrUnmet)

	// t2's link removed: its requirement fails too, t1's state is its own.
	req2 := store.OAuthRequirement{TenantID: "t2", ESIAOID: "1000", PersonID: "s-1", ConsentID: "c-t2"}
	must(t, exchange(req2))
	must(t, s.DeleteLink(ctx(), "t2", "1000", "s-1"))
	wantErr(t, exchange(req2), store.ErrUnmet)
}
