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
	err = s.ApplyOAuth(ctx, store.OAuthBatch{
		Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: "sig-1"}, Rotation: &store.OAuthRotation{At: now, Successor: at(5)},
		GrantRotation: &store.OAuthGrantRotation{RequestID: "req-1", Presented: "ref-1", Refresh: at(8), Access: at(9), At: now,
			RefreshExpiresAt: now.Add(time.Hour), LastExpiry: now.Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for kind, recs := range s.oauth {
		for key, r := range recs {
			for _, v := range []string{key, r.Signature, r.RequestID, r.ClientID, r.TenantID, r.Subject, r.Successor} {
				if inBuf(v) {
					t.Errorf("%s record keeps %q in the caller's buffer", kind, v)
				}
			}
		}
	}
	if len(s.oauthGrants) != 1 {
		t.Fatalf("%d grants, want 1", len(s.oauthGrants))
	}
	for key, g := range s.oauthGrants {
		if g.Refresh != "ref-2" || g.Access != "acc-2" {
			t.Fatalf("grant after rotation: refresh %q, access %q", g.Refresh, g.Access)
		}
		for _, v := range []string{key, g.RequestID, g.ClientID, g.TenantID, g.Subject, g.Access, g.Refresh} {
			if inBuf(v) {
				t.Errorf("grant keeps %q in the caller's buffer", v)
			}
		}
	}
}
