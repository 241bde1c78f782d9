package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/retention"
	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/webhook"
)

// Components are the broker's parts, built from Settings.
type Components struct {
	Settings  Settings
	Logger    *slog.Logger
	Now       func() time.Time
	Store     store.Store
	PII       *keyring.PII
	Signing   *keyring.Signing
	Subjects  *keyring.Subjects
	Sessions  sessions.Store
	ESIA      *esia.Config
	Simulator *esiasim.Simulator // dev mode only
	OAuth     *oauth.Provider
	Ladder    *linking.Ladder
	Login     *login.Service
	Consent   *consent.Service
	Webhooks  *webhook.Deliverer
	// Mail sends the e-mail to parents; nil without SMTP settings.
	Mail      *consent.Notifier
	Retention *retention.Janitor
	// ESIAParent is ESIA asked with the kid scopes too (the parent's page).
	ESIAParent *esia.Config
	Metrics    *Metrics
	// Ready checks the services a replica needs (PostgreSQL, Redis, ESIA's
	// trust).
	Ready map[string]func(context.Context) error

	closers []func() error
}

// BuildOptions are what tests inject.
type BuildOptions struct {
	Now    func() time.Time
	Logger *slog.Logger
	// LogOutput receives the JSON logs (default os.Stderr).
	LogOutput io.Writer
	// WrapSessions, when set, wraps the sessions store every component
	// uses (tests record what is stored).
	WrapSessions func(sessions.Store) sessions.Store
}

// NewLogger returns the broker's logger for the settings.
func NewLogger(s Settings, out io.Writer) *slog.Logger {
	if out == nil {
		out = os.Stderr
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(s.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if s.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(out, opts))
	}
	return slog.New(slog.NewJSONHandler(out, opts))
}

// Close releases every component.
func (c *Components) Close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i]())
	}
	return errors.Join(errs...)
}

// Storage is the store with its keys, for commands that need only them.
type Storage struct {
	Store store.Store
	KEK   *keyring.KEK
	PII   *keyring.PII
	Close func() error
}

// OpenStorage opens the store of the settings: PostgreSQL when a database
// URL is set (migrated when migrate is true), the memory store otherwise.
func OpenStorage(ctx context.Context, s Settings, migrate bool, logger *slog.Logger, now func() time.Time) (*Storage, error) {
	if logger == nil {
		logger = slog.Default()
	}
	kek, err := kekOf(s, logger)
	if err != nil {
		return nil, err
	}
	if s.DatabaseURL == "" {
		if s.TokenCommit == "async" {
			logger.Warn("token_commit async is for PostgreSQL: the memory store has nothing to commit", "token_commit", s.TokenCommit)
		}
		st := memory.NewLimited(now, memory.Rows(s.MemoryMaxRows))
		pii, err := keyring.OpenPII(ctx, st, kek, now)
		if err != nil {
			return nil, err
		}
		return &Storage{Store: st, KEK: kek, PII: pii, Close: st.Close}, nil
	}
	pool, err := postgres.Connect(ctx, s.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		n, err := postgres.Migrate(ctx, pool, logger)
		if err != nil {
			pool.Close()
			return nil, err
		}
		if n > 0 {
			logger.Info("database migrated", "migrations", n)
		}
	}
	pg := postgres.New(pool, nil)
	if now != nil {
		pg = pg.WithClock(now)
	}
	if s.TokenCommit == "async" {
		pg = pg.WithAsyncTokenCommit()
		logger.Info("token writes commit asynchronously", "token_commit", s.TokenCommit)
	}
	pii, err := keyring.OpenPII(ctx, pg, kek, now)
	if err != nil {
		pool.Close()
		return nil, err
	}
	st := pg.WithSealer(pii)
	return &Storage{Store: st, KEK: kek, PII: pii, Close: st.Close}, nil
}

func kekOf(s Settings, logger *slog.Logger) (*keyring.KEK, error) {
	if s.KEK != "" {
		return keyring.ParseKEK(s.KEK)
	}
	if !s.Dev || s.DatabaseURL != "" {
		return nil, errors.New("settings: BROKER_KEK is required (32 random bytes, base64): `broker keys generate-kek` makes one")
	}
	kek, _, err := keyring.GenerateKEK()
	if err == nil {
		logger.Info("dev mode: using a random key-encryption key for this run")
	}
	return kek, err
}

