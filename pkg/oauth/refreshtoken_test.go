package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/store"
)

// TestRotatedRefreshTokenKeepsNoRow: refresh tokens name their grant,
// which keeps the live one, so neither the presented token nor its
// successor has a row (nothing is left for the janitor, the table stays
// at its live size) and reuse detection still works without them: within
// the reuse interval the rotated token gets the same pair back; past it,
// its presentation revokes the whole grant — the successor refresh token
// and the access token stop. On memory and PostgreSQL, with the clock
// injected.
func TestRotatedRefreshTokenKeepsNoRow(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			tok := h.login(t)
			if !strings.HasPrefix(tok.RefreshToken, "ory_rg_") {
				t.Fatalf("refresh token %.10s…, want one that names its grant (ory_rg_)", tok.RefreshToken)
			}
			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			must(t, err)
			if _, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(tok.RefreshToken)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the rotated refresh token's row: %v, want none", err)
			}
			if _, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(next.RefreshToken)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the successor's row: %v, want none", err)
			}
			g, err := h.store.GetOAuthGrant(ctx, grantOf(t, next.RefreshToken))
			must(t, err)
			if g.Refresh != refreshKey(next.RefreshToken) {
				t.Fatalf("the grant keeps %q, want the successor's key", g.Refresh)
			}
			// Past every expiry but the live token's, the janitor finds
			// nothing of this grant.
			removed, err := h.store.DeleteExpiredOAuth(ctx, g.RefreshExpiresAt.Add(-time.Second), 1000)
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
			tok := h.login(t)
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

// TestWhatEndsAKeptRefreshToken: the refresh token a grant keeps (no row
// of its own) dies with its grant, whatever ends it — RFC 7009 revocation
// of the refresh token itself, unlinking or consent withdrawal
// (RevokeSubject, which counts it), the reuse of a rotated refresh token,
// the replay of the grant's authorization code: afterwards it is
// invalid_grant and the grant's access token inactive. On memory and
// PostgreSQL.
func TestWhatEndsAKeptRefreshToken(t *testing.T) {
	type grant struct {
		code, verifier string
		tok            *oauth2.Token
	}
	tests := []struct {
		name string
		end  func(t *testing.T, h *harness, g *grant)
	}{
		{"RFC 7009 revocation of the refresh token", func(t *testing.T, h *harness, g *grant) {
			if status := h.revoke(t, g.tok.RefreshToken, "refresh_token"); status != http.StatusOK {
				t.Fatalf("revoke: status %d", status)
			}
		}},
		{"unlinking, suspension or consent withdrawal (RevokeSubject)", func(t *testing.T, h *harness, g *grant) {
			n, err := h.provider.RevokeSubject(context.Background(), "demo", "pairwise-sub")
			must(t, err)
			if n != 1 {
				t.Fatalf("RevokeSubject counted %d tokens, want the grant's live refresh token", n)
			}
		}},
		{"reuse of a rotated refresh token", func(t *testing.T, h *harness, g *grant) {
			ctx := context.Background()
			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: g.tok.RefreshToken}).Token()
			must(t, err)
			old := g.tok.RefreshToken
			g.tok = next
			h.clock.Advance(store.DefaultRefreshReuse + time.Second)
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: old}).Token(); err == nil {
				t.Fatal("the rotated refresh token was accepted")
			}
		}},
		{"replay of the authorization code", func(t *testing.T, h *harness, g *grant) {
			_, err := h.config().Exchange(context.Background(), g.code, oauth2.VerifierOption(g.verifier))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("the replayed code: %v, want invalid_grant", err)
			}
		}},
	}
	for _, be := range backends {
		for _, tc := range tests {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				h := be.mk(t)
				ctx := context.Background()
				g := &grant{verifier: oauth2.GenerateVerifier()}
				g.code = h.code(t, g.verifier)
				var err error
				g.tok, err = h.config().Exchange(ctx, g.code, oauth2.VerifierOption(g.verifier))
				must(t, err)
				tc.end(t, h, g)
				if h.introspect(t, g.tok.AccessToken) {
					t.Fatal("the grant's access token is still active")
				}
				_, err = h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: g.tok.RefreshToken}).Token()
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Fatalf("the grant's refresh token afterwards: %v, want invalid_grant", err)
				}
				gr, err := h.store.GetOAuthGrant(ctx, grantOf(t, g.tok.RefreshToken))
				must(t, err)
				if gr.RevokedAt.IsZero() {
					t.Fatal("the grant is not revoked")
				}
			})
		}
	}
}
