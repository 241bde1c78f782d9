package main_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// simPersons are the tests' ESIA fixture persons: a teacher who is in
// teacherRow's roster and a man who is in no roster.
const simPersons = `[
 {"oid": "1000100001", "lvl": "PR", "sim": {"description": "учитель из реестра", "role": "учитель"},
  "firstName": "Елена", "lastName": "Смирнова", "middleName": "Викторовна", "birthDate": "14.03.1985",
  "gender": "F", "snils": "112-233-401 83", "trusted": true},
 {"oid": "1000100015", "lvl": "PR", "sim": {"description": "нет в дневнике"},
  "firstName": "Сергей", "lastName": "Орлов", "middleName": "Михайлович", "birthDate": "02.04.1987",
  "gender": "M", "snils": "132-057-694 39", "trusted": true}
]`

const (
	oidTeacher = "1000100001"
	teacherRow = `{"type":"person","external_id":"t-0001","role":"teacher","last_name":"Смирнова","first_name":"Елена","middle_name":"Викторовна","birth_date":"1985-03-14","snils":"112-233-401 83"}`
)

// system is the information system registered in ESIA: its GOST key and
// certificate, as files.
type system struct {
	key                            *gost.PrivateKey
	der                            []byte
	keyFile, certFile, personsFile string
}

func newSystem(t testing.TB, dir string) system {
	t.Helper()
	key, der, err := esiasim.SelfSignedGOST("Дневник-брокер (test)", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := gost.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return system{key: key, der: der,
		keyFile:     writeFile(t, dir, "system.key.pem", keyPEM),
		certFile:    writeFile(t, dir, "system.crt.pem", gost.MarshalCertificatePEM(der)),
		personsFile: writeFile(t, dir, "esia-persons.json", []byte(simPersons))}
}

// simulator is a running `broker esia-sim`, as its start line describes it.
type simulator struct {
	addr, base, issuer, hash string
}

var simStarted = regexp.MustCompile(`ESIA simulator listening on (\S+), base URL (\S+) \(issuer (\S+), client_certificate_hash (\w+)\)`)

// startSim runs `broker esia-sim --addr 127.0.0.1:0 args…` and waits for its
// start line.
func startSim(t testing.TB, args ...string) simulator {
	t.Helper()
	p := startBroker(t, nil, append([]string{"esia-sim", "--addr", "127.0.0.1:0"}, args...)...)
	m := p.waitFor(simStarted)
	return simulator{addr: m[1], base: m[2], issuer: m[3], hash: m[4]}
}

var (
	simRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)
	simAction  = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// noRedirects is a client that stops at every redirect.
var noRedirects = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// simLogin asks the simulator for cfg's authorization, then chooses
// oid on its login page. It returns the page, its form action and where
// the simulator sent the browser.
func simLogin(t *testing.T, cfg *esia.Config, sim simulator, oid string) (page, action string, to *url.URL) {
	t.Helper()
	state, err := esia.NewState()
	if err != nil {
		t.Fatal(err)
	}
	u, err := cfg.AuthURL(context.Background(), state, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, page = answer(t)(noRedirects.Get(u))
	resp, _, action := sim.choose(t, noRedirects, page, oid)
	if to, err = url.Parse(resp.Header.Get("Location")); err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if q := to.Query(); q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("login ended at %s", to)
	}
	return page, action, to
}

// choose submits the simulator's login page for oid with c, and returns
// the answer and the form's action. The form is posted to the address the
// simulator listens on, as a gateway at --base-url would pass it on.
func (sim simulator) choose(t *testing.T, c *http.Client, page, oid string) (*http.Response, string, string) {
	t.Helper()
	req, act := simRequest.FindStringSubmatch(page), simAction.FindStringSubmatch(page)
	if req == nil || act == nil {
		t.Fatalf("no simulator login page: %.500s", page)
	}
	action := html.UnescapeString(act[1])
	resp, body := answer(t)(c.PostForm("http://"+sim.addr+strings.TrimPrefix(action, sim.base),
		url.Values{"request": {html.UnescapeString(req[1])}, "person": {oid}}))
	return resp, body, action
}

// answer returns a function that reads and closes an HTTP answer:
// answer(t)(client.Get(u)) gives the response and its body.
func answer(t testing.TB) func(*http.Response, error) (*http.Response, string) {
	return func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
}

func TestESIASimCommand(t *testing.T) {
	dir := t.TempDir()
	sys := newSystem(t, dir)
	const redirect = "https://diary-broker.example/esia/callback"
	for _, tc := range []struct {
		name    string
		args    []string
		alg     string
		base    string        // "" for http://<the address it listens on>
		latency time.Duration // at least this per answer
	}{
		{name: "RS256 at its own address, slowed", args: []string{"--token-alg", "RS256", "--latency", "50ms"}, alg: "RS256", latency: 50 * time.Millisecond},
		{name: "GOST behind a gateway", args: []string{"--base-url", "https://gateway.example/esia/"}, alg: "GOST3410_2012_256", base: "https://gateway.example/esia"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certOut := filepath.Join(t.TempDir(), "esia-sim.pem")
			sim := startSim(t, append([]string{"--client-id", "DIARYTEST", "--client-cert", sys.certFile,
				"--redirect-uri", "https://other.example/cb", "--redirect-uri", redirect,
				"--esia-persons", sys.personsFile, "--cert-out", certOut}, tc.args...)...)
			base := tc.base
			if base == "" {
				base = "http://" + sim.addr
			}
			if sim.base != base || sim.issuer != base+"/" || sim.hash != gost.CertificateHash(sys.der) {
				t.Fatalf("start line: %+v, want base %s", sim, base)
			}
			// --cert-out holds what /sim/certificates.pem serves.
			written := readFile(t, certOut)
			_, served := answer(t)(http.Get("http://" + sim.addr + "/sim/certificates.pem"))
			if block, _ := pem.Decode(written); block == nil || block.Type != "CERTIFICATE" || string(served) != string(written) {
				t.Fatalf("--cert-out wrote %q; the simulator serves %q", written, served)
			}
			keys, err := esia.LoadKeySet(certOut)
			if err != nil {
				t.Fatal(err)
			}
			cfg := &esia.Config{BaseURL: "http://" + sim.addr, ClientID: "DIARYTEST", CertificateHash: sim.hash,
				RedirectURL: redirect, Scopes: []string{"openid", "fullname"}, Signer: esia.GOSTSigner{Key: sys.key},
				Issuer: sim.issuer, Keys: keys}
			start := time.Now()
			page, action, to := simLogin(t, cfg, sim, oidTeacher)
			if time.Since(start) < 2*tc.latency { // the page and the form's answer
				t.Fatalf("login took %v with --latency %v", time.Since(start), tc.latency)
			}
			for _, want := range []string{"Смирнова", "Елена", "учитель из реестра", "Орлов", "Сергей", `value="1000100015"`} {
				if !strings.Contains(page, want) {
					t.Fatalf("login page lacks the fixture person's %q: %.1000s", want, page)
				}
			}
			if action != base+esia.PathAuthorize || !strings.HasPrefix(to.String(), redirect+"?") {
				t.Fatalf("form action %s, redirect %s", action, to)
			}
			// The token verifies with the certificate --cert-out wrote.
			tok, err := cfg.Exchange(context.Background(), to.Query().Get("code"))
			if err != nil {
				t.Fatalf("exchange, trusting --cert-out: %v", err)
			}
			if tok.Identity.OID != oidTeacher || jwtAlg(t, tok.AccessToken) != tc.alg {
				t.Fatalf("token of %s signed with %s", tok.Identity.OID, jwtAlg(t, tok.AccessToken))
			}
			if c := keys.Certificates()[0]; (c.PublicKeyAlgorithm == x509.RSA) != (tc.alg == "RS256") {
				t.Fatalf("--cert-out certificate has a %v key", c.PublicKeyAlgorithm)
			}
		})
	}
}

