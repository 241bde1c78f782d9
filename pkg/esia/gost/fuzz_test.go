package gost

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add seeds below add the
// fixtures in testdata/openssl. Run one target with, for example:
//   go test ./pkg/esia/gost -run '^$' -fuzz '^FuzzVerify$' -fuzztime 60s

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "openssl", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParsePKCS8PrivateKey(f *testing.F) {
	for _, name := range []string{"key-TCA.pem", "key-A.pem", "key-A-wrapped.pem"} {
		f.Add(mustDecodePEM(f, fixture(f, name)))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		priv, err := ParsePKCS8PrivateKey(der)
		if err != nil {
			return
		}
		if priv.D.Sign() <= 0 || priv.D.Cmp(priv.Curve.q) >= 0 {
			t.Fatalf("accepted scalar out of range: %X", priv.D)
		}
		if priv.Curve.checkPoint(priv.X, priv.Y, true) != nil {
			t.Fatal("derived public key is invalid")
		}
		out, err := MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParsePKCS8PrivateKey(out)
		if err != nil || !again.Equal(priv) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParsePKIXPublicKey(f *testing.F) {
	for _, name := range []string{"pub-TCA.pem", "pub-A.pem"} {
		f.Add(mustDecodePEM(f, fixture(f, name)))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, err := ParsePKIXPublicKey(der)
		if err != nil {
			return
		}
		if !refOnCurve(pub.Curve, refPoint{pub.X, pub.Y}) {
			t.Fatal("accepted a point off the curve")
		}
		out, err := MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParsePKIXPublicKey(out)
		if err != nil || !again.Equal(pub) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	f.Add(fixture(f, "cert-TCA.der"))
	f.Fuzz(func(t *testing.T, der []byte) {
		if certs, err := ParseCertificatePEM(der); err == nil {
			for _, c := range certs {
				_ = c.CheckSignatureFrom(c)
			}
		}
		c, err := ParseCertificate(der)
		if err != nil {
			return
		}
		if c.PublicKey == nil || len(CertificateHash(c.Raw)) != 64 {
			t.Fatal("parsed certificate without key or hash")
		}
		if err := c.CheckSignatureFrom(c); err == nil {
			// Accepted: the reference implementation must agree.
			h := Sum256(c.rawTBS)
			if len(c.signature) != 64 || !refVerify(c.PublicKey.Curve, refPoint{c.PublicKey.X, c.PublicKey.Y}, leInt(h[:]),
				new(big.Int).SetBytes(c.signature[32:]), new(big.Int).SetBytes(c.signature[:32])) {
				t.Fatal("certificate signature accepted that the reference rejects")
			}
		}
	})
}

// fuzzKeys are fixed keys, one per curve, for FuzzVerify.
func fuzzKeys() []*PrivateKey {
	var keys []*PrivateKey
	for i, c := range allCurves() {
		d := new(big.Int).SetBytes(bytes.Repeat([]byte{byte(0x11 * (i + 1))}, 31))
		k, err := NewPrivateKey(c, d)
		if err != nil {
			panic(err) // fixed valid scalars
		}
		keys = append(keys, k)
	}
	return keys
}

// FuzzVerify feeds arbitrary digests, signatures and public points to Verify. It must
// never panic, and anything it accepts must be accepted by the math/big reference too.
func FuzzVerify(f *testing.F) {
	keys := fuzzKeys()
	for i, k := range keys {
		digest := Sum256([]byte(strings.Repeat("seed", i+1)))
		sig, err := Sign(fixedReader(bytes.Repeat([]byte{0x22}, 32)), k, digest[:])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), []byte(nil), digest[:], sig)
		f.Add(uint8(i), rawPublicKey(&k.PublicKey), digest[:], Reverse(sig))
	}
	f.Fuzz(func(t *testing.T, which uint8, rawPub, digest, sig []byte) {
		key := keys[int(which)%len(keys)]
		pub := &key.PublicKey
		if len(rawPub) == 64 { // an arbitrary, unvalidated point
			pub = &PublicKey{Curve: key.Curve, X: leInt(rawPub[:32]), Y: leInt(rawPub[32:])}
		}
		if !Verify(pub, digest, sig) {
			return
		}
		c := pub.Curve
		if len(digest) != 32 || len(sig) != 64 || !refOnCurve(c, refPoint{pub.X, pub.Y}) ||
			!refVerify(c, refPoint{pub.X, pub.Y}, leInt(digest), new(big.Int).SetBytes(sig[32:]), new(big.Int).SetBytes(sig[:32])) {
			t.Fatalf("Verify accepted what the reference rejects: key %d, digest %x, sig %x", which, digest, sig)
		}
	})
}

// TestOpenSSLFixtures checks keys, signatures and a certificate made by the gost engine
// (testdata/openssl/README) without needing openssl.
func TestOpenSSLFixtures(t *testing.T) {
	msg := fixture(t, "msg")
	for _, ps := range []struct {
		name  string
		curve *Curve
	}{{"TCA", TC26A()}, {"A", CryptoProA()}} {
		t.Run(ps.name, func(t *testing.T) {
			priv, err := ParsePrivateKeyPEM(fixture(t, "key-"+ps.name+".pem"))
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePublicKeyPEM(fixture(t, "pub-"+ps.name+".pem"))
			if err != nil {
				t.Fatal(err)
			}
			if priv.Curve != ps.curve || !pub.Equal(&priv.PublicKey) {
				t.Fatal("key pair does not match")
			}
			if pemOut, _ := MarshalPrivateKeyPEM(priv); !bytes.Equal(pemOut, fixture(t, "key-"+ps.name+".pem")) {
				t.Error("MarshalPrivateKeyPEM differs from openssl's")
			}
			if pemOut, _ := MarshalPublicKeyPEM(pub); !bytes.Equal(pemOut, fixture(t, "pub-"+ps.name+".pem")) {
				t.Error("MarshalPublicKeyPEM differs from openssl's")
			}
			sig := fixture(t, "sig-"+ps.name+".bin")
			if !VerifyMessage(pub, msg, sig) {
				t.Fatal("openssl's signature does not verify")
			}
			if VerifyMessage(pub, msg, Reverse(sig)) || !VerifyMessage(pub, msg, Reverse(Reverse(sig))) {
				t.Fatal("byte order handling is wrong")
			}
		})
	}
	wrapped, err := ParsePrivateKeyPEM(fixture(t, "key-A-wrapped.pem"))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := ParsePrivateKeyPEM(fixture(t, "key-A.pem"))
	if !wrapped.Equal(plain) {
		t.Fatal("LEGACY_PK_WRAP key differs")
	}
	certs, err := ParseCertificatePEM(fixture(t, "cert-TCA.pem"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ToUpper(strings.TrimSpace(string(fixture(t, "cert-TCA.md_gost12_256"))))
	if got := CertificateHash(certs[0].Raw); got != want {
		t.Fatalf("CertificateHash = %s, openssl %s", got, want)
	}
	if err := certs[0].CheckSignatureFrom(certs[0]); err != nil {
		t.Fatal(err)
	}
	if certs[0].Subject.CommonName != "fixture" || !certs[0].PublicKey.Equal(&plainTCA(t).PublicKey) {
		t.Fatal("certificate fields wrong")
	}
}

func plainTCA(t *testing.T) *PrivateKey {
	k, err := ParsePrivateKeyPEM(fixture(t, "key-TCA.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
