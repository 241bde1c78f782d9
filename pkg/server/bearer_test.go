package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// backends are the two ways to run a dev-mode broker in a test: the
// embedded default, and PostgreSQL + Redis as serve uses them.
var backends = []struct {
	name string
	edit func(t *testing.T) func(*server.Settings)
}{
	{"memory", func(*testing.T) func(*server.Settings) { return nil }},
	{"postgres+redis", func(t *testing.T) func(*server.Settings) {
		db, redis := pgtest.NewDatabase(t), sessionstest.NewRedis(t)
		return func(s *server.Settings) {
			s.DatabaseURL, s.RedisURL, s.RedisPrefix = db, sessionstest.RedisURL(), redis.Prefix()
			s.KEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		}
	}},
}

// request sends method u with an Authorization header (if any) and a form
// body (if any) and returns the answer with its headers.
func request(t *testing.T, method, u, authorization, form string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(form))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// legacyLoginClient is a login client holding the roster scope, made
// straight in the store as one made before `clients create` refused that.
const legacyLoginClient = "legacy-diary"

func addLegacyLoginClient(t *testing.T, b *broker) {
	t.Helper()
	err := b.comp.Store.CreateClient(context.Background(), store.Client{ID: legacyLoginClient, TenantID: server.DevTenant,
		SecretHash: oauth.HashSecret("legacy-secret"), RedirectURIs: []string{diaryRedirect},
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "roster"}})
	if err != nil {
		t.Fatal(err)
	}
}

// loginThrough logs the teacher in through a login client and returns the
// tokens (the ID token is the business of other tests).
func loginThrough(t *testing.T, b *broker, clientID, secret string, scopes ...string) *oauth2.Token {
	t.Helper()
	d := newDiary(b)
	d.cfg.ClientID, d.cfg.ClientSecret, d.cfg.Scopes = clientID, secret, scopes
	o := loginAs(t, b, d, oidTeacher)
	if o.Redirect == nil || o.Redirect.Query().Get("code") == "" {
		t.Fatalf("login ended at %v (status %d): %.300s", o.Redirect, o.Status, o.Body)
	}
	tok, err := d.cfg.Exchange(context.Background(), o.Redirect.Query().Get("code"), oauth2.VerifierOption(d.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// TestAPIAcceptsOnlyAPIClientTokens: /api/v1 takes client_credentials
// tokens of API clients in the Authorization header, and nothing else — not
// a refresh token, not a person's token even when its login client holds
// the roster scope, not a token in the query.
func TestAPIAcceptsOnlyAPIClientTokens(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			b := startBroker(t, true, be.edit(t))
			addLegacyLoginClient(t, b)
			links := b.URL + "/api/v1/roster/persons/t-0001/links"
			person := loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")
			// A login never grants an API scope any more (invalid_scope at
			// /oauth2/auth, TestAuthorizeRejections); the legacy client's
			// person token is refused at the API all the same.
			legacyPerson := loginThrough(t, b, legacyLoginClient, "legacy-secret", "openid")
			legacyCC := apiToken(t, b, legacyLoginClient, "legacy-secret", "roster")
			api := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
			tests := []struct {
				name, authorization, query string
				status                     int
				challenge                  string
			}{
				{"API client's token", "Bearer " + api, "", 200, ""},
				{"a person's refresh token", "Bearer " + person.RefreshToken, "", 401, `Bearer error="invalid_token"`},
				{"a person's token from a login client holding the roster scope", "Bearer " + legacyPerson.AccessToken, "", 403, ""},
				{"its refresh token", "Bearer " + legacyPerson.RefreshToken, "", 401, `Bearer error="invalid_token"`},
				{"a login client's client_credentials token", "Bearer " + legacyCC, "", 403, ""},
				{"API client's token in the query", "", "?access_token=" + url.QueryEscape(api), 400, `Bearer error="invalid_request"`},
				{"no token", "", "", 401, "Bearer"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := request(t, http.MethodGet, links+tc.query, tc.authorization, "")
					if resp.StatusCode != tc.status {
						t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
					}
					if challenge := resp.Header.Get("WWW-Authenticate"); challenge != tc.challenge && !(tc.challenge != "" && tc.challenge != "Bearer" && strings.HasPrefix(challenge, tc.challenge)) {
						t.Fatalf("WWW-Authenticate %q, want %q", challenge, tc.challenge)
					}
					if tc.status == 200 {
						return
					}
					var p struct {
						Status int `json:"status"`
					}
					if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal([]byte(body), &p) != nil || p.Status != tc.status {
						t.Fatalf("not a problem document: %s %s", resp.Header.Get("Content-Type"), body)
					}
				})
			}
		})
	}
}

