package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// heldGrant is a grant that keeps its live refresh token (key rt-0),
// written as a code exchange writes it: no refresh token row.
func heldGrant(req, tenant, subject string, now time.Time) *store.OAuthGrant {
	return &store.OAuthGrant{RequestID: req, ClientID: "diary", TenantID: tenant, Subject: subject, Data: []byte(`{"session":"claims"}`),
		CreatedAt: now, ExpiresAt: now.Add(33 * 24 * time.Hour), Access: "nonce-0",
		Refresh: "rt-0", RefreshAt: now, RefreshExpiresAt: now.Add(30 * 24 * time.Hour)}
}

// rotate is the rotation of the grant's refresh token presented into next.
func rotate(req, presented, next string, at time.Time) *store.OAuthGrantRotation {
	return &store.OAuthGrantRotation{RequestID: req, Presented: presented, Refresh: next, At: at,
		RefreshExpiresAt: at.Add(30 * 24 * time.Hour), Access: "nonce-" + next,
		LastExpiry: at.Add(30 * 24 * time.Hour), ExpiresAt: at.Add(33 * 24 * time.Hour)}
}

// testOAuthGrantRefresh: a grant keeps its live refresh token; a rotation
// succeeds only for the live one, moves the grant's expiry on only when
// its last token outlives it, and fails whole otherwise.
func testOAuthGrantRefresh(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: heldGrant("g1", "t1", "sub-1", now)}))
	g, err := s.GetOAuthGrant(ctx(), "g1")
	must(t, err)
	if g.Refresh != "rt-0" || !g.RefreshAt.Equal(now) || !g.RefreshExpiresAt.Equal(now.Add(30*24*time.Hour)) || !g.RevokedAt.IsZero() {
		t.Fatalf("a grant that keeps its refresh token: %+v", g)
	}
	if _, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a kept refresh token has a row: %v", err)
	}

	later := now.Add(time.Hour)
	tests := []struct {
		name string
		b    store.OAuthBatch
		want error
		// refresh is the grant's live key after the batch, expires its
		// expiry (zero: unchanged from the one before).
		refresh string
		expires time.Time
	}{
		{"the live token rotates; the grant's expiry, later, stays", store.OAuthBatch{GrantRotation: rotate("g1", "rt-0", "rt-1", later)},
			nil, "rt-1", time.Time{}},
		{"the rotated one again: inactive", store.OAuthBatch{GrantRotation: rotate("g1", "rt-0", "rt-x", later)},
			store.ErrInactive, "rt-1", time.Time{}},
		{"a grant's legacy gate ('') on a grant that keeps one: inactive", store.OAuthBatch{GrantRotation: rotate("g1", "", "rt-x", later)},
			store.ErrInactive, "rt-1", time.Time{}},
		{"a failed rotation writes nothing else in its batch", store.OAuthBatch{GrantRotation: rotate("g1", "rt-0", "rt-x", later),
			Create: []store.OAuthRecord{rec(store.OAuthAccess, "a-x", "g1")}},
			store.ErrInactive, "rt-1", time.Time{}},
		{"a grant that is gone: not found", store.OAuthBatch{GrantRotation: rotate("no-such-grant", "rt-0", "rt-x", later)},
			store.ErrNotFound, "rt-1", time.Time{}},
		{"a rotation whose last token outlives the grant moves its expiry to ExpiresAt",
			store.OAuthBatch{GrantRotation: rotate("g1", "rt-1", "rt-2", now.Add(4*24*time.Hour))},
			nil, "rt-2", now.Add(37 * 24 * time.Hour)},
		{"an ExpiresAt before LastExpiry: LastExpiry", store.OAuthBatch{GrantRotation: &store.OAuthGrantRotation{RequestID: "g1",
			Presented: "rt-2", Refresh: "rt-3", At: now.Add(40 * 24 * time.Hour), RefreshExpiresAt: now.Add(70 * 24 * time.Hour),
			LastExpiry: now.Add(70 * 24 * time.Hour)}},
			nil, "rt-3", now.Add(70 * 24 * time.Hour)},
	}
	expires := g.ExpiresAt
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ApplyOAuth(ctx(), tc.b)
			if tc.want == nil {
				must(t, err)
			} else {
				wantErr(t, err, tc.want)
			}
			g, err := s.GetOAuthGrant(ctx(), "g1")
			must(t, err)
			if !tc.expires.IsZero() {
				expires = tc.expires
			}
			if g.Refresh != tc.refresh || !g.ExpiresAt.Equal(expires) {
				t.Fatalf("after the batch: refresh %q expires %v, want %q %v", g.Refresh, g.ExpiresAt, tc.refresh, expires)
			}
			if r := tc.b.GrantRotation; tc.want == nil && (!g.RefreshAt.Equal(r.At) || !g.RefreshExpiresAt.Equal(r.RefreshExpiresAt)) {
				t.Fatalf("the new token's times: %v %v, want %v %v", g.RefreshAt, g.RefreshExpiresAt, r.At, r.RefreshExpiresAt)
			}
			if _, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, "a-x"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a failed batch wrote a record: %v", err)
			}
		})
	}
	if g, err := s.GetOAuthGrant(ctx(), "g1"); err != nil || g.Access != "nonce-rt-2" {
		t.Fatalf("a rotation without Access changed the grant's access token: %q, %v", g.Access, err)
	}

	// Revocation (RFC 7009 of the refresh token, reuse, code replay):
	// the grant's live token fails its rotation, inactive.
	must(t, s.DeactivateOAuthRequest(ctx(), store.OAuthRefresh, "g1"))
	g, err = s.GetOAuthGrant(ctx(), "g1")
	must(t, err)
	if g.RevokedAt.IsZero() || g.ExpiresAt.After(time.Now()) {
		t.Fatalf("a revoked grant: revoked %v expires %v", g.RevokedAt, g.ExpiresAt)
	}
	wantErr(t, s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: rotate("g1", "rt-3", "rt-4", later)}), store.ErrInactive)
	// So in a batch that revokes it (Deactivate) before: fosite's reuse.
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: heldGrant("g2", "t1", "sub-1", now)}))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Deactivate: []store.OAuthRequestRef{{Kind: store.OAuthRefresh, RequestID: "g2"}}}))
	wantErr(t, s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: rotate("g2", "rt-0", "rt-1", later)}), store.ErrInactive)

	// Strings are checked at the boundary.
	for _, r := range []*store.OAuthGrantRotation{
		{RequestID: "g1", Presented: "rt-0"},
		{Presented: "rt-0", Refresh: "x"},
		{RequestID: "g1", Presented: "rt\n0", Refresh: "x"},
		{RequestID: "g1", Presented: "rt-0", Refresh: "x\x00"},
	} {
		var fe *store.FieldError
		if err := s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: r}); !errors.As(err, &fe) {
			t.Errorf("rotation %+v: %v, want a field error", r, err)
		}
	}
	bad := heldGrant("g-bad", "t1", "sub-1", now)
	bad.Refresh = "a\nb"
	var fe *store.FieldError
	if err := s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: bad}); !errors.As(err, &fe) {
		t.Errorf("a grant with a bad refresh key: %v", err)
	}
}

