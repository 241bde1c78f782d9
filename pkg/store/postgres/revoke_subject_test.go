package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// TestRevokeSubjectWaitsForExchange: a person's tokens revoked while a
// code exchange is in flight — its transaction has used the code and
// written the grant, but not committed — leave no live grant. The
// revocation waits on the code's row, and then revokes the grant the
// exchange committed; had it revoked grants first, it would have missed
// that one, whose refresh token (kept by the grant) and self-contained
// access tokens would have lived on.
func TestRevokeSubjectWaitsForExchange(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const subject, req = "pairwise-sub", "req-in-flight"
	code := store.OAuthRecord{Kind: store.OAuthCode, Signature: "code-sig", RequestID: req, ClientID: "diary", TenantID: "demo",
		Subject: subject, Active: true, Data: []byte(`{"x":1}`), CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	if err := s.CreateOAuthRecord(ctx, code); err != nil {
		t.Fatal(err)
	}

	applied, release, exchanged := heldTx(s, func(ctx context.Context) error {
		return s.ApplyOAuth(ctx, store.OAuthBatch{
			Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: code.Signature},
			Grant: &store.OAuthGrant{RequestID: req, ClientID: "diary", TenantID: "demo", Subject: subject, Data: []byte(`{"x":1}`),
				CreatedAt: now, ExpiresAt: now.Add(time.Hour), Access: "nonce", Refresh: "refresh-key", RefreshAt: now,
				RefreshExpiresAt: now.Add(time.Hour)},
		})
	})
	if err := <-applied; err != nil {
		close(release)
		t.Fatalf("exchange: %v", err)
	}

	type result struct {
		n   int
		err error
	}
	revoked := make(chan result, 1)
	go func() {
		n, err := s.RevokeOAuthSubject(ctx, "demo", subject)
		revoked <- result{n, err}
	}()
	// The revocation must be waiting on the exchange's lock before the
	// exchange commits.
	if !awaitLockWait(t, s, `%oauth_records%kind = 'code'%`) {
		close(release)
		t.Fatal("the revocation never waited on the exchange's code")
	}
	close(release)
	if err := <-exchanged; err != nil {
		t.Fatalf("exchange commit: %v", err)
	}
	r := <-revoked
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.n != 1 {
		t.Fatalf("RevokeOAuthSubject = %d, want 1 (the refresh token the exchange's grant keeps)", r.n)
	}
	g, err := s.GetOAuthGrant(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if g.RevokedAt.IsZero() {
		t.Fatal("the grant the exchange committed during the revocation is live")
	}
}
