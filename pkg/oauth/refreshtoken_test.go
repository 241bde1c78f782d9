package oauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/store"
)

// TestRotatedRefreshTokenKeepsNoRow: refresh tokens name their grant, so a
// rotation deletes the presented token's row (nothing is left for the
// janitor, the table stays at its live size) and reuse detection still
// works without it: within the reuse interval the rotated token gets the
// same pair back; past it, its presentation revokes the whole grant — the
// successor refresh token and the access token stop. On memory and
// PostgreSQL, with the clock injected.
func TestRotatedRefreshTokenKeepsNoRow(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			v := oauth2.GenerateVerifier()
			tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
			must(t, err)
			if !strings.HasPrefix(tok.RefreshToken, "ory_rg_") {
				t.Fatalf("refresh token %.10s…, want one that names its grant (ory_rg_)", tok.RefreshToken)
			}
			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			must(t, err)
			if _, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(tok.RefreshToken)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the rotated refresh token's row: %v, want none", err)
			}
			succ, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(next.RefreshToken))
			must(t, err)
			// Past every expiry but the live token's, the janitor finds
			// nothing of this grant.
			removed, err := h.store.DeleteExpiredOAuth(ctx, succ.ExpiresAt.Add(-time.Second), 1000)
			must(t, err)
			if removed[store.OAuthRefresh] != 0 || removed[store.OAuthGrantKind] != 0 {
				t.Fatalf("the janitor removed %v, want nothing", removed)
			}
			// Within the interval: the same pair, nothing revoked.
			h.clock.Advance(store.DefaultRefreshReuse - time.Second)
			again, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			must(t, err)
			if again.RefreshToken != next.RefreshToken || again.AccessToken != next.AccessToken || !h.introspect(t, next.AccessToken) {
				t.Fatal("the replay within the reuse interval did not hand back the live pair")
			}
			// Past it: reuse, the grant is revoked.
			h.clock.Advance(2 * time.Second)
			_, err = h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("reuse past the interval: %v, want invalid_grant", err)
			}
			if h.introspect(t, next.AccessToken) {
				t.Fatal("the grant's access token survived the reuse")
			}
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err == nil {
				t.Fatal("the grant's live refresh token survived the reuse")
			}
		})
	}
}

// TestForgedRefreshTokensRevokeNothing: a refresh token of the format
// whose MAC does not hold — another grant named, the MAC garbled, the
// body cut — is invalid_grant and leaves the grant it names alone, even
// with the grant's own token rotated (so that a real one would be
// reuse). On memory and PostgreSQL.
func TestForgedRefreshTokensRevokeNothing(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			v := oauth2.GenerateVerifier()
			tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
			must(t, err)
			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			must(t, err)
			body, mac, _ := strings.Cut(strings.TrimPrefix(tok.RefreshToken, "ory_rg_"), ".")
			flip := func(s string) string {
				b := []byte(s)
				if b[3] == 'A' {
					b[3] = 'B'
				} else {
					b[3] = 'A'
				}
				return string(b)
			}
			for name, forged := range map[string]string{
				"payload changed": "ory_rg_" + flip(body) + "." + mac,
				"MAC garbled":     "ory_rg_" + body + "." + flip(mac),
				"no MAC":          "ory_rg_" + body,
				"cut":             tok.RefreshToken[:40],
			} {
				_, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: forged}).Token()
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Fatalf("%s: %v, want invalid_grant", name, err)
				}
			}
			if !h.introspect(t, next.AccessToken) {
				t.Fatal("a forged refresh token revoked the grant")
			}
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token(); err != nil {
				t.Fatalf("the grant's refresh token after the forgeries: %v", err)
			}
		})
	}
}
