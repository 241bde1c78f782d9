package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// faultyStore fails every call the provider makes once failWith is set,
// as a store on a database that went away would.
type faultyStore struct {
	store.Store
	mu  sync.Mutex
	err error
}

func (f *faultyStore) failWith(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *faultyStore) fault() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *faultyStore) GetClient(ctx context.Context, id string) (store.Client, error) {
	if err := f.fault(); err != nil {
		return store.Client{}, fmt.Errorf("postgres: get client: %w", err)
	}
	return f.Store.GetClient(ctx, id)
}

func (f *faultyStore) GetOAuthGrant(ctx context.Context, requestID string) (store.OAuthGrant, error) {
	if err := f.fault(); err != nil {
		return store.OAuthGrant{}, fmt.Errorf("postgres: get oauth grant: %w", err)
	}
	return f.Store.GetOAuthGrant(ctx, requestID)
}

func (f *faultyStore) GetOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) (store.OAuthRecord, error) {
	if err := f.fault(); err != nil {
		return store.OAuthRecord{}, fmt.Errorf("postgres: get oauth record: %w", err)
	}
	return f.Store.GetOAuthRecord(ctx, kind, sig)
}

func (f *faultyStore) GetOAuthRecordSet(ctx context.Context, sig string, kinds []store.OAuthKind) (map[store.OAuthKind]store.OAuthRecord, error) {
	if err := f.fault(); err != nil {
		return nil, fmt.Errorf("postgres: get oauth records: %w", err)
	}
	return f.Store.GetOAuthRecordSet(ctx, sig, kinds)
}

func (f *faultyStore) ApplyOAuth(ctx context.Context, b store.OAuthBatch) error {
	if err := f.fault(); err != nil {
		return fmt.Errorf("postgres: apply oauth batch: %w", err)
	}
	return f.Store.ApplyOAuth(ctx, b)
}

func (f *faultyStore) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	if err := f.fault(); err != nil {
		return fmt.Errorf("postgres: create oauth record: %w", err)
	}
	return f.Store.CreateOAuthRecord(ctx, r)
}

func (f *faultyStore) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if err := f.fault(); err != nil {
		return store.Tenant{}, fmt.Errorf("postgres: get tenant: %w", err)
	}
	return f.Store.GetTenant(ctx, id)
}

func (f *faultyStore) DeactivateOAuthRequest(ctx context.Context, kind store.OAuthKind, requestID string) error {
	if err := f.fault(); err != nil {
		return fmt.Errorf("postgres: deactivate oauth request: %w", err)
	}
	return f.Store.DeactivateOAuthRequest(ctx, kind, requestID)
}

// outageHarness is a harness whose log and storage-failure hook are kept.
type outageHarness struct {
	*harness
	logs   *bytes.Buffer
	mu     sync.Mutex
	failed []string // endpoints StorageFailed was called for
}

