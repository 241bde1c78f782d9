package esiasim_test

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/cms"
	"github.com/diarybroker/broker/pkg/esia/cms/cmstest"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/testenv"
)

// cmsSigner signs a v1 message and returns the client_secret.
type cmsSigner func(t *testing.T, msg string) string

// goCMS signs with cmstest (no openssl needed).
func goCMS(cert []byte, key crypto.Signer, o cmstest.Options) cmsSigner {
	return func(t *testing.T, msg string) string {
		t.Helper()
		der, err := cmstest.Sign([]byte(msg), cert, key, o)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(der)
	}
}

// v1Message is what the legacy endpoints sign (ESIA.md).
func v1Message(q url.Values) string {
	return q.Get("scope") + q.Get("timestamp") + q.Get("client_id") + q.Get("state")
}

// v1AC returns a valid legacy /aas/oauth2/ac query.
func (e *env) v1AC(scope string, sign cmsSigner) url.Values {
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirect}, "scope": {scope}, "response_type": {"code"},
		"state": {stateA}, "timestamp": {e.clock.Now().Format(esiasim.TimestampLayout)}, "access_type": {"online"},
		"sim_person": {"1000100001"},
	}
	q.Set("client_secret", sign(e.t, v1Message(q)))
	return q
}

// v1TE returns a valid legacy /aas/oauth2/te form.
func (e *env) v1TE(code, scope string, sign cmsSigner) url.Values {
	f := url.Values{
		"client_id": {clientID}, "code": {code}, "grant_type": {"authorization_code"}, "state": {stateB},
		"redirect_uri": {redirect}, "scope": {scope}, "timestamp": {e.clock.Now().Format(esiasim.TimestampLayout)},
		"token_type": {"Bearer"},
	}
	f.Set("client_secret", sign(e.t, v1Message(f)))
	return f
}

// v1Client is a registered client's certificate with its signers.
type v1Client struct {
	name  string
	cert  []byte
	good  []cmsSigner // accepted shapes of the signature
	other cmsSigner   // a signer with another certificate
	key   crypto.Signer
}

func v1Clients() []v1Client {
	r, g := rsaKeys(), keys()
	return []v1Client{
		{name: "RSA", cert: r.clientCert, key: r.client, other: goCMS(r.otherCert, r.other, cmstest.Options{}), good: []cmsSigner{
			goCMS(r.clientCert, r.client, cmstest.Options{}),
			goCMS(r.clientCert, r.client, cmstest.Options{SignedAttributes: true}),
			goCMS(r.clientCert, r.client, cmstest.Options{SubjectKeyID: true, NoCertificates: true}),
		}},
		{name: "GOST", cert: g.clientCert, key: g.client, other: goCMS(g.otherCert, g.other, cmstest.Options{}), good: []cmsSigner{
			goCMS(g.clientCert, g.client, cmstest.Options{}),
			goCMS(g.clientCert, g.client, cmstest.Options{SignedAttributes: true}),
			goCMS(g.clientCert, g.client, cmstest.Options{SubjectKeyID: true, SignedAttributes: true}),
		}},
	}
}

func withCert(cert []byte) func(*esiasim.Config) {
	return func(c *esiasim.Config) { c.Clients[0].Certificate = cert }
}

