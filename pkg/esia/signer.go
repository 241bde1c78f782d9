package esia

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Signer signs the client_secret message of an ESIA request and returns the
// raw signature bytes; the client encodes them (see Config.SecretPadding).
// Implementations may call out to an HSM, a signing service or a command,
// and must honour ctx. A GOST R 34.10-2012 signer returns 64 bytes in the
// byte order ESIA expects (OpenSSL's gost engine order, see ESIA.md).
type Signer interface {
	Sign(ctx context.Context, message []byte) ([]byte, error)
}

// SignerFunc adapts a function to the Signer interface.
type SignerFunc func(ctx context.Context, message []byte) ([]byte, error)

// Sign calls f(ctx, message).
func (f SignerFunc) Sign(ctx context.Context, message []byte) ([]byte, error) {
	return f(ctx, message)
}

// RSASigner signs with RSASSA-PKCS1-v1_5 over SHA-256. ESIA stopped accepting
// RSA client signatures in 2020; it serves the simulator's legacy mode and
// tests. ESIA itself needs GOSTSigner or an external GOST signer.
type RSASigner struct {
	Key *rsa.PrivateKey
}

// Sign returns the PKCS#1 v1.5 signature of SHA-256(message).
func (s RSASigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if s.Key == nil {
		return nil, errors.New("esia: RSA signer has no key")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(message)
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, crypto.SHA256, sum[:])
	if err != nil {
		return nil, fmt.Errorf("esia: RSA sign: %w", err)
	}
	return sig, nil
}
