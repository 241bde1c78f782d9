package oauth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// idClaims are an ID token's claims, unverified (the tests made it).
func idClaims(t *testing.T, tok *oauth2.Token) map[string]interface{} {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parsed, err := jwt.Parse([]byte(raw), jwt.WithVerify(false), jwt.WithValidate(false))
	must(t, err)
	m, err := parsed.AsMap(context.Background())
	must(t, err)
	return m
}

// signIDToken signs claims with the broker's active ES256 key, as an ID
// token of another release or a forged sid would be.
func (h *harness) signIDToken(t *testing.T, claims map[string]interface{}) string {
	t.Helper()
	k, err := h.signing.ActiveFor(context.Background(), "ES256")
	must(t, err)
	tok := jwt.New()
	for name, v := range claims {
		must(t, tok.Set(name, v))
	}
	hdr := jws.NewHeaders()
	must(t, hdr.Set(jws.KeyIDKey, k.ID))
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, k.Private.(*ecdsa.PrivateKey), jws.WithProtectedHeaders(hdr)))
	must(t, err)
	return string(signed)
}

// logout runs RP-initiated logout's part in the provider: the hint parsed,
// then its login ended.
func (h *harness) logout(t *testing.T, hint string, state string) {
	t.Helper()
	q := url.Values{"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}}
	if state != "" {
		q.Set("state", state)
	}
	if hint != "" {
		q.Set("id_token_hint", hint)
	}
	req, err := h.provider.ParseLogout(context.Background(), httptest.NewRequest("GET", "/oauth2/logout?"+q.Encode(), nil))
	if err != nil && !errors.Is(err, oauth.ErrLogoutHint) {
		t.Fatal(err)
	}
	must(t, h.provider.EndLogoutGrant(context.Background(), req))
}

// refreshes reports whether a refresh token still rotates.
func (h *harness) refreshes(t *testing.T, refresh string) (*oauth2.Token, bool) {
	t.Helper()
	tok, err := h.config().TokenSource(context.Background(), &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("refresh: %v, want success or invalid_grant", err)
		}
		return nil, false
	}
	return tok, true
}

// TestIDTokenSIDNamesTheLogin: every ID token of one login — the code
// exchange's and each refresh's — carries the same sid, another login's
// another; no stored session holds it.
func TestIDTokenSIDNamesTheLogin(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := b.mk(t)
			first, second := h.login(t), h.login(t)
			sid, _ := idClaims(t, first)["sid"].(string)
			other, _ := idClaims(t, second)["sid"].(string)
			if sid == "" || other == "" || sid == other {
				t.Fatalf("sids %q and %q: want two, different", sid, other)
			}
			tok := first
			for i := 0; i < 2; i++ {
				next, ok := h.refreshes(t, tok.RefreshToken)
				if !ok {
					t.Fatal("refresh refused")
				}
				if got := idClaims(t, next)["sid"]; got != sid {
					t.Fatalf("refresh %d: sid %v, want the login's %q", i+1, got, sid)
				}
				tok = next
			}
			g, err := h.store.GetOAuthGrant(context.Background(), sid)
			must(t, err)
			if string(g.Data) == "" || bytes.Contains(g.Data, []byte(`"sid"`)) {
				t.Fatalf("the grant's stored session holds the sid: %s", g.Data)
			}
		})
	}
}

