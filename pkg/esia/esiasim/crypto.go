package esiasim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// SecretVerifier checks a client_secret signature of a registered client
// over the message ESIA expects: GOSTSecretVerifier, RSASecretVerifier, or
// another implementation (e.g. one that calls CryptoPro).
type SecretVerifier interface {
	VerifySecret(message, signature []byte) error
}

// RSASecretVerifier verifies RSASSA-PKCS1-v1_5 SHA-256 signatures (the
// simulator's legacy mode; ESIA itself no longer accepts RSA).
type RSASecretVerifier struct {
	Key *rsa.PublicKey
}

// VerifySecret implements SecretVerifier.
func (v RSASecretVerifier) VerifySecret(message, signature []byte) error {
	if v.Key == nil {
		return errors.New("no key")
	}
	sum := sha256.Sum256(message)
	return rsa.VerifyPKCS1v15(v.Key, crypto.SHA256, sum[:], signature)
}

// SecretVerifierFor returns the verifier for the key of a DER certificate:
// GOST R 34.10-2012 (what ESIA accepts) or RSA (the legacy mode).
func SecretVerifierFor(certDER []byte) (SecretVerifier, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("esiasim: client certificate: %w", err)
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok {
		return RSASecretVerifier{Key: pub}, nil
	}
	if pub, err := gost.ParsePKIXPublicKey(cert.RawSubjectPublicKeyInfo); err == nil {
		return GOSTSecretVerifier{Key: pub}, nil
	}
	return nil, errors.New("esiasim: client certificate key is neither GOST nor RSA; set Client.SecretVerifier")
}

// TokenSigner signs the simulator's JWTs: RS256Signer (RS256) or
// GOSTSigner (GOST3410_2012_256).
type TokenSigner interface {
	// Alg is the JWT alg header value.
	Alg() string
	// Sign signs the JWT signing input (ASCII header "." payload).
	Sign(signingInput []byte) ([]byte, error)
	// Certificate is the DER certificate of the verification key, which the
	// broker must trust.
	Certificate() []byte
}

// RS256Signer signs JWTs with RSASSA-PKCS1-v1_5 SHA-256.
type RS256Signer struct {
	Key     *rsa.PrivateKey
	CertDER []byte
}

// Alg implements TokenSigner.
func (s *RS256Signer) Alg() string { return "RS256" }

// Sign implements TokenSigner.
func (s *RS256Signer) Sign(signingInput []byte) ([]byte, error) {
	sum := sha256.Sum256(signingInput)
	return rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA256, sum[:])
}

// Certificate implements TokenSigner.
func (s *RS256Signer) Certificate() []byte { return s.CertDER }

// NewRS256Signer generates a 2048-bit RSA key with a self-signed certificate
// named cn, valid for ten years from now.
func NewRS256Signer(cn string, now time.Time) (*RS256Signer, error) {
	key, der, err := SelfSignedRSA(cn, now)
	if err != nil {
		return nil, err
	}
	return &RS256Signer{Key: key, CertDER: der}, nil
}

// SelfSignedRSA generates a 2048-bit RSA key and a self-signed DER
// certificate named cn, valid from now-1h for ten years. It serves test
// clients and the simulator's own token key.
func SelfSignedRSA(cn string, now time.Time) (*rsa.PrivateKey, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("esiasim: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, fmt.Errorf("esiasim: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("esiasim: certificate: %w", err)
	}
	return key, der, nil
}
