package esia

import (
	"errors"
	"fmt"
)

// ErrInvalidAnswer reports an answer with a success status that is not what
// the protocol says: an HTML maintenance page where JSON was expected, a
// truncated document, a person, collection or token answer of the wrong
// shape. ESIA (or whatever answers at BaseURL) is up but its answer is
// garbage: neither an outage (ErrUnavailable) nor a refusal with a code.
var ErrInvalidAnswer = errors.New("esia: invalid answer")

// invalidAnswer is an ErrInvalidAnswer saying what was wrong; what never
// quotes the answer (it may hold personal data).
func invalidAnswer(what string) error { return fmt.Errorf("%w: %s", ErrInvalidAnswer, what) }