// jwtAlg is the alg of a JWT's header.
func jwtAlg(t *testing.T, jwt string) string {
	t.Helper()
	var h struct{ Alg string }
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("JWT header of %.40s…: %v", jwt, err)
	}
	return h.Alg
}

// TestESIASimBadFlags: a bad value is named on standard error and the
// command exits non-zero without serving.
func TestESIASimBadFlags(t *testing.T) {
	dir := t.TempDir()
	sys := newSystem(t, dir)
	notJSON := writeFile(t, dir, "persons.txt", []byte("not json"))
	good := map[string]string{"--client-id": "DIARYTEST", "--client-cert": sys.certFile, "--redirect-uri": "https://diary.example/cb"}
	for _, tc := range []struct {
		flag, value string
		code        int // 80: kong refused the command line; 2: refused at start
		want        string
	}{
		{"--token-alg", "HS256", 80, `--token-alg must be one of "GOST3410_2012_256","RS256" but got "HS256"`},
		{"--latency", "soon", 80, `--latency: expected duration but got "soon"`},
		{"--client-cert", filepath.Join(dir, "missing.pem"), 80, "--client-cert: stat"},
		{"--esia-persons", filepath.Join(dir, "missing.json"), 80, "--esia-persons: stat"},
		{"--client-cert", sys.keyFile, 2, "--client-cert " + sys.keyFile + ": no CERTIFICATE in the file"},
		{"--esia-persons", notJSON, 2, "--esia-persons " + notJSON + ":"},
		{"--base-url", "gateway.example", 2, "BaseURL must be an absolute http(s) URL"},
		{"--addr", "127.0.0.1", 2, "--addr: listen tcp: address 127.0.0.1: missing port in address"},
		{"--client-id", "", 2, "--client-id must not be empty"},
	} {
		t.Run(tc.flag+"="+filepath.Base(tc.value), func(t *testing.T) {
			args := []string{"esia-sim", "--cert-out", filepath.Join(t.TempDir(), "esia-sim.pem")}
			if tc.flag != "--addr" {
				args = append(args, "--addr", "127.0.0.1:0")
			}
			for flag, v := range good {
				if flag != tc.flag {
					args = append(args, flag, v)
				}
			}
			p := startBroker(t, nil, append(args, tc.flag, tc.value)...)
			if code := p.exitCode(); code != tc.code || !strings.Contains(p.out.String(), tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s", code, tc.code, tc.want, p.out)
			}
			if strings.Contains(p.out.String(), "listening on") {
				t.Fatalf("served despite the bad value:\n%s", p.out)
			}
		})
	}
}
