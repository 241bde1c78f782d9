package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store/memory"
)

// Settings is every setting of the broker (docs/configuration.md). The
// command line fills it from flags, BROKER_* variables and a YAML file.
type Settings struct {
	// Addr is where the broker listens (BROKER_ADDR).
	Addr string `yaml:"addr"`
	// MetricsAddr is where /metrics is served, on a listener of its own so
	// that the public port does not publish the broker's internals
	// (BROKER_METRICS_ADDR). serve: default DefaultMetricsAddr; dev: empty
	// means /metrics on Addr.
	MetricsAddr string `yaml:"metrics_addr"`
	// Issuer is the broker's external URL (BROKER_ISSUER); default
	// http://<Addr>. Every URL the broker hands out starts with it.
	Issuer string `yaml:"issuer"`
	// ServiceDocumentation is the URL of the integration guide that
	// discovery names as service_documentation
	// (BROKER_SERVICE_DOCUMENTATION); default <issuer>/docs/oauth.md, the
	// guide as built into the broker.
	ServiceDocumentation string `yaml:"service_documentation"`
	// DatabaseURL is the PostgreSQL URL (BROKER_DATABASE_URL); empty means
	// the memory store (dev mode only).
	DatabaseURL string `yaml:"database_url"`
	// MigrateOnStart applies pending migrations when serve starts.
	MigrateOnStart bool `yaml:"migrate_on_start"`
	// RedisURL is the Redis URL for login state (BROKER_REDIS_URL); empty
	// means in-process state (dev mode only).
	RedisURL string `yaml:"redis_url"`
	// RedisPrefix starts every Redis key of this deployment.
	RedisPrefix string `yaml:"redis_prefix"`
	// KEK is the key-encryption key, 32 bytes base64 or hex (BROKER_KEK).
	// Dev mode makes a random one when empty.
	KEK string `yaml:"-"`

	ESIA ESIASettings `yaml:"esia"`
	SMTP SMTPSettings `yaml:"smtp"`

	// SigningAlg is the ID token algorithm: ES256 (default) or RS256.
	SigningAlg            string        `yaml:"signing_alg"`
	AccessTokenLifespan   time.Duration `yaml:"access_token_lifespan"`
	RefreshTokenLifespan  time.Duration `yaml:"refresh_token_lifespan"`
	AuthorizeCodeLifespan time.Duration `yaml:"authorize_code_lifespan"`
	IDTokenLifespan       time.Duration `yaml:"id_token_lifespan"`
	LoginTimeout          time.Duration `yaml:"login_timeout"`
	// GrantCacheTTL bounds how long a replica trusts a grant it read for
	// a login's self-contained access token: a revoked grant's access
	// tokens stop everywhere within it (default 5 s).
	GrantCacheTTL time.Duration `yaml:"grant_cache_ttl"`
	// JanitorEvery is how often serve and dev run the janitors (OAuth,
	// retention, consent) and re-read ESIA's certificates; webhook and
	// mail delivery run twelve times as often (default 1 min).
	JanitorEvery time.Duration `yaml:"janitor_every"`
	// MemoryMaxRows bounds the memory store (dev without a database):
	// past it, OAuth records, OAuth grants, finished login attempts and
	// audit entries (each table on its own) drop their dead rows first,
	// then their oldest (memory.Limits); default 5,000, a negative value
	// keeps everything.
	MemoryMaxRows int `yaml:"memory_max_rows"`
	// GCPercent, when positive, is the Go garbage collector's target
	// (GOGC) in serve and dev, unless the GOGC variable is set, which
	// wins; 0 leaves Go's default (100). A higher one trades memory for
	// CPU: each collection waits for the heap to grow by that percentage
	// of the live data (issue 13: 400 took 18% off the broker's CPU per
	// refresh, for a peak heap up to five times the live data).
	GCPercent int `yaml:"gc_percent"`
	// TokenCommit is how token writes commit on PostgreSQL: "durable" (the
	// default, also when empty) waits for the WAL to reach the disk;
	// "async" does not for the writes that issue or rotate tokens, so a
	// crash of the database may lose the last moment's (their diaries log
	// in again), while revocations stay durable
	// (postgres.Store.WithAsyncTokenCommit).
	TokenCommit string `yaml:"token_commit"`

	// RateLimit is requests per minute per client IP on the login and
	// token endpoints; 0 turns limiting off.
	RateLimit int `yaml:"rate_limit"`
	// SupportUnmaskPerHour is how many values one staff member may have
	// the support console show in full («Показать») an hour, counted in
	// the shared sessions store across replicas; 0 or less means the
	// default, 30.
	SupportUnmaskPerHour int `yaml:"support_unmask_per_hour"`
	// TrustedProxies are CIDRs of load balancers whose X-Forwarded-For is
	// believed for rate limiting.
	TrustedProxies []string `yaml:"trusted_proxies"`

	LogLevel  string `yaml:"log_level"`  // debug, info, warn, error
	LogFormat string `yaml:"log_format"` // json (default) or text

	// Dev mode: simulator at /esia-sim, demo diary at /demo.
	Dev             bool   `yaml:"-"`
	ESIAPersonsFile string `yaml:"esia_persons_file"`
	RosterFile      string `yaml:"roster_file"`
}

