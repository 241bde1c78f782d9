package esiasim_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// today is the simulator's clock in tests: 2026-11-24 10:00 MSK.
var today = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("MSK", 3*3600))

const (
	clientID  = "DIARY01"
	redirect  = "https://diary.example/esia/callback"
	redirect2 = "https://diary.example/esia/callback2"
	prefix    = "/esia-sim"
)

// clock is an injected, manually advanced clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// clientKeys are the keys of one signature algorithm: the registered
// system's key and certificate, another system's, and the simulator's token
// key.
type clientKeys struct {
	name       string        // "GOST" or "RSA"
	client     crypto.Signer // *gost.PrivateKey or *rsa.PrivateKey
	clientCert []byte
	other      crypto.Signer // a key of the same algorithm that is not clientCert's
	otherCert  []byte
	signer     esiasim.TokenSigner
	// newSigner makes another token key of the same algorithm (rotation).
	newSigner func(cn string) (esiasim.TokenSigner, error)
}

// keys are the default of the tests, what ESIA accepts today: GOST R
// 34.10-2012 client secrets and GOST3410_2012_256 tokens. Generated once
// per test binary.
var keys = sync.OnceValue(func() clientKeys {
	return makeKeys("GOST", esiasim.SelfSignedGOST, func(cn string) (esiasim.TokenSigner, error) {
		return esiasim.NewGOSTSigner(cn, today)
	})
})

// rsaKeys are the simulator's legacy mode, for the tests about RSA and the
// checks that must hold with either algorithm: RSA client secrets and RS256
// tokens. RSA generation is slow: once per test binary.
var rsaKeys = sync.OnceValue(func() clientKeys {
	return makeKeys("RSA", esiasim.SelfSignedRSA, func(cn string) (esiasim.TokenSigner, error) {
		return esiasim.NewRS256Signer(cn, today)
	})
})

func makeKeys[K crypto.Signer](name string, selfSigned func(cn string, now time.Time) (K, []byte, error),
	newSigner func(cn string) (esiasim.TokenSigner, error)) clientKeys {
	client, clientCert, err := selfSigned(clientID, today)
	if err != nil {
		panic(err)
	}
	other, otherCert, err := selfSigned("other", today)
	if err != nil {
		panic(err)
	}
	signer, err := newSigner("ESIA simulator (test)")
	if err != nil {
		panic(err)
	}
	return clientKeys{name: name, client: client, clientCert: clientCert, other: other, otherCert: otherCert,
		signer: signer, newSigner: newSigner}
}

// keySets are both algorithms, GOST first.
func keySets() []clientKeys { return []clientKeys{keys(), rsaKeys()} }

// env is a simulator mounted under /esia-sim on 127.0.0.1:0.
type env struct {
	t     *testing.T
	keys  clientKeys // the registered system's and the token keys
	sim   *esiasim.Simulator
	srv   *httptest.Server
	clock *clock
	base  string
	hash  string
	http  *http.Client
}

// newEnv is an env with the default (GOST) keys.
func newEnv(t *testing.T, mutate ...func(*esiasim.Config)) *env {
	t.Helper()
	return newEnvKeys(t, keys(), mutate...)
}

