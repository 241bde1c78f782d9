package esiasim_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// verifiedBy reports whether the RS256 JWT is signed by the key of the DER
// certificate.
func verifiedBy(t *testing.T, jwt string, certDER []byte) bool {
	t.Helper()
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(jwt, '.')
	sig, err := base64.RawURLEncoding.DecodeString(jwt[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(jwt[:i]))
	return rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) == nil
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

func TestRotateTokenSigner(t *testing.T) {
	e := newEnv(t)
	old := e.sim.Certificate()
	before := e.login("1000100001", "openid fullname")
	next, err := esiasim.NewRS256Signer("ESIA simulator (next)", today)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.RotateTokenSigner(next)
	after := e.login("1000100001", "openid fullname")
	if !verifiedBy(t, before.IDToken, old) || verifiedBy(t, after.IDToken, old) || !verifiedBy(t, after.IDToken, next.CertDER) {
		t.Fatal("tokens after the rotation must be signed by the new key only")
	}
	certs := pemCerts(t, e.sim.CertificatesPEM())
	if len(certs) != 2 || string(certs[0]) != string(next.CertDER) || string(certs[1]) != string(old) {
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
		if resp.StatusCode != http.StatusOK || len(served) != 3 || string(served[1]) != string(next.CertDER) {
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
