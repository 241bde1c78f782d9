package esia

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
)

// VerifyFunc checks that signature is a valid signature of signingInput (the
// ASCII "header.payload" of a JWT) by the public key of cert. It returns nil
// only for a valid signature.
type VerifyFunc func(cert *x509.Certificate, signingInput, signature []byte) error

// Algorithms maps a JWT "alg" to its verification. Only the algorithms in
// the map are accepted; "none" never is. Another algorithm plugs in as one
// more entry, e.g. a CryptoPro-backed GOST verifier:
//
//	algs := esia.Algorithms{esia.AlgGOST: verifyWithCSP}
type Algorithms map[string]VerifyFunc

// JWT algorithms ESIA signs with (chosen per system on ESIA's tech portal).
const (
	AlgRS256 = "RS256"
	AlgGOST  = "GOST3410_2012_256"
)

// DefaultAlgorithms returns a new map holding RS256 and GOST3410_2012_256.
// Each checks the key type, so one cannot stand in for the other.
func DefaultAlgorithms() Algorithms {
	return Algorithms{AlgRS256: VerifyRS256, AlgGOST: VerifyGOST}
}

// VerifyRS256 verifies an RSASSA-PKCS1-v1_5 SHA-256 JWT signature.
func VerifyRS256(cert *x509.Certificate, signingInput, signature []byte) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("not an RSA key")
	}
	sum := sha256.Sum256(signingInput)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], signature)
}

func (c *Config) algorithms() Algorithms {
	if c.Algorithms != nil {
		return c.Algorithms
	}
	return DefaultAlgorithms()
}