// newEnvKeys is an env whose system is registered with k.clientCert and
// whose tokens k.signer signs.
func newEnvKeys(t *testing.T, k clientKeys, mutate ...func(*esiasim.Config)) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clk := &clock{t: today}
	cfg := esiasim.Config{
		BaseURL: srv.URL + prefix,
		Clients: []esiasim.Client{{
			ID: clientID, RedirectURIs: []string{redirect, redirect2}, Certificate: k.clientCert,
			Scopes: []string{"openid", "fullname", "birthdate", "gender", "snils", "inn", "id_doc", "birth_cert_doc",
				"email", "mobile", "contacts", "addresses", "kid_fullname", "kid_birthdate", "kid_gender",
				"kid_snils", "kid_inn", "kid_birth_cert_doc"},
		}},
		TokenSigner: k.signer,
		Now:         clk.Now,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	sim, err := esiasim.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(sim.Close)
	mux.Handle(prefix+"/", http.StripPrefix(prefix, sim))
	return &env{
		t: t, keys: k, sim: sim, srv: srv, clock: clk, base: srv.URL + prefix, hash: gost.CertificateHash(k.clientCert),
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
}

// sign signs a client_secret message with key and encodes it base64url
// without padding: GOST R 34.10-2012 over Streebog-256 in OpenSSL's byte
// order (what ESIA takes), or RSASSA-PKCS1-v1_5 over SHA-256.
func sign(key crypto.Signer, msg string) string {
	return base64.RawURLEncoding.EncodeToString(signRaw(key, msg))
}

func signRaw(key crypto.Signer, msg string) []byte {
	var sig []byte
	var err error
	switch key := key.(type) {
	case *gost.PrivateKey:
		sig, err = gost.SignMessage(rand.Reader, key, []byte(msg))
	case *rsa.PrivateKey:
		sum := sha256.Sum256([]byte(msg))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	default:
		err = fmt.Errorf("no client_secret with a %T", key)
	}
	if err != nil {
		panic(err)
	}
	return sig
}

const stateA = "2f1e7c3a-0b4d-4c1e-9a7f-3d2b1c0e9f8a"

// acParams returns a valid v2/ac query for scope.
func (e *env) acParams(scope string) url.Values {
	ts := e.clock.Now().Format(esiasim.TimestampLayout)
	return url.Values{
		"client_id": {clientID}, "client_certificate_hash": {e.hash}, "redirect_uri": {redirect},
		"scope": {scope}, "response_type": {"code"}, "state": {stateA}, "timestamp": {ts},
		"access_type":   {"online"},
		"client_secret": {sign(e.keys.client, clientID+scope+ts+stateA+redirect)},
	}
}

// resign recomputes client_secret of a v2/ac query after a change.
func (k clientKeys) resign(q url.Values) {
	q.Set("client_secret", sign(k.client, q.Get("client_id")+q.Get("scope")+q.Get("scope_org")+q.Get("timestamp")+q.Get("state")+q.Get("redirect_uri")))
}

func (e *env) get(path string, q url.Values, bearer string) *http.Response {
	e.t.Helper()
	u := e.base + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

func (e *env) postForm(path string, f url.Values) *http.Response {
	e.t.Helper()
	resp, err := e.http.PostForm(e.base+path, f)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// callback parses the Location of a redirect to the client.
func callback(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query()
}

// errCode extracts the ESIA code from an error_description.
func errCode(desc string) string {
	code, _, _ := strings.Cut(desc, ":")
	return code
}

// authorize runs v2/ac for oid and returns the code.
func (e *env) authorize(oid, scope, accessType string) string {
	e.t.Helper()
	q := e.acParams(scope)
	q.Set("access_type", accessType)
	q.Set("sim_person", oid)
	cb := callback(e.t, e.get("/aas/oauth2/v2/ac", q, ""))
	if cb.Get("code") == "" {
		e.t.Fatalf("no code: %v", cb)
	}
	return cb.Get("code")
}

const stateB = "7b0c2d4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"

// teParams returns a valid code-grant form for v3/te.
func (e *env) teParams(code, scope string) url.Values {
	ts := e.clock.Now().Format(esiasim.TimestampLayout)
	return url.Values{
		"client_id": {clientID}, "code": {code}, "grant_type": {"authorization_code"},
		"client_certificate_hash": {e.hash}, "state": {stateB}, "redirect_uri": {redirect},
		"scope": {scope}, "timestamp": {ts}, "token_type": {"Bearer"},
		"client_secret": {sign(e.keys.client, clientID+scope+ts+stateB+redirect+code)},
	}
}

type tokenJSON struct {
	AccessToken      string `json:"access_token"`
	IDToken          string `json:"id_token"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int    `json:"expires_in"`
	State            string `json:"state"`
	TokenType        string `json:"token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func decodeToken(t *testing.T, resp *http.Response) (int, tokenJSON) {
	t.Helper()
	var tj tokenJSON
	if err := json.Unmarshal([]byte(body(t, resp)), &tj); err != nil {
		t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, tj
}

// login returns an access token for oid with scope.
func (e *env) login(oid, scope string) tokenJSON {
	e.t.Helper()
	status, tj := decodeToken(e.t, e.postForm("/aas/oauth2/v3/te", e.teParams(e.authorize(oid, scope, "online"), scope)))
	if status != http.StatusOK {
		e.t.Fatalf("te: %d %s", status, tj.ErrorDescription)
	}
	return tj
}

// claims decodes a JWT payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
