package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// TestOnlyAccessTokensInTheHeaderAreBearerCredentials: a refresh token is
// no bearer credential at /userinfo nor at the API; an access token in the
// URL query is refused (RFC 9700 §4.3.2); a request without any token gets
// the bare challenge (RFC 6750 §3.1).
func TestOnlyAccessTokensInTheHeaderAreBearerCredentials(t *testing.T) {
	for _, be := range backends {
		name, mk := be.name, be.mk
		t.Run(name, func(t *testing.T) {
			h := mk(t)
			twoTenants(t, h)
			tok := h.loginToken(t, "ta-diary", "ta")
			userinfo := func(method, query, header, form string) *http.Response {
				t.Helper()
				req, _ := http.NewRequest(method, h.srv.URL+"/userinfo"+query, strings.NewReader(form))
				if header != "" {
					req.Header.Set("Authorization", header)
				}
				if form != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				resp, err := http.DefaultClient.Do(req)
				must(t, err)
				resp.Body.Close()
				return resp
			}
			at := url.Values{"access_token": {tok.AccessToken}}.Encode()
			tests := []struct {
				name, method, query, header, form string
				status                            int
				challenge                         string
			}{
				{"access token in the header", "GET", "", "Bearer " + tok.AccessToken, "", 200, ""},
				{"access token in a form body", "POST", "", "", at, 200, ""},
				{"refresh token in the header", "GET", "", "Bearer " + tok.RefreshToken, "", 401, `Bearer error="invalid_token"`},
				{"refresh token in a form body", "POST", "", "", url.Values{"access_token": {tok.RefreshToken}}.Encode(), 401, `Bearer error="invalid_token"`},
				{"access token in the query", "GET", "?" + at, "", "", 400, `Bearer error="invalid_request"`},
				{"access token in the query of a POST", "POST", "?" + at, "", "", 400, `Bearer error="invalid_request"`},
				{"header and form body at once", "POST", "", "Bearer " + tok.AccessToken, at, 400, `Bearer error="invalid_request"`},
				{"no token", "GET", "", "", "", 401, "Bearer"},
				{"another scheme", "GET", "", "Basic dGEtZGlhcnk6dGEtZGlhcnktc2VjcmV0", "", 401, "Bearer"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp := userinfo(tc.method, tc.query, tc.header, tc.form)
					challenge := resp.Header.Get("WWW-Authenticate")
					if resp.StatusCode != tc.status || (tc.challenge == "Bearer" && challenge != "Bearer") || !strings.HasPrefix(challenge, tc.challenge) {
						t.Fatalf("status %d, challenge %q; want %d, %q", resp.StatusCode, challenge, tc.status, tc.challenge)
					}
					if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
						t.Fatalf("cache headers %v", resp.Header)
					}
				})
			}

			api := func(header, query string) error {
				r := httptest.NewRequest(http.MethodGet, "/api/v1/roster/persons/x/links"+query, nil)
				if header != "" {
					r.Header.Set("Authorization", header)
				}
				_, err := h.provider.AuthenticateAPI(context.Background(), r, oauth.ScopeRoster)
				return err
			}
			// A login client holding an API scope, as one made before
			// `clients create` refused that.
			ctx := context.Background()
			must(t, h.store.CreateClient(ctx, store.Client{ID: "ta-legacy", TenantID: "ta", SecretHash: oauth.HashSecret("ta-legacy-secret"),
				RedirectURIs: []string{"http://127.0.0.1:9/cb"}, GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
				ResponseTypes: []string{"code"}, Scopes: []string{"openid", "roster"}}))
			legacyCC := h.apiToken(t, "ta-legacy")
			apiTok := h.apiToken(t, "ta-api")
			for _, tc := range []struct {
				name, header, query string
				want                error
			}{
				{"API client's token", "Bearer " + apiTok, "", nil},
				{"API client's token in the query", "", "?access_token=" + apiTok, oauth.ErrTokenMethod},
				{"API client's token in the header and the query", "Bearer " + apiTok, "?access_token=" + apiTok, oauth.ErrTokenMethod},
				{"person's refresh token", "Bearer " + tok.RefreshToken, "", oauth.ErrInvalidToken},
				{"person's access token", "Bearer " + tok.AccessToken, "", oauth.ErrNotAPIClient},
				{"legacy login client's client_credentials token", "Bearer " + legacyCC, "", oauth.ErrNotAPIClient},
				{"no token", "", "", oauth.ErrNoToken},
			} {
				t.Run("api/"+tc.name, func(t *testing.T) {
					if err := api(tc.header, tc.query); !errors.Is(err, tc.want) {
						t.Fatalf("AuthenticateAPI: %v, want %v", err, tc.want)
					}
				})
			}
		})
	}
}
