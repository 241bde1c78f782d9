package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// harness is the provider behind an httptest server whose /oauth2/auth
// logs everyone in as one fixed person (the login itself is tested in
// pkg/server).
type harness struct {
	srv      *httptest.Server
	provider *oauth.Provider
	store    store.Store
	signing  *keyring.Signing
	claims   oauth.Claims
}

func newHarness(t *testing.T) *harness { return newHarnessOn(t, memory.New(nil)) }

// newPostgresStore is the PostgreSQL store on a fresh database.
func newPostgresStore(t *testing.T) store.Store {
	pool := pgtest.NewPool(t)
	kek, _ := keyring.NewKEK(bytes.Repeat([]byte{3}, 32))
	pg := postgres.New(pool, nil)
	pii, err := keyring.OpenPII(context.Background(), pg, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pg.WithSealer(pii)
}

func newHarnessOn(t *testing.T, st store.Store) *harness {
	t.Helper()
	ctx := context.Background()
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	signing, err := keyring.OpenSigning(ctx, st, kek, "ES256", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{store: st, signing: signing, claims: oauth.Claims{
		Subject: "pairwise-sub", PersonID: "t-0001", Roles: []string{"teacher"}, Tenant: "demo",
		AgeGroup: oauth.AgeAdult, ESIATrust: oauth.TrustConfirmed, FamilyName: "Иванова", GivenName: "Анна",
	}}
	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	h.provider, err = oauth.New(oauth.Config{Issuer: h.srv.URL, Store: st, Signing: signing, HMACSecret: bytes.Repeat([]byte{2}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("/oauth2/auth", func(w http.ResponseWriter, r *http.Request) {
		req, err := h.provider.ParseAuthorize(r.Context(), r)
		if err != nil {
			ae, _ := oauth.IsAuthorizeError(err)
			if ae.Redirectable {
				h.provider.WriteAuthorizeError(r.Context(), w, ae)
				return
			}
			http.Error(w, "page: "+ae.Err.ErrorField, http.StatusBadRequest)
			return
		}
		if err := h.provider.CompleteAuthorize(r.Context(), w, req, h.claims, time.Now()); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/oauth2/token", h.provider.ServeToken)
	mux.HandleFunc("/oauth2/revoke", h.provider.ServeRevoke)
	mux.HandleFunc("/oauth2/introspect", h.provider.ServeIntrospect)
	mux.HandleFunc("/userinfo", h.provider.ServeUserinfo)
	mux.HandleFunc("/.well-known/jwks.json", h.provider.ServeJWKS)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(h.provider.Discovery(r.Context()))
	})
	must(t, st.CreateTenant(ctx, store.Tenant{ID: "demo"}))
	must(t, st.CreateClient(ctx, store.Client{ID: "diary", TenantID: "demo", SecretHash: oauth.HashSecret("s3cret"),
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile"}}))
	must(t, st.CreateClient(ctx, store.Client{ID: "api", TenantID: "demo", SecretHash: oauth.HashSecret("apisecret"),
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"roster", "support"}}))
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) config() *oauth2.Config {
	return &oauth2.Config{ClientID: "diary", ClientSecret: "s3cret", RedirectURL: "http://127.0.0.1:9/cb",
		Scopes: []string{"openid", "profile"}, Endpoint: oauth2.Endpoint{AuthURL: h.srv.URL + "/oauth2/auth", TokenURL: h.srv.URL + "/oauth2/token"}}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize runs /oauth2/auth and returns the redirect's query.
func (h *harness) authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirect.Get(authURL)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: status %d: %s", resp.StatusCode, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	must(t, err)
	return loc.Query()
}

func (h *harness) code(t *testing.T, verifier string) string {
	t.Helper()
	q := h.authorize(t, h.config().AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-12345678")))
	if q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	return q.Get("code")
}

func TestCodeFlowWithStandardClients(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	code := h.code(t, verifier)
	tok, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(verifier))
	must(t, err)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "diary"}).Verify(ctx, raw)
	must(t, err)
	var claims map[string]interface{}
	must(t, idt.Claims(&claims))
	if idt.Subject != "pairwise-sub" || claims["person_id"] != "t-0001" || claims["tenant"] != "demo" ||
		claims["age_group"] != "adult" || claims["esia_trust"] != "confirmed" || claims["family_name"] != "Иванова" ||
		claims["nonce"] != "nonce-12345678" {
		t.Fatalf("id token claims = %v", claims)
	}
	// userinfo through go-oidc
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	must(t, err)
	var uic map[string]interface{}
	must(t, ui.Claims(&uic))
	if ui.Subject != "pairwise-sub" || uic["person_id"] != "t-0001" || uic["given_name"] != "Анна" {
		t.Fatalf("userinfo = %v", uic)
	}
}

func TestNameClaimsNeedProfileScope(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := h.config()
	cfg.Scopes = []string{"openid"}
	v := oauth2.GenerateVerifier()
	q := h.authorize(t, cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)))
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	must(t, err)
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "diary"}).Verify(ctx, tok.Extra("id_token").(string))
	must(t, err)
	var claims map[string]interface{}
	must(t, idt.Claims(&claims))
	if _, ok := claims["family_name"]; ok {
		t.Fatalf("name without profile scope: %v", claims)
	}
	if claims["person_id"] != "t-0001" {
		t.Fatalf("claims = %v", claims)
	}
}

func TestAuthorizeRejections(t *testing.T) {
	h := newHarness(t)
	base := h.config()
	v := oauth2.GenerateVerifier()
	tests := []struct {
		name     string
		url      string
		wantPage bool   // no redirect allowed
		wantErr  string // error in the redirect
	}{
		{"unknown client", strings.Replace(base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)), "client_id=diary", "client_id=nobody", 1), true, ""},
		{"unregistered redirect", strings.Replace(base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)), url.QueryEscape("http://127.0.0.1:9/cb"), url.QueryEscape("http://127.0.0.1:9/evil"), 1), true, ""},
		{"no pkce", base.AuthCodeURL("state-12345678"), false, "invalid_request"},
		{"plain pkce", base.AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("code_challenge", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"), oauth2.SetAuthURLParam("code_challenge_method", "plain")), false, "invalid_request"},
		{"short state", base.AuthCodeURL("short", oauth2.S256ChallengeOption(v)), false, "invalid_state"},
		{"short nonce", base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oidc.Nonce("n")), false, "insufficient_entropy"},
		{"unknown role", base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("role", "pilot")), false, "invalid_request"},
		{"unknown scope", strings.Replace(base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)), "scope=openid", "scope=openid+admin", 1), false, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirect.Get(tc.url)
			must(t, err)
			resp.Body.Close()
			if tc.wantPage {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("status %d location %q, want a page", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			must(t, err)
			if !strings.HasPrefix(loc.String(), "http://127.0.0.1:9/cb") || loc.Query().Get("error") != tc.wantErr || loc.Query().Get("code") != "" {
				t.Fatalf("redirect = %s, want error %s", loc, tc.wantErr)
			}
		})
	}
}

