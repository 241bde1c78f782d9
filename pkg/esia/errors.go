package esia

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Error is an error answered by ESIA: an error redirect to the callback, an
// HTTP 400 JSON body of the token endpoint, or a failed HTTP call (5xx, time
// out, network). Compare with the sentinels using errors.Is, never by string:
//
//	if errors.Is(err, esia.ErrUserRefused) { ... }
type Error struct {
	// Code is ESIA's code from the error_description prefix, e.g.
	// "ESIA-007053"; empty when ESIA gave none (a 5xx page, a time-out).
	Code string
	// Description is ESIA's error_description (or what went wrong locally
	// for a failed call); it carries no personal data.
	Description string
	// OAuthError is the OAuth error parameter ("access_denied",
	// "invalid_request", …) when ESIA sent one.
	OAuthError string
	// HTTPStatus is the status of the answer; 0 for a callback error or a
	// call that got no answer.
	HTTPStatus int
	// Retryable reports a transient failure: the same step may succeed later
	// without any change of configuration (ESIA overloaded or failing, no
	// answer in time). It never means an authorization code may be reused.
	Retryable bool

	timeout bool  // no answer within the call's time limit
	cause   error // transport error, if any
}

// Error formats the code, the description and the HTTP status.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("esia: ")
	switch {
	case e.Code != "" && e.Description != "" && !strings.HasPrefix(e.Description, e.Code):
		b.WriteString(e.Code + ": " + e.Description)
	case e.Description != "":
		b.WriteString(e.Description)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.OAuthError != "":
		b.WriteString(e.OAuthError)
	default:
		b.WriteString("error")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	return b.String()
}

// Unwrap returns the transport error behind a failed call, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is match the sentinels by code. ErrUnavailable also matches
// any 5xx answer and any call without an answer (time-out, network), and
// ErrDigitalProfileConsent matches every ESIA-0367xx code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	switch t {
	case ErrUnavailable:
		return e.Code == t.Code || e.HTTPStatus >= 500 || (e.HTTPStatus == 0 && e.cause != nil) || e.timeout
	case ErrDigitalProfileConsent:
		return strings.HasPrefix(e.Code, "ESIA-0367")
	}
	return t.Code != "" && e.Code == t.Code
}

func sentinel(code, desc string) *Error { return &Error{Code: code, Description: desc} }

// Sentinels for every ESIA error code in ESIA.md. Use them with errors.Is;
// the error returned is a *Error with ESIA's own description.
var (
	ErrCertificateMismatch      = sentinel("ESIA-007002", "certificate does not belong to this system")
	ErrInvalidParameter         = sentinel("ESIA-007003", "request parameter missing or invalid")
	ErrUserRefused              = sentinel("ESIA-007004", "the user or the service denied access")
	ErrGrantNotAllowed          = sentinel("ESIA-007005", "client is not allowed this grant")
	ErrInvalidScope             = sentinel("ESIA-007006", "requested scope is invalid")
	ErrInternal                 = sentinel("ESIA-007007", "ESIA internal error")
	ErrUnavailable              = sentinel("ESIA-007008", "ESIA is unavailable")
	ErrGrantNotSupported        = sentinel("ESIA-007009", "grant type not supported")
	ErrCodeInvalid              = sentinel("ESIA-007011", "authorization code or refresh token invalid or expired")
	ErrResponseTypeNotSupported = sentinel("ESIA-007012", "response type not supported")
	ErrNoScope                  = sentinel("ESIA-007013", "no scope requested")
	ErrMissingParameter         = sentinel("ESIA-007014", "mandatory parameter missing")
	ErrBadTimestamp             = sentinel("ESIA-007015", "timestamp invalid or the clock is skewed")
	ErrNoPermission             = sentinel("ESIA-007019", "no permission")
	ErrRedirectURINotRegistered = sentinel("ESIA-007023", "redirect_uri is not registered")
	ErrUnreadableRequest        = sentinel("ESIA-007038", "request could not be read")
	ErrCodeChallenge            = sentinel("ESIA-007039", "PKCE code_challenge problem")
	ErrCodeVerifier             = sentinel("ESIA-007040", "PKCE code_verifier problem")
	ErrClientSecretWrong        = sentinel("ESIA-007053", "client_secret or client_certificate_hash wrong")
	ErrUnconfirmedAccount       = sentinel("ESIA-007055", "an unconfirmed account is not allowed")
	ErrClientAuthFailed         = sentinel("ESIA-008010", "client authentication failed")
	// ErrDigitalProfileConsent matches every Digital Profile consent error
	// (ESIA-0367xx).
	ErrDigitalProfileConsent = sentinel("ESIA-0367xx", "Digital Profile consent error")
)