// TestLegacyV1 runs the legacy endpoints with Go-built CMS signatures, RSA
// and GOST: the happy path for every accepted shape, then the rejections.
func TestLegacyV1(t *testing.T) {
	for _, cl := range v1Clients() {
		t.Run(cl.name, func(t *testing.T) {
			e := newEnv(t, withCert(cl.cert))
			for i, good := range cl.good {
				cb := callback(t, e.get("/aas/oauth2/ac", e.v1AC(scopeBasic, good), ""))
				if cb.Get("code") == "" || cb.Get("state") != stateA {
					t.Fatalf("signer %d: callback %v", i, cb)
				}
				status, tj := decodeToken(t, e.postForm("/aas/oauth2/te", e.v1TE(cb.Get("code"), scopeBasic, good)))
				if status != http.StatusOK || tj.State != stateB || tj.AccessToken == "" || claims(t, tj.IDToken)["sub"] == nil {
					t.Fatalf("signer %d: te %d %s", i, status, tj.ErrorDescription)
				}
			}
			sign := cl.good[0]
			tests := []struct {
				name   string
				secret func(q url.Values) string
				code   string
			}{
				{"padded base64url", func(q url.Values) string {
					raw, _ := base64.RawURLEncoding.DecodeString(sign(t, v1Message(q)))
					return base64.URLEncoding.EncodeToString(raw)
				}, ""},
				{"v2-ordered message", func(q url.Values) string {
					return sign(t, clientID+q.Get("scope")+q.Get("timestamp")+q.Get("state")+redirect)
				}, "ESIA-007053"},
				{"another certificate", func(q url.Values) string { return cl.other(t, v1Message(q)) }, "ESIA-007002"},
				{"tampered", func(q url.Values) string {
					raw, _ := base64.RawURLEncoding.DecodeString(sign(t, v1Message(q)))
					raw[len(raw)-4] ^= 0x10
					return base64.RawURLEncoding.EncodeToString(raw)
				}, "ESIA-007053"},
				{"attached content", func(q url.Values) string {
					return goCMS(cl.cert, cl.key, cmstest.Options{Attached: true})(t, v1Message(q))
				}, "ESIA-007053"},
				{"raw v2-style signature", func(q url.Values) string { return base64.RawURLEncoding.EncodeToString(make([]byte, 64)) }, "ESIA-007053"},
				{"standard base64", func(q url.Values) string {
					raw, _ := base64.RawURLEncoding.DecodeString(sign(t, v1Message(q)))
					return base64.StdEncoding.EncodeToString(append(raw, 0xfb, 0xff)) // carries + and /
				}, "ESIA-007053"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					q := e.v1AC(scopeBasic, sign)
					q.Set("client_secret", tc.secret(q))
					cb := callback(t, e.get("/aas/oauth2/ac", q, ""))
					if got := errCode(cb.Get("error_description")); got != tc.code {
						t.Fatalf("code %q (%s), want %q", got, cb.Get("error_description"), tc.code)
					}
				})
			}
			t.Run("te checks the CMS secret", func(t *testing.T) {
				cb := callback(t, e.get("/aas/oauth2/ac", e.v1AC(scopeBasic, sign), ""))
				f := e.v1TE(cb.Get("code"), scopeBasic, sign)
				f.Set("client_secret", cl.other(t, v1Message(f)))
				if status, tj := decodeToken(t, e.postForm("/aas/oauth2/te", f)); status != http.StatusBadRequest || errCode(tj.ErrorDescription) != "ESIA-007002" {
					t.Fatalf("%d %s", status, tj.ErrorDescription)
				}
				f = e.v1TE(cb.Get("code"), scopeBasic, sign)
				f.Set("client_secret", sign(t, v1Message(f)+cb.Get("code"))) // the v3 habit of signing the code
				if status, tj := decodeToken(t, e.postForm("/aas/oauth2/te", f)); status != http.StatusBadRequest || errCode(tj.ErrorDescription) != "ESIA-007053" {
					t.Fatalf("%d %s", status, tj.ErrorDescription)
				}
				// Failed client authentication kept the code.
				if status, tj := decodeToken(t, e.postForm("/aas/oauth2/te", e.v1TE(cb.Get("code"), scopeBasic, sign))); status != http.StatusOK {
					t.Fatalf("%d %s", status, tj.ErrorDescription)
				}
			})
			t.Run("certificate hash checked when sent", func(t *testing.T) {
				q := e.v1AC(scopeBasic, sign)
				q.Set("client_certificate_hash", strings.Repeat("AB", 32))
				if got := errCode(callback(t, e.get("/aas/oauth2/ac", q, "")).Get("error_description")); got != "ESIA-007002" {
					t.Fatalf("code %q", got)
				}
				q.Set("client_certificate_hash", gost.CertificateHash(cl.cert))
				if cb := callback(t, e.get("/aas/oauth2/ac", q, "")); cb.Get("code") == "" {
					t.Fatalf("callback %v", cb)
				}
			})
			t.Run("v2 endpoint refuses a CMS secret", func(t *testing.T) {
				q := e.acParams(scopeBasic)
				q.Set("client_certificate_hash", gost.CertificateHash(cl.cert))
				q.Set("client_secret", sign(t, clientID+scopeBasic+q.Get("timestamp")+stateA+redirect))
				q.Set("sim_person", "1000100001")
				if got := errCode(callback(t, e.get("/aas/oauth2/v2/ac", q, "")).Get("error_description")); got != "ESIA-007053" {
					t.Fatalf("code %q", got)
				}
			})
		})
	}
}