func TestCodeIsSingleUseAndReuseRevokes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	code := h.code(t, v)
	tok, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
	must(t, err)
	_, err = h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replayed code: %v", err)
	}
	// The tokens of the first exchange are revoked.
	if active := h.introspect(t, tok.AccessToken); active {
		t.Fatal("access token still active after the code was replayed")
	}
}

func TestConcurrentCodeExchangeHasOneWinner(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testConcurrentCodeExchange(t, newHarness(t)) })
	t.Run("postgres", func(t *testing.T) { testConcurrentCodeExchange(t, newHarnessOn(t, newPostgresStore(t))) })
}

func testConcurrentCodeExchange(t *testing.T, h *harness) {
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	code := h.code(t, v)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, grants := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
			mu.Lock()
			defer mu.Unlock()
			var re *oauth2.RetrieveError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
				grants++
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || wins+grants != n {
		t.Fatalf("wins=%d invalid_grant=%d of %d", wins, grants, n)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testRefreshRotationAndReuse(t, newHarness(t)) })
	t.Run("postgres", func(t *testing.T) { testRefreshRotationAndReuse(t, newHarnessOn(t, newPostgresStore(t))) })
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	for name, mk := range map[string]func(t *testing.T) *harness{
		"memory":   newHarness,
		"postgres": func(t *testing.T) *harness { return newHarnessOn(t, newPostgresStore(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			h := mk(t)
			ctx := context.Background()
			v := oauth2.GenerateVerifier()
			tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
			must(t, err)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
					if err == nil {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if wins != 1 {
				t.Fatalf("%d concurrent refreshes of one token won, want 1", wins)
			}
			// Reuse — even in a race — revokes the grant: no grace period.
			if h.introspectAny(t) {
				t.Fatal("the grant survived the reuse of its refresh token")
			}
		})
	}
}

func testRefreshRotationAndReuse(t *testing.T, h *harness) {
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	first := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute) // force a refresh
	next, err := h.config().TokenSource(ctx, tok).Token()
	must(t, err)
	if next.RefreshToken == "" || next.RefreshToken == first || next.AccessToken == tok.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	if _, ok := next.Extra("id_token").(string); !ok {
		t.Fatal("refresh gave no new ID token")
	}
	if h.introspect(t, tok.AccessToken) {
		t.Fatal("old access token still active after rotation")
	}
	// Reusing the rotated refresh token revokes the whole grant.
	old := &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}
	if _, err := h.config().TokenSource(ctx, old).Token(); err == nil {
		t.Fatal("rotated refresh token accepted again")
	}
	if h.introspect(t, next.AccessToken) {
		t.Fatal("grant not revoked after refresh token reuse")
	}
	stale := &oauth2.Token{RefreshToken: next.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	if _, err := h.config().TokenSource(ctx, stale).Token(); err == nil {
		t.Fatal("refresh token of a revoked grant accepted")
	}
}