// testOAuthGrantRefreshRace: many rotations of one kept refresh token at
// once: exactly one wins, the others find it rotated (ErrInactive).
func testOAuthGrantRefreshRace(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: heldGrant("g1", "t1", "sub-1", now)}))
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: rotate("g1", "rt-0", fmt.Sprintf("rt-%d", i+1), now)})
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		switch {
		case err == nil && winner == "":
			winner = fmt.Sprintf("rt-%d", i+1)
		case err == nil:
			t.Fatalf("two rotations won (%s and rt-%d)", winner, i+1)
		case !errors.Is(err, store.ErrInactive):
			t.Fatalf("a losing rotation: %v, want ErrInactive", err)
		}
	}
	if winner == "" {
		t.Fatal("no rotation won")
	}
	if g, err := s.GetOAuthGrant(ctx(), "g1"); err != nil || g.Refresh != winner {
		t.Fatalf("the grant's live token %q, %v, want the winner's %q", g.Refresh, err, winner)
	}
}

// testOAuthGrantRefreshLegacy: a refresh token with a row (written before
// grants kept them) rotates into its grant — the row gated (removed, or
// kept as rotated) and the grant's key set — and a token with a full row
// and no grant yet rotates into a new grant that keeps its successor.
func testOAuthGrantRefreshLegacy(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	slim := store.OAuthRecord{Kind: store.OAuthRefresh, Signature: "row-rg", RequestID: "g1", ClientID: "diary", TenantID: "t1",
		Active: true, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	g := heldGrant("g1", "t1", "sub-1", now)
	g.Refresh, g.RefreshAt, g.RefreshExpiresAt = "", time.Time{}, time.Time{}
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: g, Create: []store.OAuthRecord{slim}}))
	if g, err := s.GetOAuthGrant(ctx(), "g1"); err != nil || g.Refresh != "" || !g.RefreshAt.IsZero() || !g.RefreshExpiresAt.IsZero() {
		t.Fatalf("a grant whose refresh tokens have rows: %+v, %v", g, err)
	}
	legacy := func(sig string, remove bool, next string) store.OAuthBatch {
		return store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: sig},
			Rotation:      &store.OAuthRotation{At: now, Successor: next, Remove: remove},
			GrantRotation: rotate("g1", "", next, now)}
	}
	must(t, s.ApplyOAuth(ctx(), legacy("row-rg", true, "rt-1")))
	if g, err := s.GetOAuthGrant(ctx(), "g1"); err != nil || g.Refresh != "rt-1" {
		t.Fatalf("after a legacy token's rotation the grant keeps %q, %v", g.Refresh, err)
	}
	if _, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "row-rg"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the rotated legacy row: %v, want removed", err)
	}
	// The same legacy token again: its gate is gone, and the grant keeps
	// another token: the batch fails (inactive: the grant's gate first).
	wantErr(t, s.ApplyOAuth(ctx(), legacy("row-rg", true, "rt-x")), store.ErrInactive)
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: rotate("g1", "rt-1", "rt-2", now)}))

	// A second legacy row on a grant that keeps no token, whose row
	// gate fails: the grant is left as it was.
	g2 := heldGrant("g2", "t1", "sub-1", now)
	g2.Refresh = ""
	rt := rec(store.OAuthRefresh, "row-rt", "g2")
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: g2, Create: []store.OAuthRecord{rt}}))
	must(t, s.DeactivateOAuthRecord(ctx(), store.OAuthRefresh, "row-rt"))
	b := legacy("row-rt", false, "rt-1")
	b.GrantRotation.RequestID = "g2"
	wantErr(t, s.ApplyOAuth(ctx(), b), store.ErrInactive)
	if g, err := s.GetOAuthGrant(ctx(), "g2"); err != nil || g.Refresh != "" {
		t.Fatalf("a failed legacy rotation set the grant's token %q, %v", g.Refresh, err)
	}

	// A fosite token with a full row and no grant: its rotation writes the
	// grant, which keeps the successor; the row stays, rotated.
	full := rec(store.OAuthRefresh, "row-full", "g3")
	must(t, s.CreateOAuthRecord(ctx(), full))
	g3 := heldGrant("g3", "t1", "sub-1", now)
	g3.Refresh = "rt-1"
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "row-full"},
		Rotation: &store.OAuthRotation{At: now, Successor: "rt-1"}, Grant: g3}))
	r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "row-full")
	wantErr(t, err, store.ErrInactive)
	if r.Successor != "rt-1" {
		t.Fatalf("the rotated full row names %q", r.Successor)
	}
	if g, err := s.GetOAuthGrant(ctx(), "g3"); err != nil || g.Refresh != "rt-1" {
		t.Fatalf("the new grant keeps %q, %v", g.Refresh, err)
	}
}