func newOutageHarness(t *testing.T, st store.Store) *outageHarness {
	o := &outageHarness{logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(&syncWriter{w: o.logs}, nil))
	o.harness = newHarnessOn(t, st, func(c *oauth.Config) {
		c.Logger = logger
		// Every call reads the grant: a cached one would answer without
		// the store.
		c.GrantCacheTTL = -1
		c.StorageFailed = func(endpoint string, _ *oauth.StorageError) {
			o.mu.Lock()
			o.failed = append(o.failed, endpoint)
			o.mu.Unlock()
		}
	})
	return o
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// grants is what a diary and an API client hold when the outage starts.
type grants struct {
	code, verifier string
	tok            *oauth2.Token
}

func (h *harness) grants(t *testing.T) grants {
	v := oauth2.GenerateVerifier()
	tok, err := h.config().Exchange(context.Background(), h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	g := grants{verifier: oauth2.GenerateVerifier(), tok: tok}
	g.code = h.code(t, g.verifier)
	return g
}

// endpointCalls are one request to each endpoint a diary or an API client
// calls with the grants.
func (h *harness) endpointCalls(g grants) []struct {
	name, endpoint string
	req            func() *http.Request
} {
	form := func(path, user, pass string, f url.Values) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(f.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth(user, pass)
			return r
		}
	}
	return []struct {
		name, endpoint string
		req            func() *http.Request
	}{
		{"code exchange", "/oauth2/token", form("/oauth2/token", "diary", "s3cret", url.Values{"grant_type": {"authorization_code"},
			"code": {g.code}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {g.verifier}})},
		{"refresh", "/oauth2/token", form("/oauth2/token", "diary", "s3cret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.tok.RefreshToken}})},
		{"client credentials", "/oauth2/token", form("/oauth2/token", "api", "apisecret", url.Values{"grant_type": {"client_credentials"}, "scope": {"roster"}})},
		{"introspection", "/oauth2/introspect", form("/oauth2/introspect", "api", "apisecret", url.Values{"token": {g.tok.AccessToken}})},
		{"revocation", "/oauth2/revoke", form("/oauth2/revoke", "diary", "s3cret", url.Values{"token": {g.tok.AccessToken}})},
		{"userinfo", "/userinfo", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/userinfo", nil)
			r.Header.Set("Authorization", "Bearer "+g.tok.AccessToken)
			return r
		}},
	}
}

type oauthAnswer struct {
	status     int
	retryAfter string
	Error      string `json:"error"`
}

func call(t *testing.T, r *http.Request) oauthAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	must(t, err)
	defer resp.Body.Close()
	a := oauthAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &a)
	return a
}

// TestStorageFailureIsNeverTheClientsFault: while the store fails, every
// endpoint a diary calls — token (code, refresh, client credentials),
// introspection, revocation, userinfo — answers 503 temporarily_unavailable
// with Retry-After when the database cannot be used, 500 server_error for
// another storage error; never 401 invalid_client, active:false, a 200
// for a revocation that did not happen, or invalid_token. Whether the
// client was cached or not. Each failure is logged at ERROR with its cause
// and reported to StorageFailed; once the store is back, the grants work
// as before (nothing was spent or lost).
func TestStorageFailureIsNeverTheClientsFault(t *testing.T) {
	fs := &faultyStore{Store: memory.New(nil)}
	h := newOutageHarness(t, fs)
	g := h.grants(t)
	failures := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"database unavailable", fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable),
			http.StatusServiceUnavailable, "temporarily_unavailable", "30"},
		{"other storage error", errors.New("can't scan into dest[3]: corrupt row"), http.StatusInternalServerError, "server_error", ""},
	}
	for _, f := range failures {
		for _, cached := range []bool{true, false} {
			for _, c := range h.endpointCalls(g) {
				t.Run(fmt.Sprintf("%s/client cached %v/%s", f.name, cached, c.name), func(t *testing.T) {
					if !cached {
						h.provider.ForgetClient("diary")
						h.provider.ForgetClient("api")
					}
					h.mu.Lock()
					h.failed = nil
					h.mu.Unlock()
					fs.failWith(f.err)
					defer fs.failWith(nil)
					a := call(t, c.req())
					if a.status != f.status || a.Error != f.code || a.retryAfter != f.retryAfter {
						t.Fatalf("answer %d %q Retry-After %q, want %d %q Retry-After %q", a.status, a.Error, a.retryAfter, f.status, f.code, f.retryAfter)
					}
					if !strings.Contains(h.logs.String(), `"level":"ERROR","msg":"oauth endpoint failed: storage","endpoint":"`+c.endpoint+`"`) ||
						!strings.Contains(h.logs.String(), strings.ReplaceAll(f.err.Error(), `"`, `\"`)) {
						t.Fatalf("no ERROR line with the cause: %s", h.logs.String())
					}
					h.mu.Lock()
					defer h.mu.Unlock()
					if len(h.failed) != 1 || h.failed[0] != c.endpoint {
						t.Fatalf("StorageFailed called for %v, want [%s]", h.failed, c.endpoint)
					}
				})
			}
		}
	}
	// Back up: the code was not spent, the tokens were not revoked.
	tok, err := h.config().Exchange(context.Background(), g.code, oauth2.VerifierOption(g.verifier))
	if err != nil {
		t.Fatalf("the code did not survive the outage: %v", err)
	}
	if !h.introspect(t, g.tok.AccessToken) || !h.introspect(t, tok.AccessToken) {
		t.Fatal("tokens inactive after the outage")
	}
}

