package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// twoTenants adds tenants ta and tb to the harness, each with a login
// client and an API client; ta has a second login client and a public one.
// Every secret is "<id>-secret".
func twoTenants(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	for _, tn := range []string{"ta", "tb"} {
		must(t, h.store.CreateTenant(ctx, store.Tenant{ID: tn}))
	}
	login := func(id, tenant string, public bool) store.Client {
		c := store.Client{ID: id, TenantID: tenant, Public: public, RedirectURIs: []string{"http://127.0.0.1:9/cb"},
			GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile"}}
		if !public {
			c.SecretHash = oauth.HashSecret(id + "-secret")
		}
		return c
	}
	api := func(id, tenant string) store.Client {
		return store.Client{ID: id, TenantID: tenant, SecretHash: oauth.HashSecret(id + "-secret"),
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"roster", "support"}}
	}
	for _, c := range []store.Client{login("ta-diary", "ta", false), login("ta-diary2", "ta", false), login("ta-public", "ta", true),
		api("ta-api", "ta"), login("tb-diary", "tb", false), api("tb-api", "tb")} {
		must(t, h.store.CreateClient(ctx, c))
	}
}

// loginToken logs the harness's person in through a login client of tenant.
func (h *harness) loginToken(t *testing.T, clientID, tenant string) *oauth2.Token {
	t.Helper()
	cfg := &oauth2.Config{ClientID: clientID, ClientSecret: clientID + "-secret", RedirectURL: "http://127.0.0.1:9/cb",
		Scopes: []string{"openid"}, Endpoint: oauth2.Endpoint{AuthURL: h.srv.URL + "/oauth2/auth", TokenURL: h.srv.URL + "/oauth2/token"}}
	h.claims.Tenant, h.claims.Subject = tenant, "sub-in-"+tenant
	v := oauth2.GenerateVerifier()
	q := h.authorize(t, cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oidc.Nonce("nonce-12345678")))
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	must(t, err)
	return tok
}

func (h *harness) apiToken(t *testing.T, clientID string) string {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: clientID, ClientSecret: clientID + "-secret", TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"roster"}}
	tok, err := cc.Token(context.Background())
	must(t, err)
	return tok.AccessToken
}

// introspectAs is POST /oauth2/introspect with the given credentials:
// auth is "basic", "post", "bearer:<token>" (no client credentials) or
// "bearer+post:<token>".
func (h *harness) introspectAs(t *testing.T, auth, clientID, secret, token string) (int, http.Header, string) {
	t.Helper()
	form := url.Values{"token": {token}}
	kind, bearer, _ := strings.Cut(auth, ":")
	if kind == "post" || kind == "bearer+post" {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch kind {
	case "basic":
		req.SetBasicAuth(clientID, secret)
	case "bearer", "bearer+post":
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestIntrospectionAnswersOnlyAboutTheCallersTokens: a client learns about
// its own tokens, an API client about its tenant's; everything else is
// the answer an unknown token gets. Only client authentication (Basic or
// post) is a credential.
func TestIntrospectionAnswersOnlyAboutTheCallersTokens(t *testing.T) {
	for _, be := range backends {
		name, mk := be.name, be.mk
		t.Run(name, func(t *testing.T) {
			h := mk(t)
			twoTenants(t, h)
			person := h.loginToken(t, "ta-diary", "ta")
			other := h.loginToken(t, "ta-diary2", "ta")
			taAPI := h.apiToken(t, "ta-api")
			_, _, inactive := h.introspectAs(t, "basic", "tb-diary", "tb-diary-secret", "ory_at_unknown.token")
			if inactive != `{"active":false}`+"\n" {
				t.Fatalf("unknown token: %q", inactive)
			}
			tests := []struct {
				name, auth, client, token string
				status                    int
				active                    bool
			}{
				{"own token, basic", "basic", "ta-diary", person.AccessToken, 200, true},
				{"own token, client_secret_post", "post", "ta-diary", person.AccessToken, 200, true},
				{"another login client of the tenant", "basic", "ta-diary2", person.AccessToken, 200, false},
				{"login client of another tenant", "basic", "tb-diary", person.AccessToken, 200, false},
				{"API client of another tenant", "basic", "tb-api", person.AccessToken, 200, false},
				{"API client of the tenant", "basic", "ta-api", person.AccessToken, 200, true},
				{"API client of the tenant, client_secret_post", "post", "ta-api", person.AccessToken, 200, true},
				{"API client, own token", "basic", "ta-api", taAPI, 200, true},
				{"login client about the tenant's API token", "basic", "ta-diary", taAPI, 200, false},
				{"API client of another tenant about an API token", "basic", "tb-api", taAPI, 200, false},
				{"a refresh token is not introspected", "basic", "ta-diary", person.RefreshToken, 200, false},
				{"a person's token as the credential", "bearer:" + other.AccessToken, "", person.AccessToken, 401, false},
				{"an API token as the credential", "bearer:" + taAPI, "", person.AccessToken, 401, false},
				{"a bearer token beside client_secret_post", "bearer+post:" + other.AccessToken, "ta-diary2", person.AccessToken, 401, false},
				{"wrong secret", "basic", "ta-diary", person.AccessToken, 401, false},
				{"public client", "post", "ta-public", person.AccessToken, 401, false},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					secret := tc.client + "-secret"
					if tc.name == "wrong secret" {
						secret = "wrong"
					}
					if tc.client == "ta-public" {
						secret = ""
					}
					status, hdr, body := h.introspectAs(t, tc.auth, tc.client, secret, tc.token)
					if status != tc.status {
						t.Fatalf("status %d, want %d: %s", status, tc.status, body)
					}
					if hdr.Get("Cache-Control") != "no-store" || hdr.Get("Pragma") != "no-cache" {
						t.Fatalf("cache headers %v", hdr)
					}
					if tc.status != 200 {
						var e struct{ Error string }
						_ = json.Unmarshal([]byte(body), &e)
						if e.Error != "invalid_client" || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") || strings.Contains(body, "person_id") {
							t.Fatalf("error %q, challenge %q: %s", e.Error, hdr.Get("WWW-Authenticate"), body)
						}
						return
					}
					if !tc.active {
						// Exactly the unknown token's answer: nothing to probe.
						if body != inactive {
							t.Fatalf("body %q, want %q", body, inactive)
						}
						return
					}
					var got map[string]any
					must(t, json.Unmarshal([]byte(body), &got))
					if got["active"] != true || got["tenant"] != "ta" {
						t.Fatalf("introspection = %v", got)
					}
					if tc.token == person.AccessToken && (got["person_id"] != "t-0001" || got["sub"] != "sub-in-ta" || got["client_id"] != "ta-diary") {
						t.Fatalf("introspection of a person's token = %v", got)
					}
				})
			}
		})
	}
}

// TestDiscoveryNamesWhatIntrospectionAndRevocationTake: the metadata
// says what really works (RFC 8414 §2).
func TestDiscoveryNamesWhatIntrospectionAndRevocationTake(t *testing.T) {
	h := newHarness(t)
	d := h.provider.Discovery(context.Background())
	methods := func(key string) string { v, _ := d[key].([]string); return strings.Join(v, " ") }
	if got := methods("introspection_endpoint_auth_methods_supported"); got != "client_secret_basic client_secret_post" {
		t.Fatalf("introspection_endpoint_auth_methods_supported = %q", got)
	}
	if got := methods("revocation_endpoint_auth_methods_supported"); got != "client_secret_basic client_secret_post none" {
		t.Fatalf("revocation_endpoint_auth_methods_supported = %q", got)
	}
}