// TestLogoutEndsTheHintsLogin: RP-initiated logout with an ID token of a
// login as id_token_hint — expired or not — ends that login: its access
// token stops at once, its refresh token is invalid_grant. The person's
// other login keeps working. A hint from before ID tokens carried sid, one
// whose sid names another subject's or another client's login, or no
// hint, ends nothing. On memory and PostgreSQL.
func TestLogoutEndsTheHintsLogin(t *testing.T) {
	type logins struct{ ended, other *oauth2.Token }
	cases := []struct {
		name string
		hint func(t *testing.T, h *harness, l logins, claims map[string]interface{}) string
		ends bool
		// state is the logout's; one that is not clean text is dropped,
		// and the person not sent back, but the login ends all the same.
		state string
	}{
		{"the login's ID token", func(t *testing.T, h *harness, l logins, _ map[string]interface{}) string {
			return l.ended.Extra("id_token").(string)
		}, true, ""},
		{"the login's ID token, with a state that is not clean text", func(t *testing.T, h *harness, l logins, _ map[string]interface{}) string {
			return l.ended.Extra("id_token").(string)
		}, true, "a\x01b"},
		{"the login's ID token, expired a day ago", func(t *testing.T, h *harness, l logins, c map[string]interface{}) string {
			c["exp"] = time.Now().Add(-24 * time.Hour).Unix()
			c["iat"] = time.Now().Add(-25 * time.Hour).Unix()
			return h.signIDToken(t, c)
		}, true, ""},
		{"an ID token without sid (an earlier release's)", func(t *testing.T, h *harness, l logins, c map[string]interface{}) string {
			delete(c, "sid")
			return h.signIDToken(t, c)
		}, false, ""},
		{"a sid of another subject's login", func(t *testing.T, h *harness, l logins, c map[string]interface{}) string {
			c["sub"] = "another-sub"
			return h.signIDToken(t, c)
		}, false, ""},
		{"a sid of another client's login", func(t *testing.T, h *harness, l logins, c map[string]interface{}) string {
			c["aud"] = []string{"api"}
			return h.signIDToken(t, c)
		}, false, ""},
		{"no hint", func(*testing.T, *harness, logins, map[string]interface{}) string { return "" }, false, ""},
	}
	for _, b := range backends {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				h := b.mk(t)
				l := logins{ended: h.login(t), other: h.login(t)}
				claims := idClaims(t, l.ended)
				for k, v := range claims {
					if tm, ok := v.(time.Time); ok {
						claims[k] = tm.Unix()
					}
				}
				h.logout(t, tc.hint(t, h, l, claims), tc.state)
				if live := h.live(t, l.ended.AccessToken); live == tc.ends {
					t.Fatalf("the hint's login's access token live=%v after logout", live)
				}
				if _, ok := h.refreshes(t, l.ended.RefreshToken); ok == tc.ends {
					t.Fatalf("the hint's login's refresh token rotates=%v after logout", ok)
				}
				if !h.live(t, l.other.AccessToken) {
					t.Fatal("the person's other login lost its access token")
				}
				if _, ok := h.refreshes(t, l.other.RefreshToken); !ok {
					t.Fatal("the person's other login lost its refresh token")
				}
			})
		}
	}
}

// TestLogoutStoreFailure: a store that fails while the logout's login is
// ended is an error that says so (the caller logs it; the person is
// logged out of ESIA all the same), and the login is not taken for ended.
func TestLogoutStoreFailure(t *testing.T) {
	fs := &faultyStore{Store: memory.New(nil)}
	h := newHarnessOn(t, fs)
	tok := h.login(t)
	req, err := h.provider.ParseLogout(context.Background(),
		httptest.NewRequest("GET", "/oauth2/logout?id_token_hint="+url.QueryEscape(tok.Extra("id_token").(string)), nil))
	must(t, err)
	fs.failWith(store.ErrUnavailable)
	if err := h.provider.EndLogoutGrant(context.Background(), req); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("EndLogoutGrant on a failed store: %v, want store.ErrUnavailable", err)
	}
	fs.failWith(nil)
	if _, ok := h.refreshes(t, tok.RefreshToken); !ok {
		t.Fatal("the login ended though the store failed")
	}
	must(t, h.provider.EndLogoutGrant(context.Background(), req))
	if _, ok := h.refreshes(t, tok.RefreshToken); ok {
		t.Fatal("the login lives after a logout retried on a store that works")
	}
}
