package gost_test

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// The client_secret of an ESIA v2/ac request: a GOST R 34.10-2012 signature over the
// Streebog-256 digest of the concatenated parameters, in OpenSSL's byte order, base64url
// without padding (see ESIA.md).
func ExampleSignMessage() {
	keyPEM, err := os.ReadFile("testdata/openssl/key-TCA.pem") // openssl genpkey -engine gost ...
	if err != nil {
		panic(err)
	}
	key, err := gost.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		panic(err)
	}
	msg := "DIARY" + "openid fullname" + "2024.01.02 15:04:05 +0300" + "3c1a2b4e-0000-4000-8000-000000000000" + "https://diary.example/cb"
	sig, err := gost.SignMessage(rand.Reader, key, []byte(msg))
	if err != nil {
		panic(err)
	}
	secret := base64.RawURLEncoding.EncodeToString(sig)
	fmt.Println(len(secret), gost.VerifyMessage(&key.PublicKey, []byte(msg), sig))

	// A signature produced by CryptoPro CSP is byte-reversed relative to OpenSSL's.
	fromCryptoPro := gost.Reverse(sig)
	fmt.Println(gost.VerifyMessage(&key.PublicKey, []byte(msg), gost.Reverse(fromCryptoPro)))
	// Output:
	// 86 true
	// true
}

// client_certificate_hash is Streebog-256 of the DER certificate, upper-case hex, in the
// byte order `openssl dgst -engine gost -md_gost12_256` prints.
func ExampleCertificateHash() {
	pemData, err := os.ReadFile("testdata/openssl/cert-TCA.pem")
	if err != nil {
		panic(err)
	}
	certs, err := gost.ParseCertificatePEM(pemData)
	if err != nil {
		panic(err)
	}
	fmt.Println(certs[0].Subject.CommonName, gost.CertificateHash(certs[0].Raw))
	// Output: fixture 416F9D5ECB064F2FDBA3C1C8E5D06F28698E516927B67B03F8D5E57DFE8B0F3C
}

// A development certificate made without openssl, as the simulator and dev mode need.
func ExampleCreateCertificate() {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	der, err := gost.CreateCertificate(rand.Reader, &gost.CertificateTemplate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "diary-broker dev"},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(1, 0, 0),
	}, nil, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := gost.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	fmt.Println(cert.Subject.CommonName, cert.CheckSignatureFrom(cert) == nil, len(gost.CertificateHash(der)))
	_ = gost.MarshalCertificatePEM(der) // write next to gost.MarshalPrivateKeyPEM(key)
	// Output: diary-broker dev true 64
}
