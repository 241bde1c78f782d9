package esia_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// today is the injected clock's start: 2026-11-24 10:00 MSK.
var today = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("MSK", 3*3600))

const (
	clientID = "DIARY01"
	redirect = "https://diary.example/esia/callback"
)

var allScopes = []string{"openid", "fullname", "birthdate", "gender", "snils", "id_doc", "birth_cert_doc",
	"email", "mobile", "contacts", "addresses", "kid_fullname", "kid_birthdate", "kid_gender", "kid_snils",
	"kid_birth_cert_doc"}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// testKeys are the keys of one signature algorithm: the information
// system's key and certificate, and ESIA's token keys.
type testKeys struct {
	name       string              // "GOST" or "RSA"
	alg        string              // the JWT alg of the token keys
	client     esia.Signer         // signs client_secret with clientCert's key
	clientCert []byte              // DER
	stranger   esia.Signer         // a key of the same algorithm that is not clientCert's
	esia       esiasim.TokenSigner // the simulator's token key
	esiaOld    esiasim.TokenSigner // another trusted ESIA key (rotation)
	rogue      esiasim.TokenSigner // an untrusted key
}

// keys are the default of the tests, what ESIA accepts today: GOST R
// 34.10-2012 client signatures and GOST3410_2012_256 tokens. They are
// generated once per test binary.
var keys = sync.OnceValue(func() testKeys {
	client, clientCert, err := esiasim.SelfSignedGOST(clientID, today)
	must(err)
	cur, old, rogue := tokenKeys(esiasim.NewGOSTSigner)
	return testKeys{name: "GOST", alg: esia.AlgGOST, client: esia.GOSTSigner{Key: client}, clientCert: clientCert,
		stranger: esia.GOSTSigner{Key: rogue.Key}, esia: cur, esiaOld: old, rogue: rogue}
})

// rsaKeys are the simulator's legacy mode, for the tests about RSA and the
// checks that must hold with either algorithm: RSA client signatures and
// RS256 tokens. RSA generation is slow: once per test binary.
var rsaKeys = sync.OnceValue(func() testKeys {
	client, clientCert, err := esiasim.SelfSignedRSA(clientID, today)
	must(err)
	cur, old, rogue := tokenKeys(esiasim.NewRS256Signer)
	return testKeys{name: "RSA", alg: esia.AlgRS256, client: esia.RSASigner{Key: client}, clientCert: clientCert,
		stranger: esia.RSASigner{Key: rogue.Key}, esia: cur, esiaOld: old, rogue: rogue}
})

// tokenKeys makes ESIA's current and previous token keys and an untrusted
// one, named "ESIA", "ESIA old" and "rogue".
func tokenKeys[S esiasim.TokenSigner](newKey func(cn string, now time.Time) (S, error)) (cur, old, rogue S) {
	var err error
	for _, k := range []struct {
		s  *S
		cn string
	}{{&cur, "ESIA"}, {&old, "ESIA old"}, {&rogue, "rogue"}} {
		*k.s, err = newKey(k.cn, today)
		must(err)
	}
	return cur, old, rogue
}

// keySets are both algorithms, GOST first.
func keySets() []testKeys { return []testKeys{keys(), rsaKeys()} }

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func cert(t testing.TB, der []byte) *x509.Certificate {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// world is a simulator mounted at /esia-sim on 127.0.0.1:0 and a client
// Config for it.
type world struct {
	t     testing.TB
	sim   *esiasim.Simulator
	clock *clock
	cfg   *esia.Config
	base  string
	// observed records Observe calls.
	mu       sync.Mutex
	observed []string
}

// newWorld is a world with the default (GOST) keys.
func newWorld(t testing.TB, mutate ...func(*esiasim.Config)) *world {
	t.Helper()
	return newWorldKeys(t, keys(), mutate...)
}

// newWorldKeys is a world whose system signs with k.client and whose
// simulator signs tokens with k.esia.
func newWorldKeys(t testing.TB, k testKeys, mutate ...func(*esiasim.Config)) *world {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clk := &clock{t: today}
	scfg := esiasim.Config{
		BaseURL:     srv.URL + "/esia-sim",
		Clients:     []esiasim.Client{{ID: clientID, RedirectURIs: []string{redirect}, Certificate: k.clientCert}},
		TokenSigner: k.esia,
		Now:         clk.Now,
	}
	for _, m := range mutate {
		m(&scfg)
	}
	sim, err := esiasim.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close) // releases hung handlers before srv.Close
	mux.Handle("/esia-sim/", http.StripPrefix("/esia-sim", sim))
	ks, err := esia.ParseKeySet(sim.CertificatesPEM())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, sim: sim, clock: clk, base: srv.URL + "/esia-sim"}
	w.cfg = &esia.Config{
		BaseURL:         w.base,
		ClientID:        clientID,
		CertificateHash: gost.CertificateHash(k.clientCert),
		RedirectURL:     redirect,
		Scopes:          allScopes,
		Signer:          k.client,
		Issuer:          sim.Issuer(),
		Keys:            ks,
		Now:             clk.Now,
		Timeout:         2 * time.Second,
		Observe: func(endpoint, code string, _ time.Duration) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.observed = append(w.observed, endpoint+" "+code)
		},
	}
	return w
}

func (w *world) observations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.observed...)
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize follows AuthURL with sim_person and returns the callback query
// after checking that the state came back.
func (w *world) authorize(extra url.Values) url.Values {
	w.t.Helper()
	state, err := esia.NewState()
	if err != nil {
		w.t.Fatal(err)
	}
	u, err := w.cfg.AuthURL(context.Background(), state, extra)
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := noRedirect.Get(u)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		w.t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		w.t.Fatal(err)
	}
	cb := loc.Query()
	if cb.Get("state") != state {
		w.t.Fatalf("callback state %q, want %q", cb.Get("state"), state)
	}
	return cb
}

// code logs oid in and returns the authorization code.
func (w *world) code(oid string) string {
	w.t.Helper()
	cb := w.authorize(url.Values{"sim_person": {oid}})
	if err := esia.ParseCallbackError(cb); err != nil {
		w.t.Fatalf("callback error: %v", err)
	}
	return cb.Get("code")
}

// login logs oid in and exchanges the code.
func (w *world) login(oid string) *esia.Token {
	w.t.Helper()
	tok, err := w.cfg.Exchange(context.Background(), w.code(oid))
	if err != nil {
		w.t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// mint signs claims as a JWT with signer (alg from the signer unless set).
func mint(signer esiasim.TokenSigner, alg string, claims map[string]any) string {
	if alg == "" {
		alg = signer.Alg()
	}
	h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT"})
	p, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sig, err := signer.Sign([]byte(input))
	must(err)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
