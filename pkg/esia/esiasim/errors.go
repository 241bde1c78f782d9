package esiasim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// ESIA error codes the simulator answers with (ESIA.md, "Error codes").
const (
	CodeCertificateMismatch  = "ESIA-007002"
	CodeInvalidParameter     = "ESIA-007003"
	CodeUserRefused          = "ESIA-007004"
	CodeGrantNotAllowed      = "ESIA-007005"
	CodeInvalidScope         = "ESIA-007006"
	CodeInternal             = "ESIA-007007"
	CodeUnavailable          = "ESIA-007008"
	CodeGrantNotSupported    = "ESIA-007009"
	CodeCodeInvalid          = "ESIA-007011"
	CodeResponseType         = "ESIA-007012"
	CodeNoScope              = "ESIA-007013"
	CodeMissingParameter     = "ESIA-007014"
	CodeBadTimestamp         = "ESIA-007015"
	CodeNoPermission         = "ESIA-007019"
	CodeRedirectNotAllowed   = "ESIA-007023"
	CodeUnreadableRequest    = "ESIA-007038"
	CodeCodeChallenge        = "ESIA-007039" // PKCE: code_challenge (method) invalid
	CodeCodeVerifier         = "ESIA-007040" // PKCE: code_verifier missing or not matching
	CodeClientSecretWrong    = "ESIA-007053"
	CodeUnconfirmedAccount   = "ESIA-007055"
	CodeClientAuthentication = "ESIA-008010"
)

// esiaError is one error answer: code, the OAuth error and a description.
type esiaError struct {
	code   string
	detail string
}

func newError(code, detail string) *esiaError { return &esiaError{code: code, detail: detail} }

var descriptions = map[string]string{
	CodeCertificateMismatch:  "The certificate does not belong to the system",
	CodeInvalidParameter:     "Invalid request parameter",
	CodeUserRefused:          "The user or the service has denied access",
	CodeGrantNotAllowed:      "The client is not allowed this grant type",
	CodeInvalidScope:         "Invalid scope",
	CodeInternal:             "Internal error",
	CodeUnavailable:          "The service is overloaded or under maintenance",
	CodeGrantNotSupported:    "Unsupported grant type",
	CodeCodeInvalid:          "The authorization code or refresh token is invalid or expired",
	CodeResponseType:         "Unsupported response type",
	CodeNoScope:              "No scope requested",
	CodeMissingParameter:     "Mandatory parameter missing",
	CodeBadTimestamp:         "Invalid request timestamp",
	CodeNoPermission:         "No permission",
	CodeRedirectNotAllowed:   "The redirect_uri is not registered for the system",
	CodeUnreadableRequest:    "The request cannot be read",
	CodeCodeChallenge:        "Invalid code_challenge",
	CodeCodeVerifier:         "Invalid code_verifier",
	CodeClientSecretWrong:    "Invalid client_secret or client_certificate_hash",
	CodeUnconfirmedAccount:   "Unconfirmed accounts are not allowed",
	CodeClientAuthentication: "Client authentication failed",
}

var oauthErrors = map[string]string{
	CodeUserRefused:          "access_denied",
	CodeInvalidScope:         "invalid_scope",
	CodeNoScope:              "invalid_scope",
	CodeInternal:             "server_error",
	CodeUnavailable:          "temporarily_unavailable",
	CodeGrantNotSupported:    "unsupported_grant_type",
	CodeGrantNotAllowed:      "unauthorized_client",
	CodeCodeInvalid:          "invalid_grant",
	CodeResponseType:         "unsupported_response_type",
	CodeClientSecretWrong:    "invalid_client",
	CodeCertificateMismatch:  "invalid_client",
	CodeClientAuthentication: "invalid_client",
	CodeUnconfirmedAccount:   "access_denied",
	CodeNoPermission:         "access_denied",
	CodeCodeVerifier:         "invalid_grant",
}

// Codes lists the ESIA error codes the simulator knows by name, in
// ascending order. Any other ESIA-NNNNNN code can still be requested with
// sim_error, sim_token_error, a fixture flag or a fault.
func Codes() []string {
	out := make([]string, 0, len(descriptions))
	for c := range descriptions {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

var codeRE = regexp.MustCompile(`^ESIA-\d{6}$`)

func isESIACode(s string) bool { return codeRE.MatchString(s) }

// oauthError is the OAuth error parameter for the code.
func (e *esiaError) oauthError() string {
	if v, ok := oauthErrors[e.code]; ok {
		return v
	}
	return "invalid_request"
}

// description is the error_description: "ESIA-0070xx: text[: detail]".
func (e *esiaError) description() string {
	d := descriptions[e.code]
	switch {
	case d != "":
	case strings.HasPrefix(e.code, "ESIA-0367"):
		// Digital Profile consent errors (ESIA.md); their texts are not public.
		d = "Digital Profile consent error"
	default:
		d = "Error"
	}
	if e.detail != "" {
		d += ": " + e.detail
	}
	return e.code + ": " + d
}

// writeJSONError answers an HTTP 400 (or status) JSON error, as v3/te does.
func writeJSONError(w http.ResponseWriter, status int, e *esiaError, state string) {
	body := map[string]string{"error": e.oauthError(), "error_description": e.description()}
	if state != "" {
		body["state"] = state
	}
	writeJSON(w, status, body)
}

// redirectError sends ESIA's error redirect to a validated redirect_uri.
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI string, e *esiaError, state string) {
	q := url.Values{"error": {e.oauthError()}, "error_description": {e.description()}}
	if state != "" {
		q.Set("state", state)
	}
	http.Redirect(w, r, withQuery(redirectURI, q), http.StatusFound)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// withQuery adds q to u, keeping a query u already has.
func withQuery(u string, q url.Values) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u
	}
	have := parsed.Query()
	for k, vs := range q {
		have[k] = vs
	}
	parsed.RawQuery = have.Encode()
	return parsed.String()
}
