package cms_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/cms"
	"github.com/diarybroker/broker/pkg/esia/cms/cmstest"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// signer is a key with its self-signed certificate.
type signer struct {
	key  crypto.Signer
	cert []byte
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// rsaSigner makes an RSA key and certificate; withKeyID adds the
// subjectKeyIdentifier extension (crypto/x509 writes none for a non-CA).
func rsaSigner(cn string, serial int64, withKeyID bool) signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	if withKeyID {
		sum := sha1.Sum(x509.MarshalPKCS1PublicKey(&key.PublicKey))
		tmpl.SubjectKeyId = sum[:]
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(err)
	return signer{key, der}
}

func gostSigner(cn string, serial int64) signer {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	must(err)
	der, err := gost.CreateCertificate(rand.Reader, &gost.CertificateTemplate{SerialNumber: big.NewInt(serial),
		Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}, nil, &key.PublicKey, key)
	must(err)
	return signer{key, der}
}

// signers are generated once: RSA generation is slow.
var signers = sync.OnceValue(func() (s struct{ rsa, rsaOther, rsaSameName, gost, gostOther signer }) {
	s.rsa = rsaSigner("DIARY01", 1001, true)
	s.rsaOther = rsaSigner("OTHER", 1002, false)
	s.rsaSameName = rsaSigner("DIARY01", 1001, false) // same issuer and serial, another key
	s.gost = gostSigner("DIARY01", 2001)
	s.gostOther = gostSigner("OTHER", 2002)
	return s
})

const message = "openid fullname2026.11.24 10:00:00 +0300DIARY012f1e7c3a-0b4d-4c1e-9a7f-3d2b1c0e9f8a"

func mustParse(t *testing.T, der []byte) *cms.Certificate {
	t.Helper()
	c, err := cms.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyDetached(t *testing.T) {
	s := signers()
	type keyCase struct {
		name         string
		signer       signer
		other        signer
		sameName     *signer
		wrongSigAlgs asn1.ObjectIdentifier
	}
	keys := []keyCase{
		{name: "RSA", signer: s.rsa, other: s.rsaOther, sameName: &s.rsaSameName, wrongSigAlgs: cms.OIDGost2012_256},
		{name: "GOST", signer: s.gost, other: s.gostOther, wrongSigAlgs: cms.OIDRSAEncryption},
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			cert := mustParse(t, k.signer.cert)
			sign := func(t *testing.T, content string, o cmstest.Options) []byte {
				t.Helper()
				der, err := cmstest.Sign([]byte(content), k.signer.cert, k.signer.key, o)
				if err != nil {
					t.Fatal(err)
				}
				return der
			}
			tests := []struct {
				name    string
				sig     func(t *testing.T) []byte
				content string
				cert    *cms.Certificate
				want    error
			}{
				{name: "no attributes", sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{}) }},
				{name: "signed attributes", sig: func(t *testing.T) []byte {
					return sign(t, message, cmstest.Options{SignedAttributes: true, SigningTime: now})
				}},
				{name: "subject key identifier", sig: func(t *testing.T) []byte {
					return sign(t, message, cmstest.Options{SubjectKeyID: true, SignedAttributes: true})
				}},
				{name: "without certificates", sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{NoCertificates: true}) }},
				{name: "signwithdigest OID", sig: func(t *testing.T) []byte {
					alg := cms.OIDSHA256WithRSA
					if k.name == "GOST" {
						alg = cms.OIDGost2012_256Sign
					}
					return sign(t, message, cmstest.Options{SignatureAlgorithm: alg})
				}},
				{name: "other content", content: message + "x", want: cms.ErrSignature,
					sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{}) }},
				{name: "other content, attributes", content: message + "x", want: cms.ErrDigest,
					sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{SignedAttributes: true}) }},
				{name: "v2-ordered message", content: "DIARY01openid fullname2026.11.24 10:00:00 +03002f1e7c3a-0b4d-4c1e-9a7f-3d2b1c0e9f8ahttps://diary.example/cb",
					want: cms.ErrSignature, sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{}) }},
				{name: "tampered signature", want: cms.ErrSignature, sig: func(t *testing.T) []byte {
					der := sign(t, message, cmstest.Options{})
					der[len(der)-5] ^= 0x01
					return der
				}},
				{name: "tampered attributes", want: cms.ErrSignature, sig: func(t *testing.T) []byte {
					der := sign(t, message, cmstest.Options{SignedAttributes: true, SigningTime: now})
					return flipUTCTime(t, der)
				}},
				{name: "attached", want: cms.ErrAttached, sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{Attached: true}) }},
				{name: "another certificate expected", cert: mustParse(t, k.other.cert), want: cms.ErrNoSigner,
					sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{}) }},
				{name: "another certificate expected, key id", cert: mustParse(t, k.other.cert), want: cms.ErrNoSigner,
					sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{SubjectKeyID: true}) }},
				{name: "algorithm of the other kind", want: cms.ErrAlgorithm,
					sig: func(t *testing.T) []byte {
						return sign(t, message, cmstest.Options{SignatureAlgorithm: k.wrongSigAlgs})
					}},
				{name: "not DER", want: cms.ErrMalformed, sig: func(*testing.T) []byte { return []byte("MIIB...not a signature") }},
				{name: "raw signature instead of CMS", want: cms.ErrMalformed, sig: func(*testing.T) []byte { return make([]byte, 64) }},
				{name: "truncated", want: cms.ErrMalformed, sig: func(t *testing.T) []byte {
					der := sign(t, message, cmstest.Options{})
					return der[:len(der)-1]
				}},
			}
			if k.sameName != nil {
				tests = append(tests, struct {
					name    string
					sig     func(t *testing.T) []byte
					content string
					cert    *cms.Certificate
					want    error
				}{name: "same issuer and serial, another key", cert: mustParse(t, k.sameName.cert), want: cms.ErrSignature,
					sig: func(t *testing.T) []byte { return sign(t, message, cmstest.Options{}) }})
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					content := tc.content
					if content == "" {
						content = message
					}
					c := tc.cert
					if c == nil {
						c = cert
					}
					err := cms.VerifyDetached(tc.sig(t), []byte(content), c)
					if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
						t.Fatalf("err = %v, want %v", err, tc.want)
					}
				})
			}
		})
	}
}

