package esiasim_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
)

// verifiedBy reports whether the JWT is signed by the key of the DER
// certificate, checked as the broker checks it (RS256 or
// GOST3410_2012_256, by the alg of its header).
func verifiedBy(t *testing.T, jwt string, certDER []byte) bool {
	t.Helper()
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg string }
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	verify := esia.DefaultAlgorithms()[h.Alg]
	if verify == nil {
		t.Fatalf("alg %q", h.Alg)
	}
	return verify(cert, []byte(parts[0]+"."+parts[1]), sig) == nil
}

func pemCerts(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			return out
		}
		out = append(out, block.Bytes)
	}
}

// TestRotateTokenSigner rotates GOST token keys (what ESIA uses) and RSA
// ones (the simulator's legacy mode), by call and through the control API.
func TestRotateTokenSigner(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) { testRotateTokenSigner(t, k) })
	}
}

func testRotateTokenSigner(t *testing.T, k clientKeys) {
	e := newEnvKeys(t, k)
	old := e.sim.Certificate()
	before := e.login("1000100001", "openid fullname")
	next, err := k.newSigner("ESIA simulator (next)")
	if err != nil {
		t.Fatal(err)
	}
	e.sim.RotateTokenSigner(next)
	after := e.login("1000100001", "openid fullname")
	if !verifiedBy(t, before.IDToken, old) || verifiedBy(t, after.IDToken, old) || !verifiedBy(t, after.IDToken, next.Certificate()) {
		t.Fatal("tokens after the rotation must be signed by the new key only")
	}
	certs := pemCerts(t, e.sim.CertificatesPEM())
	if len(certs) != 2 || string(certs[0]) != string(next.Certificate()) || string(certs[1]) != string(old) {
		t.Fatalf("%d certificates; want the new one, then the retired one", len(certs))
	}
	// A token issued before the rotation still reads the person.
	resp := e.get("/rs/prns/1000100001", nil, before.AccessToken)
	body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("old access token: %d", resp.StatusCode)
	}

	t.Run("control API", func(t *testing.T) {
		resp, err := e.http.Post(e.base+"/sim/rotate", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		served := pemCerts(t, []byte(body(t, resp)))
		if resp.StatusCode != http.StatusOK || len(served) != 3 || string(served[1]) != string(next.Certificate()) {
			t.Fatalf("%d, %d certificates", resp.StatusCode, len(served))
		}
		tok := e.login("1000100001", "openid fullname")
		if !verifiedBy(t, tok.IDToken, served[0]) {
			t.Fatal("not signed by the served new key")
		}
		resp = e.get("/sim/certificates.pem", nil, "")
		if got := pemCerts(t, []byte(body(t, resp))); len(got) != 3 {
			t.Fatalf("/sim/certificates.pem: %d certificates", len(got))
		}
	})
}
