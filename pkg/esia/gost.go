package esia

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// GOSTSigner signs client_secret with GOST R 34.10-2012 (256-bit key) over
// the Streebog-256 digest of the message: 64 bytes in the order OpenSSL's
// gost engine writes them, which ESIA expects (ESIA.md). Only operators
// allowed to use a non-certified implementation may use it in production;
// the others plug in an HSM, CryptoPro or a signing service as a Signer.
type GOSTSigner struct {
	Key *gost.PrivateKey
}

// Sign implements Signer.
func (s GOSTSigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if s.Key == nil {
		return nil, errors.New("esia: GOST signer has no key")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sig, err := gost.SignMessage(rand.Reader, s.Key, message)
	if err != nil {
		return nil, fmt.Errorf("esia: GOST sign: %w", err)
	}
	return sig, nil
}

// VerifyGOST verifies a GOST3410_2012_256 JWT signature: 64 bytes over the
// Streebog-256 digest of signingInput, checked as `openssl dgst -engine gost
// -md_gost12_256 -verify` does, with the GOST key of cert.
func VerifyGOST(cert *x509.Certificate, signingInput, signature []byte) error {
	pub, err := gost.ParsePKIXPublicKey(cert.RawSubjectPublicKeyInfo)
	if err != nil {
		return errors.New("not a GOST key")
	}
	if !gost.VerifyMessage(pub, signingInput, signature) {
		return errors.New("GOST signature invalid")
	}
	return nil
}
