package oauth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/diarybroker/broker/pkg/oauth"
)

// works reports what a harness's tokens and clients can still do: the
// userinfo of a login token, its refresh, the API with an API token, a new
// client_credentials token, and whether the API client's introspection
// finds the login token active.
type works struct{ userinfo, refresh, api, newToken, introspect bool }

func (h *harness) userinfoOK(t *testing.T, access string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// check finds out what tenant tn's tokens (login through tn-diary, API
// through tn-api) can do; login is the login token, refreshed when asked.
func (h *harness) check(t *testing.T, tn string, login *oauth2.Token, api string) works {
	t.Helper()
	ctx := context.Background()
	var w works
	w.userinfo = h.userinfoOK(t, login.AccessToken)
	cfg := &oauth2.Config{ClientID: tn + "-diary", ClientSecret: tn + "-diary-secret",
		Endpoint: oauth2.Endpoint{TokenURL: h.srv.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	stale := &oauth2.Token{RefreshToken: login.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
	if fresh, err := cfg.TokenSource(ctx, stale).Token(); err == nil {
		w.refresh = true
		*login = *fresh
	}
	r, _ := http.NewRequest(http.MethodGet, "/api/v1/roster", nil)
	r.Header.Set("Authorization", "Bearer "+api)
	_, err := h.provider.AuthenticateAPI(ctx, r, oauth.ScopeRoster)
	w.api = err == nil
	cc := &clientcredentials.Config{ClientID: tn + "-api", ClientSecret: tn + "-api-secret", TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"roster"}}
	_, err = cc.Token(ctx)
	w.newToken = err == nil
	code, _, body := h.introspectAs(t, "basic", tn+"-api", tn+"-api-secret", login.AccessToken)
	w.introspect = code == http.StatusOK && len(body) > 0 && body != `{"active":false}`+"\n" && body != `{"active":false}`
	return w
}

// TestDisabledClientsAndTenantsStopWorking: the tokens of a disabled
// client, and every token and client of a disabled tenant, stop working at
// userinfo, refresh, introspection and the API, at once on the replica
// that made the change (ForgetClient, ForgetTenant) and within the client
// cache's lifetime on the others; enabling undoes it; another tenant is
// untouched throughout.
func TestDisabledClientsAndTenantsStopWorking(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			twoTenants(t, h)
			ctx := context.Background()
			loginA, loginB := h.loginToken(t, "ta-diary", "ta"), h.loginToken(t, "tb-diary", "tb")
			apiA, apiB := h.apiToken(t, "ta-api"), h.apiToken(t, "tb-api")
			all := works{true, true, true, true, true}
			none := works{}
			setClient := func(id string, disabled bool) {
				c, err := h.store.GetClient(ctx, id)
				must(t, err)
				c.DisabledAt = time.Time{}
				if disabled {
					c.DisabledAt = time.Now()
				}
				must(t, h.store.UpdateClient(ctx, c))
			}
			setTenant := func(id string, disabled bool) {
				tn, err := h.store.GetTenant(ctx, id)
				must(t, err)
				tn.DisabledAt = time.Time{}
				if disabled {
					tn.DisabledAt = time.Now()
				}
				must(t, h.store.UpdateTenant(ctx, tn))
			}
			steps := []struct {
				name   string
				change func()
				a      works
			}{
				{"as issued", func() {}, all},
				{"login client disabled", func() { setClient("ta-diary", true); h.provider.ForgetClient("ta-diary") },
					works{api: true, newToken: true}},
				{"login client enabled", func() { setClient("ta-diary", false); h.provider.ForgetClient("ta-diary") }, all},
				{"API client disabled", func() { setClient("ta-api", true); h.provider.ForgetClient("ta-api") },
					works{userinfo: true, refresh: true}},
				{"API client enabled", func() { setClient("ta-api", false); h.provider.ForgetClient("ta-api") }, all},
				{"tenant disabled", func() { setTenant("ta", true); h.provider.ForgetTenant("ta") }, none},
				{"tenant enabled", func() { setTenant("ta", false); h.provider.ForgetTenant("ta") }, all},
				// Another replica (no Forget) sees the change once its
				// cache entries are older than ClientCacheTTL (10 s).
				{"tenant disabled elsewhere", func() { setTenant("ta", true); h.clock.Advance(11 * time.Second) }, none},
			}
			for _, st := range steps {
				st.change()
				if got := h.check(t, "ta", loginA, apiA); got != st.a {
					t.Fatalf("%s: tenant ta's tokens and clients: %+v, want %+v", st.name, got, st.a)
				}
				if got := h.check(t, "tb", loginB, apiB); got != all {
					t.Fatalf("%s: tenant tb's tokens and clients: %+v, want all working", st.name, got)
				}
			}
			// A login through a client of the disabled tenant is refused.
			cfg := &oauth2.Config{ClientID: "ta-diary2", RedirectURL: "http://127.0.0.1:9/cb", Scopes: []string{"openid"},
				Endpoint: oauth2.Endpoint{AuthURL: h.srv.URL + "/oauth2/auth"}}
			resp, err := noRedirect.Get(cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			must(t, err)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("login through a disabled tenant's client: status %d", resp.StatusCode)
			}
		})
	}
}

// TestRotatedSecretGracePeriod: after a rotation the previous secret
// authenticates the client until its grace period ends, the new one from
// the start; then only the new one.
func TestRotatedSecretGracePeriod(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			c, err := h.store.GetClient(ctx, "api")
			must(t, err)
			c.PreviousSecretHash, c.SecretHash = c.SecretHash, oauth.HashSecret("new-secret")
			c.PreviousSecretUntil, c.SecretRotatedAt = h.clock.Now().Add(24*time.Hour), h.clock.Now()
			must(t, h.store.UpdateClient(ctx, c))
			h.provider.ForgetClient("api")
			token := func(secret string) bool {
				cc := &clientcredentials.Config{ClientID: "api", ClientSecret: secret, TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"roster"}}
				_, err := cc.Token(ctx)
				return err == nil
			}
			for _, step := range []struct {
				after          time.Duration
				old, new, none bool
			}{{0, true, true, false}, {23 * time.Hour, true, true, false}, {2 * time.Hour, false, true, false}} {
				h.clock.Advance(step.after)
				h.provider.ForgetClient("api")
				if token("apisecret") != step.old || token("new-secret") != step.new || token("other") != step.none {
					t.Fatalf("after %v more: previous %v, new %v, wrong %v", step.after, token("apisecret"), token("new-secret"), token("other"))
				}
			}
		})
	}
}