// TestUserinfoTakesAccessTokensOutsideTheURL: /userinfo takes a person's
// access token in the header or a form body; a refresh token is 401, a
// token in the query 400, no token 401 with the bare challenge.
func TestUserinfoTakesAccessTokensOutsideTheURL(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			b := startBroker(t, true, be.edit(t))
			tok := loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")
			at := url.Values{"access_token": {tok.AccessToken}}.Encode()
			tests := []struct {
				name, method, query, authorization, form string
				status                                   int
			}{
				{"header", "GET", "", "Bearer " + tok.AccessToken, "", 200},
				{"form body", "POST", "", "", at, 200},
				{"refresh token", "GET", "", "Bearer " + tok.RefreshToken, "", 401},
				{"refresh token in a form body", "POST", "", "", url.Values{"access_token": {tok.RefreshToken}}.Encode(), 401},
				{"query", "GET", "?" + at, "", "", 400},
				{"no token", "GET", "", "", "", 401},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := request(t, tc.method, b.URL+"/userinfo"+tc.query, tc.authorization, tc.form)
					if resp.StatusCode != tc.status {
						t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
					}
					if tc.status == 200 && !strings.Contains(body, `"person_id":"t-0001"`) {
						t.Fatalf("userinfo = %s", body)
					}
					if tc.name == "no token" && resp.Header.Get("WWW-Authenticate") != "Bearer" {
						t.Fatalf("WWW-Authenticate %q without credentials", resp.Header.Get("WWW-Authenticate"))
					}
				})
			}
		})
	}
}

// TestTokenAnswersAreNeverCached: every answer of the token, revocation,
// introspection and userinfo endpoints and of /api/v1 — success and
// error — is Cache-Control: no-store, Pragma: no-cache.
func TestTokenAnswersAreNeverCached(t *testing.T) {
	b := startBroker(t, true, nil)
	tok := loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")
	api := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	basic := "Basic " + basicCredentials(server.DevClientID, server.DevClientSecret)
	tests := []struct {
		name, method, path, authorization, form string
		status                                  int
	}{
		{"token", "POST", "/oauth2/token", basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode(), 200},
		{"token error", "POST", "/oauth2/token", "", url.Values{"grant_type": {"client_credentials"}}.Encode(), 400},
		{"introspection", "POST", "/oauth2/introspect", basic, url.Values{"token": {tok.AccessToken}}.Encode(), 200},
		{"introspection error", "POST", "/oauth2/introspect", "Bearer " + tok.AccessToken, url.Values{"token": {tok.AccessToken}}.Encode(), 401},
		{"revocation", "POST", "/oauth2/revoke", basic, url.Values{"token": {"unknown"}}.Encode(), 200},
		{"userinfo", "GET", "/userinfo", "Bearer " + tok.AccessToken, "", 401}, // refreshed above: revoked
		{"userinfo error", "GET", "/userinfo", "", "", 401},
		{"API", "GET", "/api/v1/roster/persons/t-0001/links", "Bearer " + api, "", 200},
		{"API error", "GET", "/api/v1/roster/persons/t-0001/links", "", "", 401},
		{"API unknown path", "GET", "/api/v1/nothing", "Bearer " + api, "", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := request(t, tc.method, b.URL+tc.path, tc.authorization, tc.form)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
				t.Fatalf("Cache-Control %q, Pragma %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
			}
		})
	}
	fresh := loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")
	resp, body := request(t, "GET", b.URL+"/userinfo", "Bearer "+fresh.AccessToken, "")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("userinfo: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func basicCredentials(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(id, secret)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