// Build makes every component from the settings.
func Build(ctx context.Context, s Settings, o BuildOptions) (_ *Components, err error) {
	if err := s.Resolve(); err != nil {
		return nil, err
	}
	c := &Components{Settings: s, Now: o.Now, Logger: o.Logger, Metrics: NewMetrics(), Ready: map[string]func(context.Context) error{}}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = NewLogger(s, o.LogOutput)
	}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()

	stg, err := OpenStorage(ctx, s, s.MigrateOnStart, c.Logger, c.Now)
	if err != nil {
		return nil, err
	}
	c.closers = append(c.closers, stg.Close)
	c.Store, c.PII = stg.Store, stg.PII
	c.Ready["postgres"] = c.Store.Ping
	if c.Signing, err = keyring.OpenSigning(ctx, c.Store, stg.KEK, s.SigningAlg, c.Now); err != nil {
		return nil, err
	}
	if c.Subjects, err = keyring.OpenSubjects(ctx, c.Store, stg.KEK, c.Now); err != nil {
		return nil, err
	}
	hmacSecret, err := keyring.Secret(ctx, c.Store, stg.KEK, store.KeyOAuth, c.Now)
	if err != nil {
		return nil, err
	}

	if s.RedisURL != "" {
		r, err := sessions.OpenRedis(s.RedisURL, s.RedisPrefix)
		if err != nil {
			return nil, err
		}
		c.closers = append(c.closers, r.Close)
		c.Sessions = r
		c.Ready["redis"] = r.Ping
	} else {
		c.Sessions = sessions.NewMemory(c.Now)
	}
	if o.WrapSessions != nil {
		c.Sessions = o.WrapSessions(c.Sessions)
	}

	if s.Dev {
		if err := c.buildDevESIA(ctx); err != nil {
			return nil, err
		}
	} else if err := c.buildESIA(); err != nil {
		return nil, err
	} else {
		c.Ready["esia_trust"] = func(context.Context) error {
			if len(c.ESIA.Keys.Certificates()) == 0 {
				return errors.New("no ESIA certificate loaded")
			}
			return nil
		}
	}

	c.OAuth, err = oauth.New(oauth.Config{
		Issuer: s.Issuer, Store: c.Store, Signing: c.Signing, HMACSecret: hmacSecret,
		AccessTokenLifespan: s.AccessTokenLifespan, RefreshTokenLifespan: s.RefreshTokenLifespan,
		AuthorizeCodeLifespan: s.AuthorizeCodeLifespan, IDTokenLifespan: s.IDTokenLifespan,
		GrantCacheTTL: s.GrantCacheTTL,
		Now:           c.Now, Logger: c.Logger,
		StorageFailed: func(endpoint string, se *oauth.StorageError) {
			if se.Unavailable() {
				c.Metrics.StoreUnavailable.WithLabelValues("database", endpoint).Inc()
			}
		},
		CodeRefused: func(ctx context.Context, ref string) {
			if c.Login != nil { // built below
				c.Login.CodeRefused(ctx, ref)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	c.Ladder = &linking.Ladder{Roster: c.Store, Links: c.Store, Index: c.PII, Now: c.Now}
	parent := *c.ESIA
	parent.Scopes = append(append([]string(nil), c.ESIA.Scopes...), KidScopes...)
	c.ESIAParent = &parent
	c.Consent = &consent.Service{Store: c.Store, Tokens: c.OAuth, Subjects: c.Subjects, Now: c.Now}
	if err := c.buildMail(s); err != nil {
		return nil, err
	}
	c.Webhooks = &webhook.Deliverer{Outbox: c.Store, Tenants: c.Store, Now: c.Now, Logger: c.Logger,
		Observe: func(typ, outcome string) { c.Metrics.Webhooks.WithLabelValues(typ, outcome).Inc() }}
	c.Retention = &retention.Janitor{Store: c.Store, PendingTTL: s.LoginTimeout, Now: c.Now}
	c.Login = login.New(login.Config{
		Events:     c.Consent,
		ParentESIA: c.ESIAParent,
		ESIA:       c.ESIA, Sessions: c.Sessions, Attempts: c.Store, Tenants: c.Store, Roster: c.Store,
		Values: c.Store, Ladder: c.Ladder, Subjects: c.Subjects, Tokens: c.OAuth, PendingTTL: s.LoginTimeout, Now: c.Now, Logger: c.Logger,
	})
	if s.Dev {
		if err := c.seedDev(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// buildESIA configures the real ESIA (or a gateway, or a standalone simulator).
func (c *Components) buildESIA() error {
	s := c.Settings.ESIA
	signer, err := NewSigner(s)
	if err != nil {
		return err
	}
	certPEM, err := os.ReadFile(s.Certificate)
	if err != nil {
		return fmt.Errorf("settings: esia certificate: %w", err)
	}
	der, err := firstCertificateDER(certPEM)
	if err != nil {
		return fmt.Errorf("settings: esia certificate: %w", err)
	}
	keys, err := esia.LoadKeySet(s.Trust)
	if err != nil {
		return fmt.Errorf("settings: esia trust: %w", err)
	}
	hc, err := esiaHTTPClient(s)
	if err != nil {
		return err
	}
	c.ESIA = &esia.Config{
		BaseURL: strings.TrimRight(s.BaseURL, "/"), ClientID: s.ClientID, CertificateHash: gost.CertificateHash(der),
		RedirectURL: s.RedirectURL, Scopes: s.Scopes, Signer: signer, SecretPadding: s.SecretPadding,
		Issuer: s.Issuer, Keys: keys, HTTPClient: hc, Now: c.Now, Timeout: s.Timeout, Observe: c.Metrics.ObserveESIA,
		BreakerFailures: s.BreakerFailures, BreakerCooldown: s.BreakerCooldown, Logger: c.Logger,
	}
	return nil
}
