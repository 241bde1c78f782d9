package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// diaryChecksIss is what a mix-up-aware diary does with an authorization
// response (RFC 9207 §2.4): read the provider's metadata (go-oidc), and as
// it promises iss, require iss to be the issuer the person was sent to,
// compared as strings. x/oauth2 ignores iss, so the test looks.
func diaryChecksIss(t *testing.T, b *broker, redirect *url.URL) {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), b.URL)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Issuer       string `json:"issuer"`
		IssSupported bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if !meta.IssSupported {
		t.Fatal("discovery: authorization_response_iss_parameter_supported is not true")
	}
	if got := redirect.Query()["iss"]; len(got) != 1 || got[0] != meta.Issuer || got[0] != b.URL {
		t.Fatalf("iss = %q in %s, want exactly %q", got, redirect, b.URL)
	}
}

// backLink is the «Вернуться в дневник» link of a failure page.
func backLink(t *testing.T, o outcome) *url.URL {
	t.Helper()
	i := strings.Index(o.Body, `href="`+diaryRedirect)
	if o.Redirect != nil || i < 0 {
		t.Fatalf("want a page with a link back to the diary: %v %.400s", o.Redirect, o.Body)
	}
	href := o.Body[i+6:]
	u, err := parseURL(htmlUnescape(href[:strings.Index(href, `"`)]))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAuthorizationResponsesCarryIss: RFC 9207 iss, exactly the issuer, on
// every kind of authorization response a diary gets from the broker: the
// code, fosite's errors, the broker's own request errors, and the
// access_denied with a reference code — as a redirect (consent declined)
// and as the error page's way back (person not found, parental consent).
func TestAuthorizationResponsesCarryIss(t *testing.T) {
	b := startBroker(t, true, nil)
	tests := []struct {
		name    string
		respond func(t *testing.T, d *diary) *url.URL
		wantErr string
		wantRef bool
	}{
		// Declined before the code case, whose login accepts.
		{"access_denied redirect: consent declined", func(t *testing.T, d *diary) *url.URL {
			br := newBrowser(t)
			page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
			return br.submit(page, "/consent", url.Values{"decision": {"decline"}}).Redirect
		}, "access_denied", true},
		{"code", func(t *testing.T, d *diary) *url.URL {
			o := loginAs(t, b, d, oidTeacher)
			tokens(t, b, d, o)
			return o.Redirect
		}, "", false},
		{"fosite error: unknown scope", func(t *testing.T, d *diary) *url.URL {
			d.cfg.Scopes = []string{"openid", "admin"}
			return newBrowser(t).get(d.authURL()).Redirect
		}, "invalid_scope", false},
		{"broker error: response mode", func(t *testing.T, d *diary) *url.URL {
			return newBrowser(t).get(d.authURL(oauth2.SetAuthURLParam("response_mode", "fragment"))).Redirect
		}, "unsupported_response_mode", false},
		{"broker error: unknown role", func(t *testing.T, d *diary) *url.URL {
			return newBrowser(t).get(d.authURL(oauth2.SetAuthURLParam("role", "pilot"))).Redirect
		}, "invalid_request", false},
		{"broker error: no PKCE", func(t *testing.T, d *diary) *url.URL {
			return newBrowser(t).get(d.cfg.AuthCodeURL(d.state, oidc.Nonce(d.nonce))).Redirect
		}, "invalid_request", false},
		{"access_denied link: not in the roster", func(t *testing.T, d *diary) *url.URL {
			return backLink(t, loginAs(t, b, d, oidNotInRoster))
		}, "access_denied", true},
		{"access_denied link: parental consent required", func(t *testing.T, d *diary) *url.URL {
			return backLink(t, loginAs(t, b, d, oidChild))
		}, "access_denied", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			u := tc.respond(t, d)
			if u == nil || !strings.HasPrefix(u.String(), diaryRedirect+"?") {
				t.Fatalf("want an authorization response to the diary, got %v", u)
			}
			q := u.Query()
			if q.Get("error") != tc.wantErr || q.Get("state") != d.state || (q.Get("ref") != "") != tc.wantRef {
				t.Fatalf("response %s: want error %q, state, ref %v", u, tc.wantErr, tc.wantRef)
			}
			diaryChecksIss(t, b, u)
		})
	}
}
