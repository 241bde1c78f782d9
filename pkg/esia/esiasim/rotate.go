package esiasim

import (
	"encoding/pem"
	"fmt"
	"net/http"
)

// tokenSigner returns the signer of new tokens.
func (s *Simulator) tokenSigner() TokenSigner {
	s.signerMu.RLock()
	defer s.signerMu.RUnlock()
	return s.signer
}

// RotateTokenSigner makes ts sign every token from now on, as ESIA rotates
// its keys without notice (ESIA.md): a client that trusts only the old
// certificate rejects the new tokens until it reloads its key set. Tokens
// issued before stay valid at the REST endpoints. CertificatesPEM (and
// /sim/certificates.pem) lists the new certificate first, then the retired
// ones, newest first.
func (s *Simulator) RotateTokenSigner(ts TokenSigner) {
	s.signerMu.Lock()
	defer s.signerMu.Unlock()
	s.retired = append([][]byte{s.signer.Certificate()}, s.retired...)
	s.signer = ts
}

// Certificate returns the DER certificate of the current token-signing key.
func (s *Simulator) Certificate() []byte { return s.tokenSigner().Certificate() }

// CertificatesPEM returns the token-signing certificates as PEM, ready for
// esia.ParseKeySet or a key-set file: the current one, then those retired
// by RotateTokenSigner. It is also served at /sim/certificates.pem (a
// simulator-only path).
func (s *Simulator) CertificatesPEM() []byte {
	s.signerMu.RLock()
	defer s.signerMu.RUnlock()
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.signer.Certificate()})
	for _, der := range s.retired {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// rotateAPI serves POST /sim/rotate: a fresh key of the same algorithm
// (RS256 or GOST3410_2012_256) signs tokens from now on; the answer is the
// new certificate set (PEM). A custom TokenSigner cannot be renewed here
// (409).
func (s *Simulator) rotateAPI(w http.ResponseWriter, r *http.Request) {
	var next TokenSigner
	var err error
	switch alg := s.tokenSigner().Alg(); alg {
	case "RS256":
		next, err = NewRS256Signer("ESIA simulator", s.now())
	case "GOST3410_2012_256":
		next, err = NewGOSTSigner("ESIA simulator", s.now())
	default:
		http.Error(w, fmt.Sprintf("cannot renew a %s signer; call RotateTokenSigner", alg), http.StatusConflict)
		return
	}
	if err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	s.RotateTokenSigner(next)
	s.certificates(w, r)
}