// testOAuthGrantRefreshRevokeSubject: logout and consent withdrawal
// revoke the grants that keep their refresh token, and count those live.
func testOAuthGrantRefreshRevokeSubject(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	expired := heldGrant("g-expired", "t1", "sub-1", now.Add(-40*24*time.Hour))
	for _, g := range []*store.OAuthGrant{heldGrant("g1", "t1", "sub-1", now), heldGrant("g2", "t1", "sub-1", now), expired,
		heldGrant("g-other", "t1", "sub-2", now), heldGrant("g-t2", "t2", "sub-1", now)} {
		must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: g}))
	}
	must(t, s.DeactivateOAuthRequest(ctx(), store.OAuthRefresh, "g2")) // revoked before: not counted again
	n, err := s.RevokeOAuthSubject(ctx(), "t1", "sub-1")
	must(t, err)
	if n != 1 {
		t.Fatalf("RevokeOAuthSubject = %d, want 1 (g1's live refresh token)", n)
	}
	for _, c := range []struct {
		grant   string
		revoked bool
	}{{"g1", true}, {"g2", true}, {"g-expired", true}, {"g-other", false}, {"g-t2", false}} {
		g, err := s.GetOAuthGrant(ctx(), c.grant)
		must(t, err)
		if !g.RevokedAt.IsZero() != c.revoked {
			t.Errorf("%s: revoked at %v, want revoked %v", c.grant, g.RevokedAt, c.revoked)
		}
	}
	wantErr(t, s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: rotate("g1", "rt-0", "rt-1", now)}), store.ErrInactive)
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{GrantRotation: rotate("g-other", "rt-0", "rt-1", now)}))
	if n, err := s.RevokeOAuthSubject(ctx(), "t1", "sub-1"); err != nil || n != 0 {
		t.Fatalf("a second revocation: %d, %v", n, err)
	}
}
