package esia

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// TimestampLayout is the layout of ESIA's timestamp parameter, e.g.
// "2026.11.24 10:15:00 +0300". ESIA rejects a skewed clock with ESIA-007015.
const TimestampLayout = "2006.01.02 15:04:05 -0700"

// Paths of the ESIA endpoints, relative to Config.BaseURL.
const (
	PathAuthorize = "/aas/oauth2/v2/ac"
	PathToken     = "/aas/oauth2/v3/te"
	PathPersons   = "/rs/prns"
)

// Defaults applied when the corresponding Config field is zero.
const (
	DefaultLeeway  = 60 * time.Second
	DefaultTimeout = 15 * time.Second
)

// AccessType says whether ESIA should issue a refresh token.
type AccessType string

// Access types of the authorization request.
const (
	AccessOnline  AccessType = "online"  // no refresh token
	AccessOffline AccessType = "offline" // a refresh token is issued
)

// Config is the configuration of one information system registered in ESIA
// for one ESIA environment (test or production). It is read-only after setup
// and safe for concurrent use. A copy made before the first call (to change
// Scopes, say) gets a circuit breaker of its own; a copy made later shares
// the original's.
type Config struct {
	// BaseURL is where ESIA (or a gateway in front of it, or the simulator)
	// is reached, e.g. "https://esia-portal1.test.gosuslugi.ru" or
	// "http://127.0.0.1:8080/esia-sim". Endpoint paths are appended to it.
	BaseURL string
	// ClientID is the system's mnemonic registered in ESIA.
	ClientID string
	// CertificateHash is the client_certificate_hash parameter: 64 upper-case
	// hex digits (Streebog-256 of the system's DER certificate for GOST).
	CertificateHash string
	// RedirectURL is the registered redirect_uri.
	RedirectURL string
	// Scopes are sent space separated, in this order, as the scope parameter.
	Scopes []string
	// ScopeOrg, when not empty, is sent as scope_org and signed after scope.
	ScopeOrg []string
	// AccessType is online (default) or offline (ask for a refresh token).
	AccessType AccessType
	// Signer produces the raw client_secret signatures.
	Signer Signer
	// SecretPadding makes client_secret padded base64url (88 characters for a
	// 64-byte signature); the default is unpadded (86), see ESIA.md.
	SecretPadding bool
	// Issuer is the expected iss of ESIA's tokens, e.g.
	// "http://esia-portal1.test.gosuslugi.ru/" (http, trailing slash).
	Issuer string
	// Keys holds ESIA's token-signing certificates for this environment.
	Keys *KeySet
	// Algorithms maps a JWT alg to its verification; nil means
	// DefaultAlgorithms (RS256 and GOST3410_2012_256).
	Algorithms Algorithms
	// HTTPClient makes the calls; nil means http.DefaultClient. Configure its
	// transport for ESIA's Russian root CAs and a client TLS certificate.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the tolerance for exp, nbf and iat; zero means DefaultLeeway,
	// a negative value means none.
	Leeway time.Duration
	// Timeout bounds each HTTP call (each attempt of a retried GET); zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Observe, when set, is called once per HTTP call with a fixed endpoint
	// label ("token", "refresh", "person", "person_docs", "person_ctts",
	// "person_addrs", "kids", "kids_docs", "element", and "probe" for the
	// circuit breaker's own probe), the outcome (an ESIA code such as
	// "ESIA-007011", or "2xx", "4xx", "5xx", "timeout", "network", or
	// "circuit_open" for a call the circuit breaker refused without an HTTP
	// call) and the duration. Labels never carry personal data or oids.
	Observe func(endpoint, code string, d time.Duration)
	// BreakerFailures is how many calls in a row must find ESIA down
	// (ESIA-007007/007008, 5xx, time-out, no connection) before the circuit
	// breaker opens and token exchange, refresh and REST reads fail fast
	// with ErrUnavailable (and ErrCircuitOpen) instead of waiting for ESIA.
	// Errors of the request or the person (ESIA-007004, 007011, a 4xx) and
	// calls the caller cancelled do not count, and AuthURL, which makes no
	// HTTP call, is never refused. Zero means DefaultBreakerFailures; a
	// negative value turns the breaker off.
	BreakerFailures int
	// BreakerCooldown is how long an open breaker refuses calls, counted
	// from the failure that opened it or from the start of its last failed
	// probe. The
	// first call or Available after it starts a probe of the breaker's own
	// (an empty POST to the token endpoint, bounded by the cool-down, at
	// least 1 s, at most Timeout) while calls keep failing fast; an answer
	// of ESIA closes the breaker, anything else opens it for another
	// cool-down. Zero means DefaultBreakerCooldown. The time is read from
	// Now.
	BreakerCooldown time.Duration
	// Logger receives one line per change of the breaker's state (WARN when
	// it opens, INFO when it probes and when it closes); nil means
	// slog.Default().
	Logger *slog.Logger

	// breaker is made at the first call (see breakerState); a pointer, so
	// that a Config can be copied.
	breaker *breaker
}

// errConfig reports a Config that cannot make a request.
var errConfig = errors.New("incomplete config")

func (c *Config) check() error {
	var missing []string
	if c.BaseURL == "" {
		missing = append(missing, "BaseURL")
	}
	if c.ClientID == "" {
		missing = append(missing, "ClientID")
	}
	if c.CertificateHash == "" {
		missing = append(missing, "CertificateHash")
	}
	if c.RedirectURL == "" {
		missing = append(missing, "RedirectURL")
	}
	if len(c.Scopes) == 0 {
		missing = append(missing, "Scopes")
	}
	if c.Signer == nil {
		missing = append(missing, "Signer")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not set", errConfig, strings.Join(missing, ", "))
	}
	if !isCertHash(c.CertificateHash) {
		// The usual mistake is a 40-character SHA-1 thumbprint, which ESIA
		// answers with ESIA-007053 only after the person was redirected.
		return fmt.Errorf("%w: CertificateHash must be 64 upper-case hex digits (Streebog-256 of the certificate)", errConfig)
	}
	if _, err := c.base(); err != nil {
		return err
	}
	switch c.AccessType {
	case "", AccessOnline, AccessOffline:
	default:
		return fmt.Errorf("%w: AccessType must be online or offline", errConfig)
	}
	if c.BreakerCooldown < 0 {
		return fmt.Errorf("%w: BreakerCooldown must not be negative", errConfig)
	}
	return nil
}

func (c *Config) base() (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: BaseURL must be an absolute http(s) URL", errConfig)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// endpoint returns BaseURL joined with an absolute path such as PathToken.
func (c *Config) endpoint(path string) string {
	return strings.TrimRight(c.BaseURL, "/") + path
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) leeway() time.Duration {
	switch {
	case c.Leeway < 0:
		return 0
	case c.Leeway == 0:
		return DefaultLeeway
	}
	return c.Leeway
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

func (c *Config) accessType() AccessType {
	if c.AccessType == "" {
		return AccessOnline
	}
	return c.AccessType
}

// scope is the scope parameter exactly as sent and signed.
func (c *Config) scope() string { return strings.Join(c.Scopes, " ") }

// scopeOrg is the scope_org parameter exactly as sent and signed ("" if unused).
func (c *Config) scopeOrg() string { return strings.Join(c.ScopeOrg, " ") }

// isCertHash reports whether s has the shape of client_certificate_hash.
func isCertHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'A' || r > 'F') {
			return false
		}
	}
	return true
}