// knownCodes are the codes of the sentinels above.
var knownCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range []*Error{ErrCertificateMismatch, ErrInvalidParameter, ErrUserRefused, ErrGrantNotAllowed, ErrInvalidScope,
		ErrInternal, ErrUnavailable, ErrGrantNotSupported, ErrCodeInvalid, ErrResponseTypeNotSupported, ErrNoScope,
		ErrMissingParameter, ErrBadTimestamp, ErrNoPermission, ErrRedirectURINotRegistered, ErrUnreadableRequest,
		ErrCodeChallenge, ErrCodeVerifier, ErrClientSecretWrong, ErrUnconfirmedAccount, ErrClientAuthFailed} {
		m[e.Code] = true
	}
	return m
}()

// MetricCode is the ESIA code of e fit for a metrics label: one of the
// codes ESIA.md lists, ESIA-0367xx for every Digital Profile consent code,
// and "ESIA-other" for anything else — a callback's error_description comes
// through the browser, and an unbounded label would let anyone grow the
// metrics without limit.
func (e *Error) MetricCode() string {
	switch {
	case knownCodes[e.Code]:
		return e.Code
	case strings.HasPrefix(e.Code, "ESIA-0367"):
		return ErrDigitalProfileConsent.Code
	case e.Code == "":
		return "error"
	}
	return "ESIA-other"
}

// ErrStateMismatch reports a token answer whose state differs from the one
// sent: the answer is discarded.
var ErrStateMismatch = errors.New("esia: state in the answer does not match the request")

var codeRE = regexp.MustCompile(`^ESIA-\d{6}`)

// retryableCodes are the ESIA codes of transient failures.
var retryableCodes = map[string]bool{"ESIA-007007": true, "ESIA-007008": true}

// newESIAError builds an Error from the OAuth error and error_description.
func newESIAError(oauthErr, desc string, status int) *Error {
	desc = strings.TrimSpace(desc)
	code := codeRE.FindString(desc)
	return &Error{
		Code:        code,
		Description: truncate(desc, 500),
		OAuthError:  truncate(oauthErr, 100),
		HTTPStatus:  status,
		Retryable:   retryableCodes[code] || status >= 500,
	}
}

// ParseCallbackError returns the *Error carried by ESIA's error redirect to
// the callback (?error=…&error_description=ESIA-0070xx: …&state=…), or nil
// when query has no error parameter. The caller still checks state.
func ParseCallbackError(query url.Values) error {
	if !query.Has("error") && !query.Has("error_description") {
		return nil
	}
	return newESIAError(query.Get("error"), query.Get("error_description"), 0)
}

// parseErrorBody builds the *Error for a non-2xx answer; body may be ESIA's
// JSON {"error":…,"error_description":…} or anything else.
func parseErrorBody(status int, body []byte) *Error {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Error != "" || e.ErrorDescription != "") {
		return newESIAError(e.Error, e.ErrorDescription, status)
	}
	return &Error{
		Description: fmt.Sprintf("unexpected HTTP status %d", status),
		HTTPStatus:  status,
		Retryable:   status >= 500,
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
