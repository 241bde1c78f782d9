package oauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// TestClientCredentialsTokensWriteNothing: a client_credentials token is
// self-contained — issuing it writes no OAuth record, on memory and
// PostgreSQL — and works at the API and introspection; a token whose
// payload was changed (another scope, another client) or whose MAC was
// cut is invalid; a disabled client's token stops working (as for stored
// tokens: TestDisabledClientsAndTenantsStopWorking).
func TestClientCredentialsTokensWriteNothing(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			cc := &clientcredentials.Config{ClientID: "api", ClientSecret: "apisecret", TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"roster"}}
			tok, err := cc.Token(ctx)
			must(t, err)
			if n, err := h.store.DeleteExpiredOAuth(ctx, time.Now().AddDate(100, 0, 0), 1000); err != nil || len(n) != 0 {
				t.Fatalf("a client_credentials token wrote OAuth records: %v (%v)", n, err)
			}
			api := func(token, scope string) error {
				r := httptest.NewRequest(http.MethodGet, "/api/v1/roster", nil)
				r.Header.Set("Authorization", "Bearer "+token)
				_, err := h.provider.AuthenticateAPI(ctx, r, scope)
				return err
			}
			must(t, api(tok.AccessToken, oauth.ScopeRoster))
			if !h.introspect(t, tok.AccessToken) {
				t.Fatal("introspection: inactive")
			}
			if err := api(tok.AccessToken, oauth.ScopeSupport); !errors.Is(err, oauth.ErrInsufficientScope) {
				t.Fatalf("support scope: %v", err)
			}
			body, mac, _ := strings.Cut(strings.TrimPrefix(tok.AccessToken, "ory_ac_"), ".")
			raw, err := base64.URLEncoding.WithPadding(base64.NoPadding).DecodeString(body)
			must(t, err)
			forged := strings.Replace(string(raw), `"roster"`, `"support"`, 1)
			for name, bad := range map[string]string{
				"another scope": "ory_ac_" + base64.URLEncoding.WithPadding(base64.NoPadding).EncodeToString([]byte(forged)) + "." + mac,
				"no MAC":        "ory_ac_" + body,
				"cut MAC":       "ory_ac_" + body + "." + mac[:10],
			} {
				if err := api(bad, oauth.ScopeSupport); !errors.Is(err, oauth.ErrInvalidToken) {
					t.Fatalf("%s: %v", name, err)
				}
				if h.introspect(t, bad) {
					t.Fatalf("%s: introspection says active", name)
				}
			}
		})
	}
}

// TestClientCredentialsTokenBoundToItsClient: a self-contained token stops
// working when its client is no longer the one it was issued to — deleted
// and made again under the same id (in another tenant, or the same), or
// stripped of a scope the token carries, or no longer a client_credentials
// client — on memory and PostgreSQL.
func TestClientCredentialsTokenBoundToItsClient(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			tests := []struct {
				name   string
				change func(t *testing.T, h *harness, c store.Client) store.Client
			}{
				{"made again in another tenant", func(t *testing.T, h *harness, c store.Client) store.Client {
					ctx := context.Background()
					must(t, h.store.CreateTenant(ctx, store.Tenant{ID: "victim"}))
					must(t, h.store.DeleteClient(ctx, c.ID))
					c.TenantID, c.CreatedAt = "victim", time.Now().Add(time.Second) // made after the token
					must(t, h.store.CreateClient(ctx, c))
					return c
				}},
				{"made again in the same tenant", func(t *testing.T, h *harness, c store.Client) store.Client {
					ctx := context.Background()
					must(t, h.store.DeleteClient(ctx, c.ID))
					c.CreatedAt = time.Now().Add(time.Second) // made after the token
					must(t, h.store.CreateClient(ctx, c))
					return c
				}},
				{"scope taken away", func(t *testing.T, h *harness, c store.Client) store.Client {
					c.Scopes = []string{"support"}
					must(t, h.store.UpdateClient(context.Background(), c))
					return c
				}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					h := be.mk(t)
					ctx := context.Background()
					cc := &clientcredentials.Config{ClientID: "api", ClientSecret: "apisecret", TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"roster"}}
					tok, err := cc.Token(ctx)
					must(t, err)
					api := func() error {
						r := httptest.NewRequest(http.MethodGet, "/api/v1/roster", nil)
						r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
						_, err := h.provider.AuthenticateAPI(ctx, r, oauth.ScopeRoster)
						return err
					}
					must(t, api())
					c, err := h.store.GetClient(ctx, "api")
					must(t, err)
					tc.change(t, h, c)
					h.provider.ForgetClient("api")
					if err := api(); !errors.Is(err, oauth.ErrInvalidToken) {
						t.Fatalf("the old token after the change: %v", err)
					}
					if h.introspect(t, tok.AccessToken) {
						t.Fatal("introspection says the old token is active")
					}
				})
			}
		})
	}
}
