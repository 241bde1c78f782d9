package esia

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"

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
	pub, err := gostKeys.get(cert.RawSubjectPublicKeyInfo)
	if err != nil {
		return errors.New("not a GOST key")
	}
	if !gost.VerifyMessage(pub, signingInput, signature) {
		return errors.New("GOST signature invalid")
	}
	return nil
}

// gostKeys keeps the GOST keys of the certificates VerifyGOST was given.
// A gost.PublicKey builds a precomputed table of itself at its second
// verification, after which one takes 14–27 µs instead of a one-shot's
// 45–94 µs (docs/performance.md, GOST); a key parsed afresh for every
// token — as it was — never got there. ESIA signs with a handful of keys,
// each certificate's parsed once.
var gostKeys = &parsedGOSTKeys{keys: map[string]*gost.PublicKey{}}

// maxParsedGOSTKeys bounds gostKeys (some 130 KiB a key with its table):
// past it the cache starts afresh.
const maxParsedGOSTKeys = 32

// parsedGOSTKeys maps a certificate's SubjectPublicKeyInfo to its parsed
// key.
type parsedGOSTKeys struct {
	mu   sync.Mutex
	keys map[string]*gost.PublicKey
}

// get returns the key of spki, parsing it on first sight; a key that is
// not GOST is an error each time (and not kept).
func (p *parsedGOSTKeys) get(spki []byte) (*gost.PublicKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pub, ok := p.keys[string(spki)]; ok {
		return pub, nil
	}
	pub, err := gost.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, err
	}
	if len(p.keys) >= maxParsedGOSTKeys {
		clear(p.keys)
	}
	p.keys[string(spki)] = pub
	return pub, nil
}
