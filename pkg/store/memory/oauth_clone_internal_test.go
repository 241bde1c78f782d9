package memory

import (
	"context"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/diarybroker/broker/pkg/store"
)

// TestOAuthKeepsNoCallerMemory: the strings and bytes the store keeps of
// a record, a grant and a rotation are its own, not cut from the
// caller's buffers (a decoder's buffer would otherwise stay alive with
// them: issue 13's RSS after 100k logins rose 25 MB with goccy/go-json).
func TestOAuthKeepsNoCallerMemory(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	s := New(func() time.Time { return now })
	buf := strings.Repeat("x", 64) + "sig-1|req-1|diary|t-a|sub-1|succ|acc-1|ref-1|ref-2|acc-2"
	part := func(i int) string { return strings.Split(buf[64:], "|")[i] }
	// Substrings of buf share its memory, as a zero-copy decoder's do.
	at := func(i int) string {
		off := 64
		for j := 0; j < i; j++ {
			off += len(part(j)) + 1
		}
		return buf[off : off+len(part(i))]
	}
	inBuf := func(v string) bool {
		p, b := uintptr(unsafe.Pointer(unsafe.StringData(v))), uintptr(unsafe.Pointer(unsafe.StringData(buf)))
		return len(v) > 0 && p >= b && p < b+uintptr(len(buf))
	}
	if !inBuf(at(0)) {
		t.Fatal("the test's strings do not share the buffer")
	}
	err := s.ApplyOAuth(ctx, store.OAuthBatch{
		Grant: &store.OAuthGrant{RequestID: at(1), ClientID: at(2), TenantID: at(3), Subject: at(4), Data: []byte("{}"),
			ExpiresAt: now.Add(time.Hour), Access: at(6), Refresh: at(7), RefreshAt: now, RefreshExpiresAt: now.Add(time.Hour)},
		Create: []store.OAuthRecord{{Kind: store.OAuthCode, Signature: at(0), RequestID: at(1), ClientID: at(2), TenantID: at(3),
			Subject: at(4), Active: true, Data: []byte("{}"), ExpiresAt: now.Add(time.Hour)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every later write names the grant and the code with the caller's
	// strings too: a Go map that is assigned to an existing key takes the
	// key given.
	later := []store.OAuthBatch{
		{Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: at(0)}, Rotation: &store.OAuthRotation{At: now, Successor: at(5)},
			GrantRotation: &store.OAuthGrantRotation{RequestID: at(1), Presented: "ref-1", Refresh: at(8), Access: at(9), At: now,
				RefreshExpiresAt: now.Add(time.Hour), LastExpiry: now.Add(time.Hour)}},
		{GrantExpiry: &store.OAuthGrantExpiry{RequestID: at(1), At: now.Add(2 * time.Hour), Access: at(9)}},
		{Deactivate: []store.OAuthRequestRef{{Kind: store.OAuthCode, RequestID: at(1)}, {Kind: store.OAuthRefresh, RequestID: at(1)}}},
	}
	owned := func(after string) {
		t.Helper()
		for kind, recs := range s.oauth {
			for key, r := range recs {
				for _, v := range []string{key, r.Signature, r.RequestID, r.ClientID, r.TenantID, r.Subject, r.Successor} {
					if inBuf(v) {
						t.Errorf("after %s: %s record keeps %q in the caller's buffer", after, kind, v)
					}
				}
			}
		}
		if len(s.oauthGrants) != 1 {
			t.Fatalf("%d grants, want 1", len(s.oauthGrants))
		}
		for key, g := range s.oauthGrants {
			for _, v := range []string{key, g.RequestID, g.ClientID, g.TenantID, g.Subject, g.Access, g.Refresh} {
				if inBuf(v) {
					t.Errorf("after %s: grant keeps %q in the caller's buffer", after, v)
				}
			}
		}
	}
	owned("the authorization")
	for i, b := range later {
		if err := s.ApplyOAuth(ctx, b); err != nil {
			t.Fatal(err)
		}
		owned([]string{"the rotation", "the expiry", "the revocation"}[i])
	}
	if g := s.oauthGrants["req-1"]; g.Refresh != "ref-2" || g.Access != "acc-2" || g.RevokedAt.IsZero() {
		t.Fatalf("grant after rotation and revocation: refresh %q, access %q, revoked %v", g.Refresh, g.Access, g.RevokedAt)
	}
}
