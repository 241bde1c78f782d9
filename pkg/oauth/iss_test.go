package oauth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
)

// diaryChecksIss is what a mix-up-aware diary does with an authorization
// response (RFC 9207 §2.4): read the provider's metadata, and when it
// promises iss, require iss to be the issuer it sent the person to,
// compared as strings. x/oauth2 does not look at iss, so the test does.
func diaryChecksIss(t *testing.T, issuer string, redirect *url.URL) {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), issuer)
	must(t, err)
	var meta struct {
		Issuer       string `json:"issuer"`
		IssSupported bool   `json:"authorization_response_iss_parameter_supported"`
	}
	must(t, p.Claims(&meta))
	if !meta.IssSupported {
		t.Fatal("discovery: authorization_response_iss_parameter_supported is not true")
	}
	if got := redirect.Query()["iss"]; len(got) != 1 || got[0] != meta.Issuer || got[0] != issuer {
		t.Fatalf("iss = %q in %s, want exactly %q", got, redirect, issuer)
	}
}

// TestAuthorizationResponsesCarryIss: RFC 9207 iss on every kind of
// authorization response the provider writes: the code, fosite's errors,
// the broker's own request errors, and the access_denied a login that
// could not finish ends with.
func TestAuthorizationResponsesCarryIss(t *testing.T) {
	h := newHarness(t)
	base := h.config()
	v := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name, url, wantErr string
	}{
		{"code", base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oidc.Nonce("nonce-12345678")), ""},
		{"fosite error: unknown scope", strings.Replace(base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)), "scope=openid", "scope=openid+admin", 1), "invalid_scope"},
		{"fosite error: short state", base.AuthCodeURL("short", oauth2.S256ChallengeOption(v)), "invalid_state"},
		{"fosite error: response mode", base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("response_mode", "fragment")), "unsupported_response_mode"},
		{"broker error: no PKCE", base.AuthCodeURL("state-12345678"), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := h.authorize(t, tc.url)
			if q.Get("error") != tc.wantErr || (tc.wantErr == "") != (q.Get("code") != "") {
				t.Fatalf("response %v, want error %q", q, tc.wantErr)
			}
			diaryChecksIss(t, h.srv.URL, &url.URL{RawQuery: q.Encode()})
		})
	}
	t.Run("access_denied with a reference code", func(t *testing.T) {
		back, err := h.provider.ErrorRedirect(&oauth.AuthorizeRequest{RedirectURI: "http://127.0.0.1:9/cb?tab=1", State: "state-12345678"}, "not_found", "ABCDE12345")
		must(t, err)
		u, err := url.Parse(back)
		must(t, err)
		q := u.Query()
		if q.Get("error") != "access_denied" || q.Get("error_description") != "not_found" || q.Get("ref") != "ABCDE12345" ||
			q.Get("state") != "state-12345678" || q.Get("tab") != "1" {
			t.Fatalf("redirect = %s", back)
		}
		diaryChecksIss(t, h.srv.URL, u)
	})
}