// ESIASettings configure the upstream ESIA connection.
type ESIASettings struct {
	// BaseURL is ESIA or a gateway (BROKER_ESIA_BASE_URL), e.g.
	// https://esia-portal1.test.gosuslugi.ru.
	BaseURL string `yaml:"base_url"`
	// ClientID is the system's mnemonic (BROKER_ESIA_CLIENT_ID).
	ClientID string `yaml:"client_id"`
	// Signer says how client_secret is signed (BROKER_ESIA_SIGNER):
	// "gost:KEY.pem" (native GOST), "command" or "command:ARGV…" (an
	// external program, docs/esia-signing.md), "http:URL" (a signing
	// service), "rsa:KEY.pem" (simulator legacy mode).
	Signer string `yaml:"signer"`
	// SignerCommand is the command signer's program and arguments, one list
	// item each (no shell, no quoting); used when Signer is just "command".
	SignerCommand []string `yaml:"signer_command"`
	// SignerOutput is how an external signer writes the signature: auto
	// (default), raw, base64 or hex.
	SignerOutput string `yaml:"signer_output"`
	// SignerReverse byte-reverses an external signer's signature (CryptoPro).
	SignerReverse bool `yaml:"signer_reverse"`
	// SignerTimeout bounds one external signature (default 10s).
	SignerTimeout time.Duration `yaml:"signer_timeout"`
	// SignerConcurrency bounds the external signatures under way at once
	// (default 8).
	SignerConcurrency int `yaml:"signer_concurrency"`
	// SignerToken is the signing service's bearer token (secret: from the
	// environment only, BROKER_ESIA_SIGNER_TOKEN).
	SignerToken string `yaml:"-"`
	// SignerTokenFile holds the signing service's bearer token; re-read for
	// every signature.
	SignerTokenFile string `yaml:"signer_token_file"`
	// SignerCAFile, SignerClientCert and SignerClientKey are the signing
	// service's TLS roots and the broker's client certificate for it (PEM).
	SignerCAFile     string `yaml:"signer_ca_file"`
	SignerClientCert string `yaml:"signer_client_cert"`
	SignerClientKey  string `yaml:"signer_client_key"`
	// Certificate is the system's certificate (PEM); its Streebog-256 hash
	// is client_certificate_hash.
	Certificate string `yaml:"certificate"`
	// Trust is a PEM file or a directory of ESIA's token-signing
	// certificates; reloaded on change.
	Trust string `yaml:"trust"`
	// Issuer is the iss of ESIA's tokens, e.g. http://esia-portal1.test.gosuslugi.ru/
	Issuer string `yaml:"issuer"`
	// Scopes asked of ESIA.
	Scopes []string `yaml:"scopes"`
	// RedirectURL is the registered redirect_uri; default Issuer + /esia/callback.
	RedirectURL string `yaml:"redirect_url"`
	// SecretPadding sends client_secret as padded base64url.
	SecretPadding bool `yaml:"secret_padding"`
	// Timeout bounds each ESIA call, from the request to the last byte of
	// the answer.
	Timeout time.Duration `yaml:"timeout"`
	// ConnectTimeout bounds the TCP connection and the TLS handshake of a
	// call (within Timeout): a host that does not answer fails the call in
	// seconds, while a slow answer still has Timeout.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// CAFile adds ESIA's TLS roots (Russian CAs) to the trust store.
	CAFile string `yaml:"ca_file"`
	// ClientCert and ClientKey are a client TLS certificate and key (PEM)
	// for a gateway to ESIA that asks for one; re-read when they change.
	ClientCert string `yaml:"client_cert"`
	ClientKey  string `yaml:"client_key"`
	// BreakerFailures is how many calls in a row must find ESIA down before
	// the circuit breaker opens (0: default 5; negative: off).
	BreakerFailures int `yaml:"breaker_failures"`
	// BreakerCooldown is how long the open breaker fails calls fast, from
	// the failure that opened it or its last failed probe, before it probes
	// ESIA itself (0: default 3s).
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
}

// DefaultESIAConnectTimeout is esia.connect_timeout's default.
const DefaultESIAConnectTimeout = 3 * time.Second

