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
	clock    *clock
	// atESIA, when set, is how long the person spends at ESIA: the clock
	// moves on between the request and its completion.
	atESIA time.Duration
	// authTime, when set, is ESIA's auth_time given the time (of the
	// clock) the login completes; the real time otherwise.
	authTime func(done time.Time) time.Time
	// basis, when set, is the link and consent every login rests on.
	basis *oauth.Basis
}

// clock is the provider's injected clock: the real time plus an offset
// that tests move forward instead of sleeping.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func newHarness(t *testing.T) *harness { return newHarnessOn(t, memory.New(nil)) }

// backends are the stores the provider's tests run on where storage is
// the point: memory and PostgreSQL.
var backends = []struct {
	name string
	mk   func(t *testing.T) *harness
}{
	{"memory", newHarness},
	{"postgres", func(t *testing.T) *harness { return newHarnessOn(t, newPostgresStore(t)) }},
}

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

func newHarnessOn(t *testing.T, st store.Store, edit ...func(*oauth.Config)) *harness {
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
	h := &harness{store: st, signing: signing, clock: &clock{}, claims: oauth.Claims{
		Subject: "pairwise-sub", PersonID: "t-0001", Roles: []string{"teacher"}, Tenant: "demo",
		AgeGroup: oauth.AgeAdult, ESIATrust: oauth.TrustConfirmed, FamilyName: "Иванова", GivenName: "Анна",
	}}
	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	cfg := oauth.Config{Issuer: h.srv.URL, Store: st, Signing: signing, HMACSecret: bytes.Repeat([]byte{2}, 32),
		Now: h.clock.Now}
	for _, e := range edit {
		e(&cfg)
	}
	h.provider, err = oauth.New(cfg)
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
		h.clock.Advance(h.atESIA)
		authTime := time.Now()
		if h.authTime != nil {
			authTime = h.authTime(h.clock.Now())
		}
		err = h.provider.CompleteAuthorize(r.Context(), w, req, h.claims, authTime, h.basis)
		if ae, ok := oauth.IsAuthorizeError(err); ok && ae.Redirectable {
			h.provider.WriteAuthorizeError(r.Context(), w, ae)
			return
		}
		if err != nil {
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

// revoke posts an RFC 7009 revocation of token (with hint, if given) as
// the diary and returns the status.
func (h *harness) revoke(t *testing.T, token, hint string) int {
	t.Helper()
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("diary", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// login is a fresh login's tokens: a code, with PKCE, exchanged by the
// standard client.
func (h *harness) login(t *testing.T) *oauth2.Token {
	t.Helper()
	v := oauth2.GenerateVerifier()
	tok, err := h.config().Exchange(context.Background(), h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	return tok
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
		// A login client from before clients create refused API scopes on
		// login clients, holding roster: a login never grants it.
		{"api scope on a legacy login client", strings.NewReplacer("client_id=diary", "client_id=legacy", "scope=openid", "scope=openid+roster").Replace(base.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v))), false, "invalid_scope"},
	}
	must(t, h.store.CreateClient(context.Background(), store.Client{ID: "legacy", TenantID: "demo", SecretHash: oauth.HashSecret("s3cret"),
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile", "roster"}}))
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
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testConcurrentCodeExchange(t, be.mk(t)) })
	}
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
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testRefreshRotationAndReuse(t, be.mk(t)) })
	}
}

// TestConcurrentRefreshIsIdempotent: N presentations of one refresh token
// at once. Within the reuse interval (the default) every one succeeds with
// the same pair and the grant goes on with that one pair; with the
// interval off, one wins and the reuse revokes the grant, as before.
func TestConcurrentRefreshIsIdempotent(t *testing.T) {
	off := 0
	for _, backend := range backends {
		for _, tc := range []struct {
			name     string
			interval *int
		}{
			{"reuse interval", nil},
			{"interval off", &off},
		} {
			t.Run(backend.name+"/"+tc.name, func(t *testing.T) {
				h := backend.mk(t)
				h.setReuseInterval(t, tc.interval)
				ctx := context.Background()
				tok := h.login(t)
				const n = 8
				got := make([]*oauth2.Token, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					wg.Go(func() {
						<-start
						got[i], errs[i] = h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
					})
				}
				close(start)
				wg.Wait()
				var pairs []string
				for i, err := range errs {
					var re *oauth2.RetrieveError
					switch {
					case err == nil:
						pairs = append(pairs, got[i].AccessToken+" "+got[i].RefreshToken)
					case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
					default:
						t.Fatalf("refresh %d: %v", i, err)
					}
				}
				if tc.interval != nil {
					if len(pairs) != 1 {
						t.Fatalf("%d concurrent refreshes of one token won, want 1", len(pairs))
					}
					if h.introspectAny(t) {
						t.Fatal("the grant survived the reuse of its refresh token")
					}
					return
				}
				if len(pairs) != n {
					t.Fatalf("%d of %d concurrent refreshes succeeded, want all", len(pairs), n)
				}
				for i, p := range pairs {
					if p != pairs[0] {
						t.Fatalf("refresh %d got another pair than refresh 0", i)
					}
				}
				next := got[0]
				if next.RefreshToken == tok.RefreshToken || !h.introspect(t, next.AccessToken) || h.introspect(t, tok.AccessToken) {
					t.Fatal("the pair handed out is not the grant's live one")
				}
				// One grant goes on: one refresh token is live (its access
				// token has no row).
				if n, err := h.provider.RevokeSubject(ctx, "demo", "pairwise-sub"); err != nil || n != 1 {
					t.Fatalf("live tokens after the race: %d, %v; want 1", n, err)
				}
			})
		}
	}
}

