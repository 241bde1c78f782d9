package esia

import (
	"context"
	"errors"
	"fmt"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// ErrSignatureMismatch reports a client_secret signature that does not
// verify with the public key of the system's certificate: ESIA would answer
// ESIA-007053, but only after the person was sent there.
var ErrSignatureMismatch = errors.New("esia: signature does not verify with the system certificate's key")

// CheckedSigner verifies every signature of Signer with Key, the GOST public
// key of the certificate whose hash is client_certificate_hash, before it is
// sent. A verification costs far less than the process or the request of an
// external signer, and it turns the two usual set-up mistakes into errors
// that say what is wrong: the signature verifies only byte-reversed (toggle
// the signer's reversal), or not at all (the signer uses another key than
// the registered certificate's).
type CheckedSigner struct {
	Signer Signer
	Key    *gost.PublicKey
}

var _ Signer = CheckedSigner{}

// Sign signs with s.Signer and verifies the result.
func (s CheckedSigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	if s.Signer == nil || s.Key == nil {
		return nil, errors.New("esia: checked signer needs a signer and a key")
	}
	sig, err := s.Signer.Sign(ctx, message)
	if err != nil {
		return nil, err
	}
	switch {
	case gost.VerifyMessage(s.Key, message, sig):
		return sig, nil
	case len(sig) == SignatureSize && gost.VerifyMessage(s.Key, message, gost.Reverse(sig)):
		return nil, fmt.Errorf("%w: it verifies byte-reversed, so the signer's byte reversal must be switched %s",
			ErrSignatureMismatch, map[bool]string{true: "off", false: "on"}[reverses(s.Signer)])
	}
	return nil, fmt.Errorf("%w: the signer uses another key than the certificate's", ErrSignatureMismatch)
}

// String describes the signer checked.
func (s CheckedSigner) String() string {
	if st, ok := s.Signer.(fmt.Stringer); ok {
		return st.String() + " (checked)"
	}
	return "checked signer"
}

// reverses reports whether an external signer is set to reverse its output.
func reverses(s Signer) bool {
	switch s := s.(type) {
	case *CommandSigner:
		return s.opts.Reverse
	case *HTTPSigner:
		return s.cfg.Reverse
	}
	return false
}
