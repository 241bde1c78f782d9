package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"

	"github.com/diarybroker/broker/pkg/keyring"
)

// Config configures the provider.
type Config struct {
	// Issuer is the broker's external base URL, e.g. https://id.diary.example.
	Issuer string
	Store  Store
	// Signing holds the ID token signing keys.
	Signing *keyring.Signing
	// HMACSecret (≥ 32 bytes) signs the opaque codes and tokens; every
	// replica must have the same one.
	HMACSecret []byte

	AccessTokenLifespan   time.Duration // default 1 h
	RefreshTokenLifespan  time.Duration // default 30 days
	AuthorizeCodeLifespan time.Duration // default 5 min
	IDTokenLifespan       time.Duration // default 1 h
	// ClientCacheTTL is how long a replica trusts a client it looked up
	// (default 10 s; a deleted client may work that long on a replica).
	ClientCacheTTL time.Duration
	// GrantCacheTTL is how long a replica trusts a grant it read for a
	// login's self-contained access token (default 5 s): the bound within
	// which a revoked grant's access tokens stop working everywhere.
	// Negative: no cache, every such token reads its grant.
	GrantCacheTTL time.Duration
	// StorageFailed, when set, is called when an endpoint (its path, e.g.
	// "/oauth2/token") answered 503 or 500 because the store failed.
	StorageFailed func(endpoint string, err *StorageError)
	// CodeRefused, when set, is called with a login's reference code when
	// the exchange of its code was refused because the consent or the link
	// the login rested on ended since (basis.go).
	CodeRefused func(ctx context.Context, loginRef string)

	Now    func() time.Time
	Logger *slog.Logger
}

// Scopes the provider knows. API scopes are for client_credentials tokens.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeOfflineAccess = "offline_access"
	ScopeRoster        = "roster"
	ScopeConsentRead   = "consent:read"
	ScopeSupport       = "support"
	ScopeAdmin         = "admin"
)

// Roles a diary may ask for with the role parameter.
var validRoles = map[string]bool{"student": true, "parent": true, "teacher": true, "staff": true}

// Provider is the downstream OAuth2/OIDC provider. Safe for concurrent use.
type Provider struct {
	cfg     Config
	fosite  *fosite.Fosite
	storage *storage
	log     *slog.Logger
}

// New builds the provider from only the fosite factories the broker needs.
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" || cfg.Store == nil || cfg.Signing == nil {
		return nil, errors.New("oauth: issuer, store and signing keys are required")
	}
	if len(cfg.HMACSecret) < 32 {
		return nil, errors.New("oauth: HMAC secret must be at least 32 bytes")
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.AccessTokenLifespan, time.Hour)
	def(&cfg.RefreshTokenLifespan, 30*24*time.Hour)
	def(&cfg.AuthorizeCodeLifespan, 5*time.Minute)
	def(&cfg.IDTokenLifespan, time.Hour)
	def(&cfg.ClientCacheTTL, 10*time.Second)
	def(&cfg.GrantCacheTTL, 5*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	fc := &fosite.Config{
		AccessTokenLifespan:   cfg.AccessTokenLifespan,
		RefreshTokenLifespan:  cfg.RefreshTokenLifespan,
		AuthorizeCodeLifespan: cfg.AuthorizeCodeLifespan,
		IDTokenLifespan:       cfg.IDTokenLifespan,
		IDTokenIssuer:         cfg.Issuer,
		AccessTokenIssuer:     cfg.Issuer,
		TokenURL:              cfg.Issuer + "/oauth2/token",
		GlobalSecret:          cfg.HMACSecret[:32],
		// PKCE is required of every client but one whose policy makes it
		// optional (store.PKCEOptional, confidential only): ParseAuthorize
		// refuses a request without it before the code exists, and fosite
		// checks the verifier of every code issued with a challenge.
		EnforcePKCE:                    false,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		MinParameterEntropy:            fosite.MinParameterEntropy,
		ClientSecretsHasher:            secretHasher{},
		// A refresh token for every client allowed the refresh_token
		// grant, without asking for offline_access: diaries keep people
		// logged in for a school day.
		RefreshTokenScopes:         []string{},
		SendDebugMessagesToClients: false,
		// Only access tokens are bearer credentials: fosite's token
		// validation (userinfo, the API, introspection) otherwise accepts
		// a refresh token too — a 30-day credential without client
		// authentication.
		DisableRefreshTokenValidation: true,
	}
	st := &storage{
		st:         checkedStore{cfg.Store},
		clients:    newClientCache(checkedStore{cfg.Store}, cfg.ClientCacheTTL, cfg.Now),
		now:        cfg.Now,
		codeTTL:    cfg.AuthorizeCodeLifespan,
		refreshTTL: cfg.RefreshTokenLifespan,
		accessTTL:  cfg.AccessTokenLifespan,
		grants:     newGrantCache(checkedStore{cfg.Store}, cfg.GrantCacheTTL, cfg.Now),
	}
	core := compose.NewOAuth2HMACStrategy(fc)
	st.codeSig = core.AuthorizeCodeSignature
	tokens := newSuccessorStrategy(core, cfg.HMACSecret, cfg.Now)
	st.cc, st.ag, st.rg = tokens.cc, tokens.ag, tokens.rg
	st.successorOf = func(grant, presented string) string {
		_, sig, err := tokens.refreshSuccessor(grant, presented)
		if err != nil {
			return ""
		}
		return tokens.rg.key(sig)
	}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               tokens,
		OpenIDConnectTokenStrategy: sidStrategy{&openid.DefaultStrategy{Signer: &idTokenSigner{keys: cfg.Signing}, Config: fc}},
		Signer:                     &idTokenSigner{keys: cfg.Signing},
	}
	f := compose.Compose(fc, st, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	).(*fosite.Fosite)
	shortcutTokenHandlers(fc)
	return &Provider{cfg: cfg, fosite: f, storage: st, log: cfg.Logger}, nil
}

// Issuer returns the issuer URL without a trailing slash.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// RevokeSubject revokes every access and refresh token a tenant's clients
// hold for a person (after unlinking, suspension or consent withdrawal).
func (p *Provider) RevokeSubject(ctx context.Context, tenantID, subject string) (int, error) {
	n, err := p.cfg.Store.RevokeOAuthSubject(ctx, tenantID, subject)
	p.storage.grants.forgetAll()
	if err != nil {
		return 0, fmt.Errorf("oauth: revoke subject: %w", err)
	}
	return n, nil
}

// ForgetClient drops a client from this replica's cache (after a change).
func (p *Provider) ForgetClient(id string) { p.storage.clients.forget(id) }

// ForgetTenant drops a tenant's clients from this replica's cache (after
// the tenant was disabled, enabled or deleted).
func (p *Provider) ForgetTenant(id string) { p.storage.clients.forgetTenant(id) }