// DefaultESIAScopes are the scopes a school system asks ESIA for (ESIA.md).
var DefaultESIAScopes = []string{"openid", "fullname", "birthdate", "gender", "snils", "birth_cert_doc", "id_doc"}

// KidScopes are added for a parent on the parent's page: the children
// ESIA lists for the parent, with SNILS and birth certificates, prove
// parenthood (ESIA.md "Scopes").
var KidScopes = []string{"kid_fullname", "kid_birthdate", "kid_snils", "kid_birth_cert_doc"}

// DefaultMetricsAddr is where serve answers /metrics unless told
// otherwise: loopback, for a Prometheus agent beside the broker.
const DefaultMetricsAddr = "127.0.0.1:9090"

// DefaultSettings returns the defaults every source overrides.
func DefaultSettings() Settings {
	return Settings{
		Addr:                  "127.0.0.1:8080",
		MigrateOnStart:        true,
		RedisPrefix:           "broker:",
		SigningAlg:            "ES256",
		AccessTokenLifespan:   time.Hour,
		RefreshTokenLifespan:  30 * 24 * time.Hour,
		AuthorizeCodeLifespan: 5 * time.Minute,
		IDTokenLifespan:       time.Hour,
		LoginTimeout:          15 * time.Minute,
		GrantCacheTTL:         5 * time.Second,
		JanitorEvery:          time.Minute,
		MemoryMaxRows:         memory.DefaultMaxRows,
		RateLimit:             120,
		SupportUnmaskPerHour:  30,
		LogLevel:              "info",
		LogFormat:             "json",
		ESIA: ESIASettings{
			Scopes:         DefaultESIAScopes,
			Timeout:        10 * time.Second,
			ConnectTimeout: DefaultESIAConnectTimeout,
		},
	}
}

// Resolve fills the values that follow from others (the issuer from the
// address, the ESIA redirect URI from the issuer) and checks the result.
func (s *Settings) Resolve() error {
	if s.Issuer == "" {
		host, port, err := net.SplitHostPort(s.Addr)
		if err != nil {
			return fmt.Errorf("settings: addr %q: %w", s.Addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		s.Issuer = "http://" + net.JoinHostPort(host, port)
	}
	s.Issuer = strings.TrimRight(s.Issuer, "/")
	u, err := url.Parse(s.Issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("settings: issuer %q is not an absolute URL", s.Issuer)
	}
	if u.Scheme != "https" && !isLoopback(u.Hostname()) {
		return fmt.Errorf("settings: issuer %q must be https (http only on 127.0.0.1/localhost)", s.Issuer)
	}
	if s.ESIA.RedirectURL == "" {
		s.ESIA.RedirectURL = s.Issuer + "/esia/callback"
	}
	switch s.TokenCommit {
	case "", "durable", "async":
	default:
		return fmt.Errorf("settings: token_commit %q: durable or async", s.TokenCommit)
	}
	if s.GCPercent < 0 {
		return fmt.Errorf("settings: gc_percent %d: 0 is Go's default, a negative one would turn the collector off", s.GCPercent)
	}
	if s.MetricsAddr == "" && !s.Dev {
		s.MetricsAddr = DefaultMetricsAddr
	}
	if s.MetricsAddr != "" {
		_, port, err := net.SplitHostPort(s.MetricsAddr)
		if err != nil {
			return fmt.Errorf("settings: metrics_addr %q: %w", s.MetricsAddr, err)
		}
		if s.MetricsAddr == s.Addr && port != "0" {
			return fmt.Errorf("settings: metrics_addr %q is the public addr: /metrics needs a listener of its own", s.MetricsAddr)
		}
	}
	if len(s.ESIA.Scopes) == 0 {
		s.ESIA.Scopes = DefaultESIAScopes
	}
	if !s.Dev {
		var missing []string
		for name, v := range map[string]string{
			"BROKER_DATABASE_URL": s.DatabaseURL, "BROKER_REDIS_URL": s.RedisURL, "BROKER_KEK": s.KEK,
			"BROKER_ESIA_BASE_URL": s.ESIA.BaseURL, "BROKER_ESIA_CLIENT_ID": s.ESIA.ClientID,
			"BROKER_ESIA_SIGNER": s.ESIA.Signer, "esia.certificate (BROKER_ESIA_CERTIFICATE)": s.ESIA.Certificate,
			"esia.trust (BROKER_ESIA_TRUST)": s.ESIA.Trust, "esia.issuer (BROKER_ESIA_ISSUER)": s.ESIA.Issuer,
		} {
			if v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return errors.New("settings: serve needs " + strings.Join(missing, ", "))
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
