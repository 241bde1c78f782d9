package server

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// Dev mode's fixed names (DESIGN.md §4).
const (
	DevTenant           = "demo"
	DevClientID         = "demo-diary"
	DevClientSecret     = "demo-secret"
	DevAPIClientID      = "demo-api"
	DevAPIClientSecret  = "demo-api-secret"
	DevESIAClientID     = "DIARYBROKER"
	DevExternalRedirect = "http://127.0.0.1:8089/callback"
	// DevSPAClientID is dev mode's public client (PKCE, no secret) for a
	// browser app on one of DevSPAOrigins: its redirect URI is the
	// origin + "/callback", and the broker answers it with CORS.
	DevSPAClientID = "demo-spa"
)

// DevSPAOrigins are the origins of the dev SPA client's redirect URIs:
// the usual ports of front-end dev servers (Vite, Create React App, and
// 8089 of the demo diary).
var DevSPAOrigins = []string{"http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:3000", "http://127.0.0.1:8089"}

//go:embed demo/roster.ndjson
var demoRoster []byte

// buildDevESIA starts the simulator (GOST on both sides: the broker signs
// client_secret with a fresh GOST key, the simulator signs GOST3410_2012_256
// tokens) and points the ESIA client at it.
func (c *Components) buildDevESIA(ctx context.Context) error {
	s := c.Settings
	now := c.Now()
	key, certDER, err := esiasim.SelfSignedGOST("Дневник-брокер (dev)", now)
	if err != nil {
		return fmt.Errorf("dev: system key: %w", err)
	}
	tokenSigner, err := esiasim.NewGOSTSigner("ЕСИА (симулятор)", now)
	if err != nil {
		return fmt.Errorf("dev: simulator key: %w", err)
	}
	var persons []esiasim.Person
	if s.ESIAPersonsFile != "" {
		f, err := os.Open(s.ESIAPersonsFile)
		if err != nil {
			return fmt.Errorf("dev: esia persons: %w", err)
		}
		persons, err = esiasim.LoadPersons(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("dev: esia persons %s: %w", s.ESIAPersonsFile, err)
		}
	}
	sim, err := esiasim.New(esiasim.Config{
		BaseURL: s.Issuer + "/esia-sim",
		Clients: []esiasim.Client{{ID: DevESIAClientID, RedirectURIs: []string{s.ESIA.RedirectURL}, Certificate: certDER}},
		Persons: persons, TokenSigner: tokenSigner, Now: c.Now,
	})
	if err != nil {
		return fmt.Errorf("dev: simulator: %w", err)
	}
	c.Simulator = sim
	c.closers = append(c.closers, func() error { sim.Close(); return nil })
	keys, err := esia.ParseKeySet(sim.CertificatesPEM())
	if err != nil {
		return fmt.Errorf("dev: simulator certificate: %w", err)
	}
	hc, err := esiaHTTPClient(s.ESIA)
	if err != nil {
		return err
	}
	c.ESIA = &esia.Config{
		BaseURL: sim.BaseURL(), ClientID: DevESIAClientID, CertificateHash: gost.CertificateHash(certDER),
		RedirectURL: s.ESIA.RedirectURL, Scopes: s.ESIA.Scopes, Signer: esia.GOSTSigner{Key: key},
		Issuer: sim.Issuer(), Keys: keys, HTTPClient: hc, Now: c.Now, Timeout: s.ESIA.Timeout,
		Observe: c.Metrics.ObserveESIA, BreakerFailures: s.ESIA.BreakerFailures, BreakerCooldown: s.ESIA.BreakerCooldown,
		Logger: c.Logger,
	}
	return nil
}

// DemoTenant is the tenant dev mode creates.
func DemoTenant() store.Tenant {
	return store.Tenant{
		ID: DevTenant, DisplayName: "Демонстрационный электронный дневник",
		OperatorName:    "ГБУ «Демонстрационный региональный центр обработки информации»",
		OperatorAddress: "г. Москва, ул. Примерная, д. 1", TimeZone: "Europe/Moscow",
		Matching: store.MatchingPolicy{AllowNameMatch: false}, Consent: store.DefaultConsentPolicy(),
	}
}

// seedDev creates the demo tenant, the demo diary's client, an API client
// and the demo roster, unless they exist (dev mode on PostgreSQL).
func (c *Components) seedDev(ctx context.Context) error {
	s := c.Settings
	if err := c.Store.CreateTenant(ctx, DemoTenant()); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("dev: tenant: %w", err)
	}
	clients := []store.Client{{
		ID: DevClientID, TenantID: DevTenant, Name: "Демо-дневник", SecretHash: oauth.HashSecret(DevClientSecret),
		RedirectURIs:           []string{s.Issuer + "/demo/callback", DevExternalRedirect},
		PostLogoutRedirectURIs: []string{s.Issuer + "/demo"},
		GrantTypes:             []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeOfflineAccess},
	}, devSPAClient(), {
		ID: DevAPIClientID, TenantID: DevTenant, Name: "Демо-дневник: API", SecretHash: oauth.HashSecret(DevAPIClientSecret),
		GrantTypes: []string{"client_credentials"},
		Scopes:     []string{oauth.ScopeRoster, oauth.ScopeConsentRead, oauth.ScopeSupport, oauth.ScopeAdmin},
	}}
	for _, cl := range clients {
		// The demo client follows --addr: replace it when it exists.
		_ = c.Store.DeleteClient(ctx, cl.ID)
		if err := c.Store.CreateClient(ctx, cl); err != nil {
			return fmt.Errorf("dev: client %s: %w", cl.ID, err)
		}
	}
	if err := c.seedDevStaff(ctx); err != nil {
		return err
	}
	var roster io.Reader = bytes.NewReader(demoRoster)
	if s.RosterFile != "" {
		f, err := os.Open(s.RosterFile)
		if err != nil {
			return fmt.Errorf("dev: roster: %w", err)
		}
		defer f.Close()
		roster = f
	}
	im := &linking.Importer{Roster: c.Store, Index: c.PII}
	rep, err := im.Import(ctx, DevTenant, roster)
	if err != nil {
		return fmt.Errorf("dev: roster: %w", err)
	}
	c.Logger.Info("dev mode: demo roster loaded", "persons", rep.Persons, "relations", rep.Relations, "row_errors", len(rep.Errors))
	for _, e := range rep.Errors {
		c.Logger.Warn("dev mode: roster row rejected", "line", e.Line, "field", e.Field, "message", e.Message)
	}
	return nil
}

// devSPAClient is dev mode's public client for browser apps.
func devSPAClient() store.Client {
	cl := store.Client{ID: DevSPAClientID, TenantID: DevTenant, Name: "Демо-дневник в браузере (SPA)", Public: true,
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeOfflineAccess}}
	for _, o := range DevSPAOrigins {
		cl.RedirectURIs = append(cl.RedirectURIs, o+"/callback")
		cl.PostLogoutRedirectURIs = append(cl.PostLogoutRedirectURIs, o+"/")
	}
	return cl
}