func TestLegacyV1LoginPage(t *testing.T) {
	cl := v1Clients()[0]
	e := newEnv(t, withCert(cl.cert))
	q := e.v1AC(scopeBasic, cl.good[0])
	q.Del("sim_person")
	q.Set("client_secret", cl.good[0](t, v1Message(q)))
	page := body(t, e.get("/aas/oauth2/ac", q, ""))
	if !strings.Contains(page, `action="`+e.base+`/aas/oauth2/ac"`) {
		t.Fatal("the v1 login page must post back to /aas/oauth2/ac")
	}
	id := between(page, `name="request" value="`, `"`)
	cb := callback(t, e.postForm("/aas/oauth2/ac", url.Values{"request": {id}, "person": {"1000100004"}}))
	status, tj := decodeToken(t, e.postForm("/aas/oauth2/te", e.v1TE(cb.Get("code"), scopeBasic, cl.good[0])))
	if status != http.StatusOK || claims(t, tj.AccessToken)["urn:esia:sbj_id"] == nil {
		t.Fatalf("%d %s", status, tj.ErrorDescription)
	}
}

// TestLegacyV1OpenSSL signs with `openssl cms -sign` (RSA, and GOST with the
// gost engine): what a legacy client built on openssl sends. Skipped without
// openssl or its gost engine, failing under CI=true.
func TestLegacyV1OpenSSL(t *testing.T) {
	kinds := []struct {
		name   string
		gost   bool
		genkey []string
		reqArg []string
		md     string
	}{
		{"RSA", false, []string{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, nil, "sha256"},
		{"GOST", true, []string{"genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:TCA"},
			[]string{"-engine", "gost", "-md_gost12_256"}, "md_gost12_256"},
	}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			testenv.LookPath(t, "openssl")
			if kind.gost {
				if out, err := exec.Command("openssl", "engine", "gost").CombinedOutput(); err != nil || !bytes.Contains(out, []byte("(gost)")) {
					testenv.Unavailable(t, "openssl gost engine", errors.New(strings.TrimSpace(string(out))))
				}
			}
			dir := t.TempDir()
			run := func(args ...string) {
				t.Helper()
				if kind.gost && (args[0] == "cms" || args[0] == "req") {
					args = append(args, "-engine", "gost")
				}
				cmd := exec.Command("openssl", args...)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, out)
				}
			}
			for _, who := range []string{"client", "other"} {
				run(append(kind.genkey, "-out", who+".key")...)
				run(append([]string{"req", "-new", "-x509", "-key", who + ".key", "-subj", "/CN=" + who, "-days", "3650", "-out", who + ".pem"}, kind.reqArg...)...)
			}
			pemBytes, err := os.ReadFile(filepath.Join(dir, "client.pem"))
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(pemBytes)
			e := newEnv(t, withCert(block.Bytes))
			n := 0
			opensslSigner := func(who string, extra ...string) cmsSigner {
				return func(t *testing.T, msg string) string {
					t.Helper()
					n++
					in, out := filepath.Join(dir, "msg"+string(rune('a'+n%26))), filepath.Join(dir, "sig.der")
					if err := os.WriteFile(in, []byte(msg), 0o600); err != nil {
						t.Fatal(err)
					}
					run(append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-signer", who + ".pem", "-inkey", who + ".key",
						"-md", kind.md, "-in", in, "-out", out}, extra...)...)
					der, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					return base64.RawURLEncoding.EncodeToString(der)
				}
			}
			for name, sign := range map[string]cmsSigner{
				"noattr": opensslSigner("client", "-noattr"), "attributes": opensslSigner("client"),
				"keyid": opensslSigner("client", "-keyid"),
			} {
				t.Run(name, func(t *testing.T) {
					cb := callback(t, e.get("/aas/oauth2/ac", e.v1AC(scopeBasic, sign), ""))
					if cb.Get("code") == "" {
						t.Fatalf("callback %v", cb)
					}
					if status, tj := decodeToken(t, e.postForm("/aas/oauth2/te", e.v1TE(cb.Get("code"), scopeBasic, sign))); status != http.StatusOK {
						t.Fatalf("te %d %s", status, tj.ErrorDescription)
					}
				})
			}
			sign := opensslSigner("client", "-noattr")
			for _, tc := range []struct {
				name   string
				secret func(q url.Values) string
				code   string
			}{
				{"other certificate", func(q url.Values) string { return opensslSigner("other", "-noattr")(t, v1Message(q)) }, "ESIA-007002"},
				{"v2-ordered message", func(q url.Values) string {
					return sign(t, clientID+q.Get("scope")+q.Get("timestamp")+q.Get("state")+redirect)
				}, "ESIA-007053"},
				{"tampered", func(q url.Values) string {
					raw, _ := base64.RawURLEncoding.DecodeString(sign(t, v1Message(q)))
					raw[len(raw)-2] ^= 0x01
					return base64.RawURLEncoding.EncodeToString(raw)
				}, "ESIA-007053"},
				{"attached", func(q url.Values) string { return opensslSigner("client", "-noattr", "-nodetach")(t, v1Message(q)) }, "ESIA-007053"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					q := e.v1AC(scopeBasic, sign)
					q.Set("client_secret", tc.secret(q))
					cb := callback(t, e.get("/aas/oauth2/ac", q, ""))
					if got := errCode(cb.Get("error_description")); got != tc.code {
						t.Fatalf("code %q (%s), want %q", got, cb.Get("error_description"), tc.code)
					}
				})
			}
		})
	}
}

