package esia

import "errors"

// ErrTokenInvalid matches every *TokenError: a token from ESIA that failed
// verification (signature, issuer, audience, time claims, shape).
var ErrTokenInvalid = errors.New("esia: token invalid")

// TokenError reports why a token from ESIA was rejected. It never contains
// the token or personal data.
type TokenError struct {
	// Token is "access" or "id".
	Token string
	// Reason is a short English reason, e.g. "expired", "wrong issuer".
	Reason string
}

// Error formats the kind of token and the reason.
func (e *TokenError) Error() string {
	return "esia: " + e.Token + " token invalid: " + e.Reason
}

// Is makes errors.Is(err, ErrTokenInvalid) true.
func (e *TokenError) Is(target error) bool { return target == ErrTokenInvalid }
