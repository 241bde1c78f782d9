package login

import (
	"context"
	"errors"

	"github.com/diarybroker/broker/pkg/esia"
)

// misconfigured are ESIA's answers to a request the broker itself got wrong
// (ESIA.md, "Error codes"): its certificate, client_secret, redirect URI,
// scopes, grant, PKCE or clock. The person can do nothing about them.
var misconfigured = []error{
	esia.ErrCertificateMismatch,      // 007002
	esia.ErrInvalidParameter,         // 007003
	esia.ErrGrantNotAllowed,          // 007005
	esia.ErrInvalidScope,             // 007006
	esia.ErrGrantNotSupported,        // 007009
	esia.ErrResponseTypeNotSupported, // 007012
	esia.ErrNoScope,                  // 007013
	esia.ErrMissingParameter,         // 007014
	esia.ErrBadTimestamp,             // 007015: the broker's clock
	esia.ErrNoPermission,             // 007019: the system lacks access to a scope
	esia.ErrRedirectURINotRegistered, // 007023
	esia.ErrUnreadableRequest,        // 007038
	esia.ErrCodeChallenge,            // 007039
	esia.ErrCodeVerifier,             // 007040
	esia.ErrClientSecretWrong,        // 007053
	esia.ErrClientAuthFailed,         // 008010
}

// Availability is implemented by an Upstream that knows without a call
// that ESIA is down: its circuit breaker is open. Begin asks it before it
// sends the person to ESIA.
type Availability interface {
	// Available returns nil, or, while calls to ESIA fail fast, an error
	// matching esia.ErrUnavailable. It must not wait for ESIA: a breaker
	// whose cool-down is over starts its probe in the background and
	// answers with the error until the probe finds ESIA answering.
	Available() error
}

// Explain returns the reason for the diary and the page text for an error of
// ESIA (callback, token exchange, REST read) or of reaching it. Everything
// not recognised as the person's refusal, an unconfirmed account, a
// misconfiguration, an invalid token or an answer that is not the protocol
// (esia_invalid_answer) is esia_unavailable. Failures of the broker's own
// stores are not ESIA's: see Classify.
func Explain(err error) (string, Message) {
	var te *esia.TokenError
	switch {
	case errors.Is(err, esia.ErrUserRefused):
		return ReasonUserRefused, MessageFor(ReasonUserRefused)
	case errors.Is(err, esia.ErrUnconfirmedAccount):
		return ReasonAccountNotConfirmed, MessageFor(ReasonAccountNotConfirmed)
	case errors.As(err, &te), errors.Is(err, esia.ErrStateMismatch):
		return ReasonESIATokenInvalid, MessageFor(ReasonESIATokenInvalid)
	}
	for _, m := range misconfigured {
		if errors.Is(err, m) {
			return ReasonESIAMisconfigured, MessageFor(ReasonESIAMisconfigured)
		}
	}
	if errors.Is(err, esia.ErrInvalidAnswer) {
		return ReasonESIAInvalidAnswer, MessageFor(ReasonESIAInvalidAnswer)
	}
	m := MessageFor(ReasonESIAUnavailable)
	if !errors.Is(err, esia.ErrUnavailable) && !errors.Is(err, esia.ErrInternal) && !errors.Is(err, context.DeadlineExceeded) {
		// ESIA answered, but not with a code above (an expired code, a
		// Digital Profile consent error, one we do not know): it is up.
		m.Title = "Не удалось войти через Госуслуги"
	}
	m.Text = esia.UserMessage(err)
	return ReasonESIAUnavailable, m
}
