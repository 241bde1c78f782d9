package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestAuthorizeRefusalsAreRedirects: every check the broker can make on
// the authorization request — a request object, a request_uri, a response
// mode it does not answer in, a prompt it cannot honour — answers the diary
// by redirect, with state and iss, once the client and its redirect URI are
// valid; before that, a page. fosite alone answered request= with a page.
func TestAuthorizeRefusalsAreRedirects(t *testing.T) {
	h := newHarness(t)
	v := oauth2.GenerateVerifier()
	authURL := func(extra ...oauth2.AuthCodeOption) string {
		return h.config().AuthCodeURL("state-12345678", append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}, extra...)...)
	}
	param := oauth2.SetAuthURLParam
	requestObject := param("request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.")
	tests := []struct {
		name     string
		url      string
		wantPage bool
		wantErr  string
	}{
		{"request object", authURL(requestObject), false, "request_not_supported"},
		{"request object without openid", strings.Replace(authURL(requestObject), "scope=openid+profile", "scope=profile", 1), false, "request_not_supported"},
		{"request_uri", authURL(param("request_uri", "https://diary.example/req/1")), false, "request_uri_not_supported"},
		{"response_mode fragment", authURL(param("response_mode", "fragment")), false, "unsupported_response_mode"},
		{"response_mode web_message", authURL(param("response_mode", "web_message")), false, "unsupported_response_mode"},
		{"prompt none", authURL(param("prompt", "none")), false, "login_required"},
		{"prompt none with login", authURL(param("prompt", "none login")), false, "invalid_request"},
		{"unknown prompt", authURL(param("prompt", "create")), false, "invalid_request"},
		{"request object, unknown client", strings.Replace(authURL(requestObject), "client_id=diary", "client_id=nobody", 1), true, ""},
		{"request object, unregistered redirect", strings.Replace(authURL(requestObject), url.QueryEscape("http://127.0.0.1:9/cb"), url.QueryEscape("http://127.0.0.1:9/evil"), 1), true, ""},
		{"prompt none, unregistered redirect", strings.Replace(authURL(param("prompt", "none")), url.QueryEscape("http://127.0.0.1:9/cb"), url.QueryEscape("http://127.0.0.1:9/evil"), 1), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.name, "without openid") && !strings.Contains(tc.url, "scope=openid") {
				t.Fatalf("test url lost its scope: %s", tc.url)
			}
			resp, err := noRedirect.Get(tc.url)
			must(t, err)
			resp.Body.Close()
			if tc.wantPage {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d location %q, want a page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d, want a redirect", resp.StatusCode)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			must(t, err)
			q := loc.Query()
			if !strings.HasPrefix(loc.String(), "http://127.0.0.1:9/cb?") || q.Get("error") != tc.wantErr || q.Get("code") != "" ||
				q.Get("state") != "state-12345678" || q.Get("iss") != h.srv.URL {
				t.Fatalf("redirect = %s, want error %s with state and iss", loc, tc.wantErr)
			}
		})
	}
}