// flipUTCTime changes the last digit of the signing time inside the signed
// attributes, leaving the DER well-formed.
func flipUTCTime(t *testing.T, der []byte) []byte {
	t.Helper()
	stamp := []byte(now.UTC().Format("060102150405Z"))
	for i := 0; i+len(stamp) <= len(der); i++ {
		if string(der[i:i+len(stamp)]) == string(stamp) {
			der[i+len(stamp)-2]++
			return der
		}
	}
	t.Fatal("signing time not found")
	return nil
}

func TestParseCertificate(t *testing.T) {
	s := signers()
	for name, der := range map[string][]byte{"RSA": s.rsa.cert, "RSA without key id": s.rsaOther.cert, "GOST": s.gost.cert} {
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, der)
			xc, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			if string(c.RawIssuer) != string(xc.RawIssuer) || c.SerialNumber.Cmp(xc.SerialNumber) != 0 {
				t.Fatalf("issuer or serial differ from crypto/x509's")
			}
			var spki struct {
				Algorithm pkix.AlgorithmIdentifier
				Key       asn1.BitString
			}
			if _, err := asn1.Unmarshal(xc.RawSubjectPublicKeyInfo, &spki); err != nil {
				t.Fatal(err)
			}
			wantKeyID := xc.SubjectKeyId
			if wantKeyID == nil { // no extension: SHA-1 of the key bits
				sum := sha1.Sum(spki.Key.Bytes)
				wantKeyID = sum[:]
			}
			if string(c.SubjectKeyID) != string(wantKeyID) {
				t.Fatalf("subject key id %x, want %x", c.SubjectKeyID, wantKeyID)
			}
		})
	}
	if _, err := cms.ParseCertificate([]byte{0x30, 0x00}); !errors.Is(err, cms.ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzVerifyDetached(f *testing.F) {
	s := signers()
	cert, err := cms.ParseCertificate(s.gost.cert)
	if err != nil {
		f.Fatal(err)
	}
	for _, o := range []cmstest.Options{{}, {SignedAttributes: true}, {SubjectKeyID: true}} {
		der, err := cmstest.Sign([]byte(message), s.gost.cert, s.gost.key, o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		_ = cms.VerifyDetached(der, []byte(message), cert) // must not panic
	})
}

// TestStoredOpenSSLSignatures verifies signatures `openssl cms -sign`
// wrote (testdata/esia/cms, see its README), so that openssl's exact
// output is checked on machines without openssl or its gost engine too.
func TestStoredOpenSSLSignatures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "testdata", "esia", "cms")
	msg, err := os.ReadFile(filepath.Join(dir, "message.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != message {
		t.Fatal("testdata message differs from the test's")
	}
	for _, kind := range []string{"rsa", "gost"} {
		certPEM, err := os.ReadFile(filepath.Join(dir, kind+"-cert.pem"))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(certPEM)
		cert := mustParse(t, block.Bytes)
		other := mustParse(t, signers().rsaOther.cert)
		for _, variant := range []string{"noattr", "attributes", "keyid"} {
			t.Run(kind+"-"+variant, func(t *testing.T) {
				der, err := os.ReadFile(filepath.Join(dir, kind+"-"+variant+".p7s"))
				if err != nil {
					t.Fatal(err)
				}
				if err := cms.VerifyDetached(der, msg, cert); err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if err := cms.VerifyDetached(der, append(msg, '!'), cert); !errors.Is(err, cms.ErrSignature) && !errors.Is(err, cms.ErrDigest) {
					t.Fatalf("other content: %v", err)
				}
				if err := cms.VerifyDetached(der, msg, other); !errors.Is(err, cms.ErrNoSigner) {
					t.Fatalf("other certificate: %v", err)
				}
			})
		}
	}
}
