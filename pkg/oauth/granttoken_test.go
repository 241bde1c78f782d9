package oauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// replica is another broker replica on h's store (same keys and HMAC
// secret), with its own clock and caches: what it sees of a grant ended
// elsewhere is bounded by the grant cache.
func (h *harness) replica(t *testing.T) *harness {
	t.Helper()
	r := &harness{store: h.store, signing: h.signing, clock: &clock{}, claims: h.claims}
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	var err error
	r.provider, err = oauth.New(oauth.Config{Issuer: h.srv.URL, Store: h.store, Signing: h.signing,
		HMACSecret: bytes.Repeat([]byte{2}, 32), Now: r.clock.Now})
	must(t, err)
	mux.HandleFunc("/oauth2/introspect", r.provider.ServeIntrospect)
	mux.HandleFunc("/userinfo", r.provider.ServeUserinfo)
	return r
}

// live reports whether an access token works on h: at introspection and
// at userinfo, which must agree.
func (h *harness) live(t *testing.T, access string) bool {
	t.Helper()
	in, ui := h.introspect(t, access), h.userinfoOK(t, access)
	if in != ui {
		t.Fatalf("introspection says active=%v, userinfo ok=%v", in, ui)
	}
	return in
}

// grantCacheBound is the default GrantCacheTTL.
const grantCacheBound = 5 * time.Second

// TestLoginAccessTokensEndWithTheirGrant: a login's access token is
// self-contained (no row) and works while its grant lives; every way a
// grant ends — RFC 7009 revocation of its refresh or its access token,
// the revocation by subject that unlinking and consent withdrawal make
// straight in the store, a replayed code, a reused refresh token — stops
// it at once on the replica that ended it through the provider, and on
// another replica, which read the grant before, once the grant cache's
// bound (5 s, the injected clock moved past it) has passed, not before.
// A rotation ends the access token issued before it, and its own works at
// once on the other replica, which had read the grant before it. On memory
// and PostgreSQL.
func TestLoginAccessTokensEndWithTheirGrant(t *testing.T) {
	ctx := context.Background()
	revoke := func(t *testing.T, h *harness, token string) {
		t.Helper()
		if status := h.revoke(t, token, ""); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
	}
	cases := []struct {
		name string
		// end ends the grant of tok (exchanged from code with verifier
		// v) and returns the access token that must stop.
		end func(t *testing.T, h, other *harness, tok *oauth2.Token, code, v string) string
		// atOnce: ended through h's provider, so h stops it at once.
		atOnce bool
	}{
		{"RFC 7009 revocation of the refresh token", func(t *testing.T, h, other *harness, tok *oauth2.Token, _, _ string) string {
			revoke(t, h, tok.RefreshToken)
			return tok.AccessToken
		}, true},
		{"RFC 7009 revocation of the access token", func(t *testing.T, h, other *harness, tok *oauth2.Token, _, _ string) string {
			revoke(t, h, tok.AccessToken)
			return tok.AccessToken
		}, true},
		{"unlinking, suspension or consent withdrawal (the subject's tokens revoked in the store)", func(t *testing.T, h, other *harness, tok *oauth2.Token, _, _ string) string {
			if _, err := h.store.RevokeOAuthSubject(ctx, "demo", "pairwise-sub"); err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken
		}, false},
		{"a replayed code", func(t *testing.T, h, other *harness, tok *oauth2.Token, code, v string) string {
			if _, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v)); err == nil {
				t.Fatal("a replayed code was exchanged")
			}
			return tok.AccessToken
		}, true},
		{"a reused refresh token", func(t *testing.T, h, other *harness, tok *oauth2.Token, _, _ string) string {
			first := tok.RefreshToken
			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}).Token()
			must(t, err)
			if !strings.HasPrefix(next.AccessToken, "ory_ag_") || !h.live(t, next.AccessToken) {
				t.Fatal("the rotation's access token does not work")
			}
			if h.live(t, tok.AccessToken) {
				t.Fatal("the access token issued before the rotation still works")
			}
			if !other.live(t, next.AccessToken) {
				t.Fatal("the other replica refuses the rotation's access token")
			}
			h.clock.Advance(store.DefaultRefreshReuse + time.Second)
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
				t.Fatal("a rotated refresh token was accepted past the reuse interval")
			}
			return next.AccessToken
		}, true},
	}
	for _, be := range backends {
		for _, tc := range cases {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				h := be.mk(t)
				other := h.replica(t)
				v := oauth2.GenerateVerifier()
				code := h.code(t, v)
				tok, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
				must(t, err)
				if !strings.HasPrefix(tok.AccessToken, "ory_ag_") || !h.live(t, tok.AccessToken) {
					t.Fatalf("a fresh access token %.10s… does not work", tok.AccessToken)
				}
				// The other replica reads the grant and may trust it for
				// the bound (TestGrantCacheBound).
				if !other.live(t, tok.AccessToken) {
					t.Fatal("the other replica refuses a fresh access token")
				}
				access := tc.end(t, h, other, tok, code, v)
				if tc.atOnce && h.live(t, access) {
					t.Fatal("the replica that ended the grant still accepts its access token")
				}
				other.clock.Advance(grantCacheBound)
				h.clock.Advance(grantCacheBound)
				if other.live(t, access) || h.live(t, access) {
					t.Fatal("the grant's access token works past the grant cache's bound")
				}
			})
		}
	}
}

