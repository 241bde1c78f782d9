package esia_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
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

type testKeys struct {
	client     *rsa.PrivateKey
	clientCert []byte
	esia       *esiasim.RS256Signer // the simulator's token key
	esiaOld    *esiasim.RS256Signer // another trusted ESIA key (rotation)
	rogue      *esiasim.RS256Signer // an untrusted key
}

// keys are generated once per test binary: RSA generation is slow.
var keys = sync.OnceValue(func() testKeys {
	var k testKeys
	var err error
	must := func(e error) {
		if e != nil {
			panic(e)
		}
	}
	k.client, k.clientCert, err = esiasim.SelfSignedRSA(clientID, today)
	must(err)
	k.esia, err = esiasim.NewRS256Signer("ESIA", today)
	must(err)
	k.esiaOld, err = esiasim.NewRS256Signer("ESIA old", today)
	must(err)
	k.rogue, err = esiasim.NewRS256Signer("rogue", today)
	must(err)
	return k
})

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

func newWorld(t testing.TB, mutate ...func(*esiasim.Config)) *world {
	t.Helper()
	k := keys()
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
		Signer:          esia.RSASigner{Key: k.client},
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
func mint(signer *esiasim.RS256Signer, alg string, claims map[string]any) string {
	if alg == "" {
		alg = signer.Alg()
	}
	h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT"})
	p, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, signer.Key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