func TestRevocationAndRevokeSubject(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	if !h.introspect(t, tok.AccessToken) {
		t.Fatal("fresh token inactive")
	}
	form := url.Values{"token": {tok.AccessToken}}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("diary", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 || h.introspect(t, tok.AccessToken) {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	tok2, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	n, err := h.provider.RevokeSubject(ctx, "demo", "pairwise-sub")
	must(t, err)
	if n < 2 || h.introspect(t, tok2.AccessToken) {
		t.Fatalf("RevokeSubject revoked %d", n)
	}
	if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); err == nil {
		t.Fatal("refresh works after RevokeSubject")
	}
}

func TestClientCredentialsAndAPIAuth(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cc := &clientcredentials.Config{ClientID: "api", ClientSecret: "apisecret", TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"roster"}}
	tok, err := cc.Token(ctx)
	must(t, err)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/roster", nil)
	r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	caller, err := h.provider.AuthenticateAPI(ctx, r, oauth.ScopeRoster)
	must(t, err)
	if caller.ClientID != "api" || caller.TenantID != "demo" {
		t.Fatalf("caller = %+v", caller)
	}
	if _, err := h.provider.AuthenticateAPI(ctx, r, oauth.ScopeSupport); !errors.Is(err, oauth.ErrInsufficientScope) {
		t.Fatalf("support scope: %v", err)
	}
	r.Header.Set("Authorization", "Bearer nonsense")
	if _, err := h.provider.AuthenticateAPI(ctx, r, oauth.ScopeRoster); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("bad token: %v", err)
	}
	bad := &clientcredentials.Config{ClientID: "api", ClientSecret: "wrong", TokenURL: h.srv.URL + "/oauth2/token"}
	if _, err := bad.Token(ctx); err == nil {
		t.Fatal("wrong secret accepted")
	}
	adm := &clientcredentials.Config{ClientID: "api", ClientSecret: "apisecret", TokenURL: h.srv.URL + "/oauth2/token", Scopes: []string{"admin"}}
	if _, err := adm.Token(ctx); err == nil {
		t.Fatal("scope outside the client's allowed scopes granted")
	}
}

func TestJWKSKeepsRetiredKeyUntilItsTokensExpire(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	if _, err := h.signing.Rotate(ctx, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	verifier := provider.Verifier(&oidc.Config{ClientID: "diary"})
	if _, err := verifier.Verify(ctx, tok.Extra("id_token").(string)); err != nil {
		t.Fatalf("token signed by the retired key no longer verifies: %v", err)
	}
	tok2, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	if _, err := verifier.Verify(ctx, tok2.Extra("id_token").(string)); err != nil {
		t.Fatalf("token signed by the new key: %v", err)
	}
	set, err := h.signing.PublicSet(ctx)
	must(t, err)
	if set.Len() != 2 {
		t.Fatalf("jwks has %d keys, want 2", set.Len())
	}
}

func (h *harness) introspect(t *testing.T, token string) bool {
	t.Helper()
	form := url.Values{"token": {token}}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/introspect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("api", "apisecret")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	must(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Active
}

// introspectAny reports whether any access token of the test person is active.
func (h *harness) introspectAny(t *testing.T) bool {
	t.Helper()
	n, err := h.provider.RevokeSubject(context.Background(), "demo", "pairwise-sub")
	must(t, err)
	return n > 0
}
