package esiasim

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// GOSTSecretVerifier verifies GOST R 34.10-2012 client_secret signatures
// over Streebog-256, in OpenSSL's gost engine byte order, as ESIA does.
type GOSTSecretVerifier struct {
	Key *gost.PublicKey
}

// VerifySecret implements SecretVerifier.
func (v GOSTSecretVerifier) VerifySecret(message, signature []byte) error {
	if v.Key == nil || !gost.VerifyMessage(v.Key, message, signature) {
		return errors.New("GOST signature invalid")
	}
	return nil
}

// GOSTSigner signs the simulator's JWTs with alg GOST3410_2012_256.
type GOSTSigner struct {
	Key     *gost.PrivateKey
	CertDER []byte
}

// Alg implements TokenSigner.
func (s *GOSTSigner) Alg() string { return "GOST3410_2012_256" }

// Sign implements TokenSigner.
func (s *GOSTSigner) Sign(signingInput []byte) ([]byte, error) {
	return gost.SignMessage(rand.Reader, s.Key, signingInput)
}

// Certificate implements TokenSigner.
func (s *GOSTSigner) Certificate() []byte { return s.CertDER }

// NewGOSTSigner generates a GOST key on the tc26 256-bit set A curve with a
// self-signed certificate named cn.
func NewGOSTSigner(cn string, now time.Time) (*GOSTSigner, error) {
	key, der, err := SelfSignedGOST(cn, now)
	if err != nil {
		return nil, err
	}
	return &GOSTSigner{Key: key, CertDER: der}, nil
}

// SelfSignedGOST generates a GOST R 34.10-2012 256-bit key (tc26 set A) and
// a self-signed DER certificate named cn, valid from now-1h for ten years:
// a test client's certificate or the simulator's token key.
func SelfSignedGOST(cn string, now time.Time) (*gost.PrivateKey, []byte, error) {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("esiasim: generate GOST key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, fmt.Errorf("esiasim: serial: %w", err)
	}
	der, err := gost.CreateCertificate(rand.Reader, &gost.CertificateTemplate{
		SerialNumber: serial.Add(serial, big.NewInt(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
	}, nil, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("esiasim: GOST certificate: %w", err)
	}
	return key, der, nil
}
