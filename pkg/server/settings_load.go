package server

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// envVar binds one BROKER_* variable to a setting.
type envVar struct {
	Name  string
	Doc   string
	apply func(s *Settings, v string) error
}

func str(p func(*Settings) *string) func(*Settings, string) error {
	return func(s *Settings, v string) error { *p(s) = v; return nil }
}

func dur(p func(*Settings) *time.Duration) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p(s) = d
		return nil
	}
}

func boolean(p func(*Settings) *bool) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*p(s) = b
		return nil
	}
}

func list(p func(*Settings) *[]string, sep string) func(*Settings, string) error {
	return func(s *Settings, v string) error {
		var out []string
		for _, f := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		*p(s) = out
		return nil
	}
}

// EnvVars are the environment variables the broker reads, in the order
// docs/configuration.md lists them.
var EnvVars = []envVar{
	{"BROKER_ADDR", "listen address (host:port)", str(func(s *Settings) *string { return &s.Addr })},
	{"BROKER_METRICS_ADDR", "listen address of /metrics (serve: 127.0.0.1:9090; dev: on BROKER_ADDR unless set)", str(func(s *Settings) *string { return &s.MetricsAddr })},
	{"BROKER_ISSUER", "external URL of the broker; default http://<addr>", str(func(s *Settings) *string { return &s.Issuer })},
	{"BROKER_SERVICE_DOCUMENTATION", "URL of the integration guide in discovery's service_documentation; default <issuer>/docs/oauth.md", str(func(s *Settings) *string { return &s.ServiceDocumentation })},
	{"BROKER_DATABASE_URL", "PostgreSQL URL (serve: required)", str(func(s *Settings) *string { return &s.DatabaseURL })},
	{"BROKER_MIGRATE_ON_START", "apply pending migrations at start (true)", boolean(func(s *Settings) *bool { return &s.MigrateOnStart })},
	{"BROKER_REDIS_URL", "Redis URL: redis:// or rediss:// (one server; with master_name=NAME, Sentinel), redis-cluster:// or rediss-cluster:// (Cluster) (serve: required)", str(func(s *Settings) *string { return &s.RedisURL })},
	{"BROKER_REDIS_PREFIX", "prefix of every Redis key (broker:)", str(func(s *Settings) *string { return &s.RedisPrefix })},
	{"BROKER_KEK", "key-encryption key: 32 bytes, base64 or hex (serve: required)", str(func(s *Settings) *string { return &s.KEK })},
	{"BROKER_KEK_FILE", "file holding BROKER_KEK (for secret mounts)", func(s *Settings, v string) error {
		b, err := os.ReadFile(v)
		if err != nil {
			return err
		}
		s.KEK = strings.TrimSpace(string(b))
		return nil
	}},
	{"BROKER_ESIA_BASE_URL", "ESIA or gateway base URL", str(func(s *Settings) *string { return &s.ESIA.BaseURL })},
	{"BROKER_ESIA_CLIENT_ID", "the system's mnemonic in ESIA", str(func(s *Settings) *string { return &s.ESIA.ClientID })},
	{"BROKER_ESIA_SIGNER", "client_secret signer: gost:KEY.pem, command[:ARGV], http:URL or rsa:KEY.pem", str(func(s *Settings) *string { return &s.ESIA.Signer })},
	{"BROKER_ESIA_SIGNER_OUTPUT", "external signer's output: auto, raw, base64 or hex (auto)", str(func(s *Settings) *string { return &s.ESIA.SignerOutput })},
	{"BROKER_ESIA_SIGNER_REVERSE", "byte-reverse the external signer's signature (CryptoPro) (false)", boolean(func(s *Settings) *bool { return &s.ESIA.SignerReverse })},
	{"BROKER_ESIA_SIGNER_TIMEOUT", "time-out of one external signature (10s)", dur(func(s *Settings) *time.Duration { return &s.ESIA.SignerTimeout })},
	{"BROKER_ESIA_SIGNER_CONCURRENCY", "external signatures under way at once (8)", func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		if err == nil && n < 1 {
			err = fmt.Errorf("want a positive number")
		}
		s.ESIA.SignerConcurrency = n
		return err
	}},
	{"BROKER_ESIA_SIGNER_TOKEN", "bearer token for the signing service (secret)", str(func(s *Settings) *string { return &s.ESIA.SignerToken })},
	{"BROKER_ESIA_SIGNER_TOKEN_FILE", "file holding the signing service's bearer token, re-read per signature", str(func(s *Settings) *string { return &s.ESIA.SignerTokenFile })},
	{"BROKER_ESIA_SIGNER_CA_FILE", "TLS roots of the signing service, PEM", str(func(s *Settings) *string { return &s.ESIA.SignerCAFile })},
	{"BROKER_ESIA_SIGNER_CLIENT_CERT", "client TLS certificate for the signing service, PEM", str(func(s *Settings) *string { return &s.ESIA.SignerClientCert })},
	{"BROKER_ESIA_SIGNER_CLIENT_KEY", "client TLS key for the signing service, PEM", str(func(s *Settings) *string { return &s.ESIA.SignerClientKey })},
	{"BROKER_ESIA_CERTIFICATE", "the system's certificate (PEM), hashed into client_certificate_hash", str(func(s *Settings) *string { return &s.ESIA.Certificate })},
	{"BROKER_ESIA_TRUST", "ESIA token-signing certificates: a PEM file or a directory", str(func(s *Settings) *string { return &s.ESIA.Trust })},
	{"BROKER_ESIA_ISSUER", "iss of ESIA tokens, e.g. http://esia-portal1.test.gosuslugi.ru/", str(func(s *Settings) *string { return &s.ESIA.Issuer })},
	{"BROKER_ESIA_SCOPES", "scopes asked of ESIA, space separated", list(func(s *Settings) *[]string { return &s.ESIA.Scopes }, " ,")},
	{"BROKER_ESIA_REDIRECT_URL", "registered redirect_uri; default <issuer>/esia/callback", str(func(s *Settings) *string { return &s.ESIA.RedirectURL })},
	{"BROKER_ESIA_SECRET_PADDING", "send client_secret as padded base64url (false)", boolean(func(s *Settings) *bool { return &s.ESIA.SecretPadding })},
	{"BROKER_ESIA_TIMEOUT", "time-out of each ESIA call (10s)", dur(func(s *Settings) *time.Duration { return &s.ESIA.Timeout })},
	{"BROKER_ESIA_CONNECT_TIMEOUT", "time-out of the connection and TLS handshake of an ESIA call (3s)", dur(func(s *Settings) *time.Duration { return &s.ESIA.ConnectTimeout })},
	{"BROKER_ESIA_CA_FILE", "extra TLS roots for ESIA (Russian CAs), PEM", str(func(s *Settings) *string { return &s.ESIA.CAFile })},
	{"BROKER_ESIA_CLIENT_CERT", "client TLS certificate for ESIA or its gateway, PEM", str(func(s *Settings) *string { return &s.ESIA.ClientCert })},
	{"BROKER_ESIA_CLIENT_KEY", "client TLS key for ESIA or its gateway, PEM", str(func(s *Settings) *string { return &s.ESIA.ClientKey })},
	{"BROKER_ESIA_BREAKER_FAILURES", "ESIA calls failing in a row that open the circuit breaker (5; -1 = off)", func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		s.ESIA.BreakerFailures = n
		return err
	}},
	{"BROKER_ESIA_BREAKER_COOLDOWN", "how long the open breaker fails ESIA calls fast before it probes ESIA (3s)", dur(func(s *Settings) *time.Duration { return &s.ESIA.BreakerCooldown })},
	{"BROKER_SIGNING_ALG", "ID token algorithm: ES256 or RS256", str(func(s *Settings) *string { return &s.SigningAlg })},
	{"BROKER_ACCESS_TOKEN_LIFESPAN", "access token lifetime (1h)", dur(func(s *Settings) *time.Duration { return &s.AccessTokenLifespan })},
	{"BROKER_REFRESH_TOKEN_LIFESPAN", "refresh token lifetime (720h)", dur(func(s *Settings) *time.Duration { return &s.RefreshTokenLifespan })},
	{"BROKER_AUTHORIZE_CODE_LIFESPAN", "authorization code lifetime (5m)", dur(func(s *Settings) *time.Duration { return &s.AuthorizeCodeLifespan })},
	{"BROKER_ID_TOKEN_LIFESPAN", "ID token lifetime (1h)", dur(func(s *Settings) *time.Duration { return &s.IDTokenLifespan })},
	{"BROKER_GRANT_CACHE_TTL", "how long a replica trusts a grant it read for an access token: the revocation bound (5s)", dur(func(s *Settings) *time.Duration { return &s.GrantCacheTTL })},
	{"BROKER_JANITOR_EVERY", "how often the janitors run and ESIA's certificates are re-read (1m)", dur(func(s *Settings) *time.Duration { return &s.JanitorEvery })},
	{"BROKER_MEMORY_MAX_ROWS", "dev memory store: rows kept of each growing table, dead and oldest dropped first (5000; -1 = all)", func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		s.MemoryMaxRows = n
		return err
	}},
	{"BROKER_GOGC", "the garbage collector's target in serve and dev unless GOGC is set (0: Go's default, 100)", func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		s.GCPercent = n
		return err
	}},
	{"BROKER_TOKEN_COMMIT", "PostgreSQL: durable (default) or async — token issues and rotations commit without waiting for the disk; a database crash may lose the last moment's, revocations stay durable", str(func(s *Settings) *string { return &s.TokenCommit })},
	{"BROKER_LOGIN_TIMEOUT", "how long a login may wait for ESIA (15m)", dur(func(s *Settings) *time.Duration { return &s.LoginTimeout })},
	{"BROKER_RATE_LIMIT", "requests per minute per IP on login and token endpoints (120; 0 = off)", func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		s.RateLimit = n
		return err
	}},
	{"BROKER_SUPPORT_UNMASK_PER_HOUR", "values one staff member may show in full in the support console an hour (30)", func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		s.SupportUnmaskPerHour = n
		return err
	}},
	{"BROKER_TRUSTED_PROXIES", "CIDRs of load balancers whose X-Forwarded-For is trusted, comma separated", list(func(s *Settings) *[]string { return &s.TrustedProxies }, ", ")},
	{"BROKER_LOG_LEVEL", "debug, info, warn or error (info)", str(func(s *Settings) *string { return &s.LogLevel })},
	{"BROKER_LOG_FORMAT", "json or text (json)", str(func(s *Settings) *string { return &s.LogFormat })},
	{"BROKER_ESIA_PERSONS", "dev: ESIA fixture persons file (JSON)", str(func(s *Settings) *string { return &s.ESIAPersonsFile })},
	{"BROKER_ROSTER", "dev: demo roster file (NDJSON)", str(func(s *Settings) *string { return &s.RosterFile })},
}

// LoadSettings returns the defaults, overridden by the YAML file (when
// path is not empty), overridden by BROKER_* variables from lookup.
// Command-line flags are applied by the caller last.
func LoadSettings(path string, lookup func(string) (string, bool)) (Settings, error) {
	s := DefaultSettings()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return s, fmt.Errorf("settings: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("settings: %s: %w", path, err)
		}
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	for _, ev := range EnvVars {
		v, ok := lookup(ev.Name)
		if !ok || v == "" {
			continue
		}
		if err := ev.apply(&s, v); err != nil {
			// The value is not quoted: it may be a secret.
			return s, fmt.Errorf("settings: %s: invalid value: %w", ev.Name, errWithoutValue(err))
		}
	}
	return s, nil
}

// errWithoutValue keeps the kind of a parse error without the input.
func errWithoutValue(err error) error {
	switch {
	case strings.Contains(err.Error(), "invalid syntax"):
		return fmt.Errorf("invalid syntax")
	case strings.Contains(err.Error(), "time: "):
		return fmt.Errorf("not a duration (like 10s, 5m, 1h)")
	}
	return err
}