// TestGrantCacheBound: another replica that read a grant keeps trusting
// it for GrantCacheTTL — a revocation straight in the store does not stop
// the grant's access token there before that, and does after. The
// setting moves the bound.
func TestGrantCacheBound(t *testing.T) {
	for _, ttl := range []time.Duration{0, 2 * time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			h := newHarness(t)
			want := ttl
			if want == 0 {
				want = grantCacheBound
			}
			r := &harness{store: h.store, signing: h.signing, clock: &clock{}}
			mux := http.NewServeMux()
			r.srv = httptest.NewServer(mux)
			t.Cleanup(r.srv.Close)
			var err error
			r.provider, err = oauth.New(oauth.Config{Issuer: h.srv.URL, Store: h.store, Signing: h.signing,
				HMACSecret: bytes.Repeat([]byte{2}, 32), Now: r.clock.Now, GrantCacheTTL: ttl})
			must(t, err)
			mux.HandleFunc("/oauth2/introspect", r.provider.ServeIntrospect)
			mux.HandleFunc("/userinfo", r.provider.ServeUserinfo)
			ctx := context.Background()
			tok := h.login(t)
			if !r.live(t, tok.AccessToken) {
				t.Fatal("fresh token refused")
			}
			if _, err := h.store.RevokeOAuthSubject(ctx, "demo", "pairwise-sub"); err != nil {
				t.Fatal(err)
			}
			r.clock.Advance(want - 100*time.Millisecond)
			if !r.live(t, tok.AccessToken) {
				t.Fatal("the replica read the grant again before its cache's bound")
			}
			r.clock.Advance(100 * time.Millisecond)
			if r.live(t, tok.AccessToken) {
				t.Fatal("a revoked grant's access token works past the bound")
			}
		})
	}
}

// TestForgedLoginAccessTokens: a login access token whose payload names
// another grant or a later expiry, or whose MAC was cut, is refused; it
// carries no personal data; a genuine one stops at the expiry it names
// (the injected clock).
func TestForgedLoginAccessTokens(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok := h.login(t)
	v2 := oauth2.GenerateVerifier()
	tok2, err := h.config().Exchange(ctx, h.code(t, v2), oauth2.VerifierOption(v2))
	must(t, err)
	enc := base64.URLEncoding.WithPadding(base64.NoPadding)
	payload := func(tk string) (string, string) {
		body, mac, _ := strings.Cut(strings.TrimPrefix(tk, "ory_ag_"), ".")
		raw, err := enc.DecodeString(body)
		must(t, err)
		return string(raw), mac
	}
	raw, mac := payload(tok.AccessToken)
	raw2, _ := payload(tok2.AccessToken)
	grant2 := raw2[strings.Index(raw2, `"g":`):strings.Index(raw2, `,"e"`)]
	grant1 := raw[strings.Index(raw, `"g":`):strings.Index(raw, `,"e"`)]
	if strings.Contains(raw, "pairwise") || strings.Contains(raw, "Иванова") {
		t.Fatalf("the token carries personal data: %s", raw)
	}
	later := strings.Replace(raw, `"e":1`, `"e":2`, 1)
	for name, bad := range map[string]string{
		"another grant": "ory_ag_" + enc.EncodeToString([]byte(strings.Replace(raw, grant1, grant2, 1))) + "." + mac,
		"later expiry":  "ory_ag_" + enc.EncodeToString([]byte(later)) + "." + mac,
		"no MAC":        "ory_ag_" + strings.TrimPrefix(strings.Split(tok.AccessToken, ".")[0], "ory_ag_"),
		"cut MAC":       tok.AccessToken[:len(tok.AccessToken)-10],
	} {
		if h.introspect(t, bad) || h.userinfoOK(t, bad) {
			t.Fatalf("%s: accepted", name)
		}
	}
	if !h.live(t, tok.AccessToken) || !h.live(t, tok2.AccessToken) {
		t.Fatal("the genuine tokens stopped working")
	}
	// Past the expiry it names (1 h), a token stops, its grant (30 days)
	// alive.
	h.clock.Advance(time.Hour + time.Second)
	if h.live(t, tok.AccessToken) {
		t.Fatal("an access token works past its expiry")
	}
}