// TestAuthorizeStorageFailure: an authorization request whose client cannot
// be looked up because the database is unavailable is a storage failure
// (oauth.StorageFailure, Unavailable), not an invalid_client for the page.
func TestAuthorizeStorageFailure(t *testing.T) {
	fs := &faultyStore{Store: memory.New(nil)}
	h := newHarnessOn(t, fs)
	fs.failWith(fmt.Errorf("%w: connection refused", store.ErrUnavailable))
	authURL := h.config().AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("nonce-12345678"))
	_, err := h.provider.ParseAuthorize(context.Background(), httptest.NewRequest(http.MethodGet, authURL, nil))
	if se := oauth.StorageFailure(err); se == nil || !se.Unavailable() {
		t.Fatalf("ParseAuthorize: %v, want an unavailable storage failure", err)
	}
}

// TestTokenEndpointOnAnUnreachableDatabase: the same against PostgreSQL —
// the diary's client lookup and code exchange on a database whose
// connections were terminated and which lets none in answer 503
// temporarily_unavailable with Retry-After, not 401 invalid_client; when
// the database is back, the same code is exchanged.
func TestTokenEndpointOnAnUnreachableDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t)
	pool, err := postgres.Connect(context.Background(), url)
	must(t, err)
	t.Cleanup(pool.Close)
	kek, _ := keyring.NewKEK(bytes.Repeat([]byte{3}, 32))
	pg := postgres.New(pool, nil)
	pii, err := keyring.OpenPII(context.Background(), pg, kek, nil)
	must(t, err)
	h := newOutageHarness(t, pg.WithSealer(pii))
	g := h.grants(t)
	restore := pgtest.Cut(t, url)
	h.provider.ForgetClient("diary")
	for _, c := range h.endpointCalls(g) {
		a := call(t, c.req())
		if a.status != http.StatusServiceUnavailable || a.Error != "temporarily_unavailable" || a.retryAfter != "30" {
			t.Errorf("%s: %d %q Retry-After %q, want 503 temporarily_unavailable Retry-After 30", c.name, a.status, a.Error, a.retryAfter)
		}
	}
	if !strings.Contains(h.logs.String(), "not currently accepting connections") {
		t.Errorf("the cause is not logged: %s", h.logs.String())
	}
	restore()
	if _, err := h.config().Exchange(context.Background(), g.code, oauth2.VerifierOption(g.verifier)); err != nil {
		t.Fatalf("code after the database came back: %v", err)
	}
}

// TestAPITokenOnAFailingStore: an API call whose bearer token cannot be
// read because the database is unavailable is a storage failure, not
// ErrInvalidToken (which the API answers 401).
func TestAPITokenOnAFailingStore(t *testing.T) {
	fs := &faultyStore{Store: memory.New(nil)}
	h := newHarnessOn(t, fs)
	g := h.grants(t)
	fs.failWith(fmt.Errorf("%w: connection refused", store.ErrUnavailable))
	r := httptest.NewRequest(http.MethodGet, "/api/v1/roster", nil)
	r.Header.Set("Authorization", "Bearer "+g.tok.AccessToken)
	_, err := h.provider.AuthenticateAPI(context.Background(), r, oauth.ScopeOpenID)
	if se := oauth.StorageFailure(err); se == nil || !se.Unavailable() || errors.Is(err, oauth.ErrInvalidToken) {
		t.Fatalf("AuthenticateAPI: %v, want an unavailable storage failure", err)
	}
}