// setReuseInterval sets the tenant's refresh token reuse interval (nil:
// the default).
func (h *harness) setReuseInterval(t *testing.T, seconds *int) {
	t.Helper()
	ctx := context.Background()
	tn, err := h.store.GetTenant(ctx, "demo")
	must(t, err)
	tn.Tokens.RefreshReuseSeconds = seconds
	must(t, h.store.UpdateTenant(ctx, tn))
}

func testRefreshRotationAndReuse(t *testing.T, h *harness) {
	ctx := context.Background()
	tok := h.login(t)
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
	// The answer was lost: the client retries with the rotated token
	// within the reuse interval and gets the same pair, and no other.
	h.clock.Advance(store.DefaultRefreshReuse - time.Second)
	old := &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}
	again, err := h.config().TokenSource(ctx, old).Token()
	if err != nil {
		t.Fatalf("retry within the reuse interval: %v", err)
	}
	if again.AccessToken != next.AccessToken || again.RefreshToken != next.RefreshToken {
		t.Fatal("the retry got another pair than the rotation it repeats")
	}
	if d := again.Expiry.Sub(next.Expiry); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("the retry's access token expires %v after the first answer's", d)
	}
	if !h.introspect(t, next.AccessToken) {
		t.Fatal("the retry revoked the grant")
	}
	// Past the interval, reusing the rotated refresh token revokes the
	// whole grant.
	h.clock.Advance(2 * time.Second)
	if _, err := h.config().TokenSource(ctx, old).Token(); err == nil {
		t.Fatal("rotated refresh token accepted again after the reuse interval")
	}
	if h.introspect(t, next.AccessToken) {
		t.Fatal("grant not revoked after refresh token reuse")
	}
	stale := &oauth2.Token{RefreshToken: next.RefreshToken, Expiry: time.Now().Add(-time.Minute)}
	if _, err := h.config().TokenSource(ctx, stale).Token(); err == nil {
		t.Fatal("refresh token of a revoked grant accepted")
	}
}

// TestRefreshReuseIsForItsClient: within the interval, another client of
// the tenant presenting the rotated token gets invalid_grant and no
// tokens; the grant is left alone and its own client's retry still gets
// its pair.
func TestRefreshReuseIsForItsClient(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	must(t, h.store.CreateClient(ctx, store.Client{ID: "other-diary", TenantID: "demo", SecretHash: oauth.HashSecret("0ther"),
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile"}}))
	tok := h.login(t)
	next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	must(t, err)
	other := h.config()
	other.ClientID, other.ClientSecret = "other-diary", "0ther"
	got, err := other.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("another client's presentation: %v %v, want invalid_grant", got, err)
	}
	again, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	must(t, err)
	if again.AccessToken != next.AccessToken || again.RefreshToken != next.RefreshToken || !h.introspect(t, next.AccessToken) {
		t.Fatal("the grant's own client lost its pair")
	}
}

// TestRefreshReuseNeedsALiveSuccessor: within the interval a rotated token
// is handed its pair back only while that pair is the grant's live one:
// once the successor was rotated in turn, or the grant revoked, the old
// token's reuse is reuse (invalid_grant, the grant revoked).
func TestRefreshReuseNeedsALiveSuccessor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(t *testing.T, h *harness, next *oauth2.Token)
	}{
		{"successor rotated", func(t *testing.T, h *harness, next *oauth2.Token) {
			_, err := h.config().TokenSource(context.Background(), &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
			must(t, err)
		}},
		{"grant revoked", func(t *testing.T, h *harness, next *oauth2.Token) {
			_, err := h.provider.RevokeSubject(context.Background(), "demo", "pairwise-sub")
			must(t, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			tok := h.login(t)
			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			must(t, err)
			tc.after(t, h, next)
			_, err = h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
				t.Fatalf("reuse of the first token: %v, want invalid_grant", err)
			}
			if h.introspectAny(t) {
				t.Fatal("the grant survived the reuse")
			}
		})
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
	if status := h.revoke(t, tok.AccessToken, ""); status != 200 || h.introspect(t, tok.AccessToken) {
		t.Fatalf("revoke: status %d", status)
	}
	tok2, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	n, err := h.provider.RevokeSubject(ctx, "demo", "pairwise-sub")
	must(t, err)
	if n < 1 || h.introspect(t, tok2.AccessToken) {
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
	if set.Len() != 4 {
		t.Fatalf("jwks has %d keys, want 4 (ES256 and RS256, each active and retired)", set.Len())
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

// TestInvalidClientChallenge: a client that failed to authenticate with
// the Authorization header is answered 401 with a Basic challenge
// (RFC 6749 §5.2); one that sent its secret in the form gets no challenge.
func TestInvalidClientChallenge(t *testing.T) {
	h := newHarness(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"roster"}}
	tests := []struct {
		name      string
		basic     bool
		secret    string
		status    int
		challenge bool
	}{
		{"basic, wrong secret", true, "wrong", http.StatusUnauthorized, true},
		{"post, wrong secret", false, "wrong", http.StatusUnauthorized, false},
		{"basic, right secret", true, "apisecret", http.StatusOK, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if !tc.basic {
				f.Set("client_id", "api")
				f.Set("client_secret", tc.secret)
			}
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/token", strings.NewReader(f.Encode()))
			must(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.basic {
				req.SetBasicAuth("api", tc.secret)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			resp.Body.Close()
			challenge := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != tc.status || (challenge != "") != tc.challenge || (tc.challenge && !strings.HasPrefix(challenge, "Basic realm=")) {
				t.Fatalf("status %d, WWW-Authenticate %q", resp.StatusCode, challenge)
			}
		})
	}
}