// The simulator reports the CMS failure in the description, for support.
func TestLegacyV1Description(t *testing.T) {
	cl := v1Clients()[1]
	e := newEnv(t, withCert(cl.cert))
	q := e.v1AC(scopeBasic, goCMS(cl.cert, cl.key, cmstest.Options{Attached: true}))
	desc := callback(t, e.get("/aas/oauth2/ac", q, "")).Get("error_description")
	if !strings.Contains(desc, strings.TrimPrefix(cms.ErrAttached.Error(), "cms: ")) {
		t.Fatalf("description %q", desc)
	}
}

// TestLegacyV1StoredOpenSSL logs in at /aas/oauth2/ac with client_secrets
// that `openssl cms -sign` wrote (testdata/esia/cms): they sign
// "openid fullname" + the test clock's timestamp + DIARY01 + stateA, so
// openssl's output is accepted end to end even without openssl.
func TestLegacyV1StoredOpenSSL(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "testdata", "esia", "cms")
	for _, kind := range []string{"rsa", "gost"} {
		certPEM, err := os.ReadFile(filepath.Join(dir, kind+"-cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(certPEM)
		e := newEnv(t, withCert(block.Bytes))
		for _, variant := range []string{"noattr", "attributes", "keyid"} {
			t.Run(kind+"-"+variant, func(t *testing.T) {
				der, err := os.ReadFile(filepath.Join(dir, kind+"-"+variant+".p7s"))
				if err != nil {
					t.Fatal(err)
				}
				stored := func(*testing.T, string) string { return base64.RawURLEncoding.EncodeToString(der) }
				q := e.v1AC("openid fullname", stored)
				if v1Message(q) != "openid fullname2026.11.24 10:00:00 +0300DIARY012f1e7c3a-0b4d-4c1e-9a7f-3d2b1c0e9f8a" {
					t.Fatalf("message %q differs from what testdata signs", v1Message(q))
				}
				if cb := callback(t, e.get("/aas/oauth2/ac", q, "")); cb.Get("code") == "" {
					t.Fatalf("callback %v", cb)
				}
				q.Set("scope", "openid fullname snils") // no longer what was signed
				if got := errCode(callback(t, e.get("/aas/oauth2/ac", q, "")).Get("error_description")); got != "ESIA-007053" {
					t.Fatalf("changed scope: %q", got)
				}
			})
		}
	}
}
