package esia

import (
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

func gostCert(t testing.TB, c *gost.Curve) (*gost.PrivateKey, *x509.Certificate) {
	t.Helper()
	priv, err := gost.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki, err := gost.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return priv, &x509.Certificate{RawSubjectPublicKeyInfo: spki}
}

// TestVerifyGOSTKeepsParsedKeys: VerifyGOST parses a certificate's key once
// and verifies with that key from then on (so its precomputed table serves
// every later token), right and wrong signatures alike, on every curve;
// the cache is bounded, and a key that is not GOST is refused each time.
func TestVerifyGOSTKeepsParsedKeys(t *testing.T) {
	for _, c := range gost.Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			priv, cert := gostCert(t, c)
			msg := []byte("header.payload")
			sig, err := gost.SignMessage(rand.Reader, priv, msg)
			if err != nil {
				t.Fatal(err)
			}
			bad := append([]byte(nil), sig...)
			bad[5] ^= 1
			for i := range 5 { // past the table's build (its second verification)
				if err := VerifyGOST(cert, msg, sig); err != nil {
					t.Fatalf("verification %d: %v", i, err)
				}
				if err := VerifyGOST(cert, msg, bad); err == nil {
					t.Fatalf("verification %d: a tampered signature passed", i)
				}
				if err := VerifyGOST(cert, []byte("header.other"), sig); err == nil {
					t.Fatalf("verification %d: another message passed", i)
				}
			}
			first, _ := gostKeys.get(cert.RawSubjectPublicKeyInfo)
			again, _ := gostKeys.get(cert.RawSubjectPublicKeyInfo)
			if first == nil || first != again {
				t.Fatal("the certificate's key is parsed again")
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		for range maxParsedGOSTKeys + 3 {
			_, cert := gostCert(t, gost.TC26A())
			if _, err := gostKeys.get(cert.RawSubjectPublicKeyInfo); err != nil {
				t.Fatal(err)
			}
		}
		gostKeys.mu.Lock()
		n := len(gostKeys.keys)
		gostKeys.mu.Unlock()
		if n > maxParsedGOSTKeys {
			t.Fatalf("%d keys kept, at most %d", n, maxParsedGOSTKeys)
		}
	})
	t.Run("not GOST", func(t *testing.T) {
		for range 2 {
			if err := VerifyGOST(&x509.Certificate{RawSubjectPublicKeyInfo: []byte{0x30, 0x00}}, []byte("m"), make([]byte, 64)); err == nil {
				t.Fatal("a key that is not GOST verified")
			}
		}
	})
}

// BenchmarkVerifyGOST is one token's GOST signature check with ESIA's
// certificate, as verifyToken makes it for every login.
func BenchmarkVerifyGOST(b *testing.B) {
	priv, cert := gostCert(b, gost.TC26A())
	msg := []byte("eyJhbGciOiJHT1NUMzQxMF8yMDEyXzI1NiJ9.eyJzdWIiOjEwMDAxMDAwMDJ9")
	sig, err := gost.SignMessage(rand.Reader, priv, msg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := VerifyGOST(cert, msg, sig); err != nil {
			b.Fatal(err)
		}
	}
}
