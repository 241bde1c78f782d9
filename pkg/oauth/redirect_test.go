package oauth_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

const loopbackCallback = "http://127.0.0.1:8089/callback"

// loopbackClients registers a confidential and a public client with the
// same loopback redirect URI (the public one with its IPv6 twin too).
func (h *harness) loopbackClients(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	must(t, h.store.CreateClient(ctx, store.Client{ID: "confidential", TenantID: "demo", SecretHash: oauth.HashSecret("s3cret"),
		RedirectURIs: []string{loopbackCallback}, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid"}}))
	must(t, h.store.CreateClient(ctx, store.Client{ID: "native", TenantID: "demo", Public: true,
		RedirectURIs: []string{loopbackCallback, "http://[::1]:8089/callback"}, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid"}}))
}

func (h *harness) loopbackConfig(clientID, redirect string) *oauth2.Config {
	secret := ""
	if clientID == "confidential" {
		secret = "s3cret"
	}
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: h.srv.URL + "/oauth2/auth", TokenURL: h.srv.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// TestLoopbackRedirectURIs: fosite's RFC 8252 §7.3 rule (any port on a
// registered loopback URI) is for public native clients only and never
// with userinfo; a confidential client gets its registered string or a
// page — also when the request has another error that would otherwise be
// sent to the redirect URI.
func TestLoopbackRedirectURIs(t *testing.T) {
	h := newHarness(t)
	h.loopbackClients(t)
	v := oauth2.GenerateVerifier()
	tests := []struct {
		name, client, redirect string
		broken                 bool // the request has another error too (unknown scope)
		wantCode               bool // else a page, no redirect at all
	}{
		{"confidential: registered", "confidential", loopbackCallback, false, true},
		{"confidential: userinfo and another port", "confidential", "http://evil@127.0.0.1:8090/callback", false, false},
		{"confidential: another port", "confidential", "http://127.0.0.1:8090/callback", false, false},
		{"confidential: userinfo", "confidential", "http://evil@127.0.0.1:8089/callback", false, false},
		{"confidential: no port", "confidential", "http://127.0.0.1/callback", false, false},
		{"confidential: another port and an unknown scope", "confidential", "http://127.0.0.1:8090/callback", true, false},
		{"confidential: userinfo and an unknown scope", "confidential", "http://evil@127.0.0.1:8089/callback", true, false},
		{"public: registered", "native", loopbackCallback, false, true},
		{"public: another port", "native", "http://127.0.0.1:8090/callback", false, true},
		{"public: no port", "native", "http://127.0.0.1/callback", false, true},
		{"public: IPv6 loopback, another port", "native", "http://[::1]:49152/callback", false, true},
		{"public: userinfo and another port", "native", "http://evil@127.0.0.1:8090/callback", false, false},
		{"public: userinfo", "native", "http://evil@127.0.0.1:8089/callback", false, false},
		{"public: empty userinfo", "native", "http://@127.0.0.1:8090/callback", false, false},
		{"public: userinfo and an unknown scope", "native", "http://evil:pw@127.0.0.1:8090/callback", true, false},
		{"public: localhost is not a loopback literal", "native", "http://localhost:8090/callback", false, false},
		{"public: another path", "native", "http://127.0.0.1:8090/callback/x", false, false},
		{"public: a query", "native", "http://127.0.0.1:8090/callback?next=evil", false, false},
		{"public: https", "native", "https://127.0.0.1:8090/callback", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := h.loopbackConfig(tc.client, tc.redirect)
			if tc.broken {
				cfg.Scopes = []string{"openid", "admin"}
			}
			resp, err := noRedirect.Get(cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)))
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			loc := resp.Header.Get("Location")
			if !tc.wantCode {
				if resp.StatusCode != http.StatusBadRequest || loc != "" {
					t.Fatalf("status %d, Location %q: want a page and no redirect", resp.StatusCode, loc)
				}
				return
			}
			u, err := url.Parse(loc)
			must(t, err)
			if resp.StatusCode != http.StatusSeeOther || u.Query().Get("code") == "" {
				t.Fatalf("status %d, Location %q: want a code (%s)", resp.StatusCode, loc, body)
			}
			u.RawQuery = ""
			if u.String() != tc.redirect {
				t.Fatalf("code sent to %s, want %s", u, tc.redirect)
			}
		})
	}
}

// TestTokenEndpointRedirectURIIsExact: the code of a public client's
// port-varied loopback request is redeemed only with that very
// redirect_uri (RFC 6749 §4.1.3), not the registered one.
func TestTokenEndpointRedirectURIIsExact(t *testing.T) {
	h := newHarness(t)
	h.loopbackClients(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, exchangeWith string
		ok                 bool
	}{
		{"the registered port", loopbackCallback, false},
		{"userinfo added", "http://evil@127.0.0.1:8090/callback", false},
		{"the very redirect_uri", "http://127.0.0.1:8090/callback", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			q := h.authorize(t, h.loopbackConfig("native", "http://127.0.0.1:8090/callback").AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)))
			_, err := h.loopbackConfig("native", tc.exchangeWith).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			if tc.ok != (err == nil) {
				t.Fatalf("exchange: %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok && !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("exchange: %v, want invalid_grant", err)
			}
		})
	}
}
