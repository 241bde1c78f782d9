package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
)

// StoreFlags select the database of an operator command.
type StoreFlags struct {
	DatabaseURL *string `name:"database-url" help:"PostgreSQL URL (BROKER_DATABASE_URL)." placeholder:"URL"`
}

// operatorSettings loads the settings of an operator command: the
// database is --database-url when given, and one is required.
func operatorSettings(g *Globals, f StoreFlags) (server.Settings, error) {
	s, err := server.LoadSettings(g.Config, nil)
	if err != nil {
		return s, err
	}
	if f.DatabaseURL != nil {
		s.DatabaseURL = *f.DatabaseURL
	}
	if s.DatabaseURL == "" {
		return s, fmt.Errorf("BROKER_DATABASE_URL (or --database-url) is required")
	}
	return s, nil
}

// openStorage opens the storage of an operator command.
func openStorage(g *Globals, f StoreFlags) (*server.Storage, error) {
	st, _, err := openStorageSettings(g, f)
	return st, err
}

// openStorageSettings opens the storage of an operator command and answers
// the settings it was opened with, for commands that need more of them.
func openStorageSettings(g *Globals, f StoreFlags) (*server.Storage, server.Settings, error) {
	s, err := operatorSettings(g, f)
	if err != nil {
		return nil, s, err
	}
	st, err := server.OpenStorage(g.Ctx, s, false, nil, nil)
	return st, s, err
}

// MigrateCmd is `broker migrate`.
type MigrateCmd struct {
	Up     MigrateUpCmd     `cmd:"" default:"1" help:"Apply every pending migration."`
	Down   MigrateDownCmd   `cmd:"" help:"Roll back the newest migration."`
	Status MigrateStatusCmd `cmd:"" help:"List migrations and whether each is applied."`
}

// MigrateUpCmd is `broker migrate up`.
type MigrateUpCmd struct{ StoreFlags }

// withPool runs fn on a pool for the configured database.
func withPool(g *Globals, f StoreFlags, fn func(pool *pgxpool.Pool) error) error {
	s, err := operatorSettings(g, f)
	if err != nil {
		return err
	}
	pool, err := postgres.Connect(g.Ctx, s.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(pool)
}

// Run applies migrations.
func (c *MigrateUpCmd) Run(g *Globals) error {
	return withPool(g, c.StoreFlags, func(pool *pgxpool.Pool) error {
		n, err := postgres.Migrate(g.Ctx, pool, nil)
		if err == nil {
			fmt.Printf("applied %d migration(s)\n", n)
		}
		return err
	})
}

// MigrateDownCmd is `broker migrate down`.
type MigrateDownCmd struct{ StoreFlags }

// Run rolls back one migration.
func (c *MigrateDownCmd) Run(g *Globals) error {
	return withPool(g, c.StoreFlags, func(pool *pgxpool.Pool) error { return postgres.MigrateDown(g.Ctx, pool, nil) })
}

// MigrateStatusCmd is `broker migrate status`.
type MigrateStatusCmd struct{ StoreFlags }

// Run lists migrations.
func (c *MigrateStatusCmd) Run(g *Globals) error {
	return withPool(g, c.StoreFlags, func(pool *pgxpool.Pool) error {
		list, err := postgres.Migrations(g.Ctx, pool)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tAPPLIED\tFILE")
		for _, m := range list {
			fmt.Fprintf(w, "%d\t%v\t%s\n", m.Version, m.Applied, m.Name)
		}
		return w.Flush()
	})
}

// TenantsCmd is `broker tenants`.
type TenantsCmd struct {
	Create TenantsCreateCmd `cmd:"" help:"Create a tenant."`
	List   TenantsListCmd   `cmd:"" help:"List tenants."`
	Update TenantsUpdateCmd `cmd:"" help:"Change a tenant's consent policy, token settings and retention (only the settings given)."`
}

// TenantsCreateCmd is `broker tenants create ID`.
type TenantsCreateCmd struct {
	StoreFlags
	ID              string `arg:"" help:"Tenant id (a short slug)."`
	Name            string `required:"" help:"Display name shown to people."`
	Operator        string `help:"Personal-data operator (152-ФЗ) named in consent texts."`
	OperatorAddress string `name:"operator-address" help:"Operator's address."`
	TimeZone        string `name:"time-zone" default:"Europe/Moscow" help:"IANA time zone for ages and dates."`
	AllowNameMatch  bool   `name:"allow-name-match" help:"Allow matching by ФИО and birth date (ladder rung 4)."`
	WebhookURL      string `name:"webhook-url" help:"Where the broker POSTs events."`
	ConsentTerm     int    `name:"consent-term-days" help:"How long a consent lasts (0: until withdrawn)."`
	TextVersion     string `name:"consent-text-version" default:"1" help:"Version of the consent text; a new one asks everyone again."`
	Purpose         string `name:"purpose" help:"Purpose of processing, shown in the consent text."`
	AdultAge        int    `name:"adult-age" default:"18" help:"From this age a person consents for themself."`
	OwnAccountAge   int    `name:"own-account-age" default:"14" help:"From this age a confirmed ESIA account of one's own is required."`
}

// Run creates a tenant and prints its webhook secret once.
func (c *TenantsCreateCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	t := store.Tenant{ID: c.ID, DisplayName: c.Name, OperatorName: c.Operator, OperatorAddress: c.OperatorAddress,
		TimeZone: c.TimeZone, Matching: store.MatchingPolicy{AllowNameMatch: c.AllowNameMatch},
		Consent: store.DefaultConsentPolicy(), WebhookURL: c.WebhookURL, WebhookSecret: newSecret()}
	t.Consent.TermDays, t.Consent.TextVersion, t.Consent.AdultAge, t.Consent.OwnAccountAge = c.ConsentTerm, c.TextVersion, c.AdultAge, c.OwnAccountAge
	if c.Purpose != "" {
		t.Consent.Purpose = c.Purpose
	}
	if _, err := t.LocationErr(); err != nil {
		return err
	}
	if err := st.Store.CreateTenant(g.Ctx, t); err != nil {
		return err
	}
	fmt.Printf("tenant %s created\nwebhook secret (shown once): %s\n", t.ID, t.WebhookSecret)
	return nil
}

// TenantsListCmd is `broker tenants list`.
type TenantsListCmd struct{ StoreFlags }

// Run lists tenants.
func (c *TenantsListCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Store.ListTenants(g.Ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tTIME ZONE\tNAME MATCHING\tWEBHOOK")
	for _, t := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\n", t.ID, t.DisplayName, t.TimeZone, t.Matching.AllowNameMatch, t.WebhookURL)
	}
	return w.Flush()
}

// ClientsCmd is `broker clients`.
type ClientsCmd struct {
	Create ClientsCreateCmd `cmd:"" help:"Create a client; prints its secret once."`
	List   ClientsListCmd   `cmd:"" help:"List clients."`
	Delete ClientsDeleteCmd `cmd:"" help:"Delete a client."`
}

// ClientsCreateCmd is `broker clients create`.
type ClientsCreateCmd struct {
	StoreFlags
	Tenant      string   `required:"" help:"Tenant the client belongs to."`
	ID          string   `help:"Client id; default: generated."`
	Name        string   `help:"Human name of the client."`
	RedirectURI []string `name:"redirect-uri" help:"Exact redirect URI (repeatable)."`
	Grant       []string `help:"Grant type: authorization_code, refresh_token, client_credentials (repeatable)." default:"authorization_code,refresh_token"`
	Scope       []string `help:"Allowed scope (repeatable); default openid, profile, offline_access for login clients. API scopes (roster, consent:read, support, admin) only without the authorization_code grant."`
	Public      bool     `help:"A public client (no secret; PKCE only)."`
	PKCE        string   `name:"pkce" help:"PKCE policy: required (default), or optional for a confidential OIDC client, which must then send an ID token nonce (docs/oauth.md)." default:"required"`
	IDTokenAlg  string   `name:"id-token-alg" help:"ID token signature (id_token_signed_response_alg): ES256 or RS256; default: the broker's signing_alg."`
	JSON        bool     `help:"Print the result as JSON."`
}

// Run creates a client.
func (c *ClientsCreateCmd) Run(g *Globals) error {
	for _, u := range c.RedirectURI {
		if err := oauth.CheckRedirectURI(u); err != nil {
			return err
		}
	}
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	allowed := map[string]bool{"authorization_code": true, "refresh_token": true, "client_credentials": true}
	for _, gr := range c.Grant {
		if !allowed[gr] {
			return fmt.Errorf("grant %q not supported (authorization_code, refresh_token, client_credentials)", gr)
		}
	}
	hasCode := contains(c.Grant, "authorization_code")
	if hasCode && len(c.RedirectURI) == 0 {
		return fmt.Errorf("--redirect-uri is required for the authorization_code grant")
	}
	scopes := c.Scope
	if len(scopes) == 0 && hasCode {
		scopes = []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeOfflineAccess}
	}
	id := c.ID
	if id == "" {
		id = c.Tenant + "-" + strings.ToLower(newSecret()[:10])
	}
	cl := store.Client{ID: id, TenantID: c.Tenant, Name: c.Name, Public: c.Public, RedirectURIs: c.RedirectURI,
		GrantTypes: c.Grant, ResponseTypes: []string{"code"}, Scopes: scopes, PKCE: c.PKCE, IDTokenAlg: c.IDTokenAlg}
	if err := store.ValidateClient(cl); err != nil {
		return err
	}
	// A person's token must never be an API credential (docs/oauth.md).
	if err := oauth.CheckClientScopes(cl); err != nil {
		return fmt.Errorf("%w; make a separate API client for them: --grant client_credentials --scope …", err)
	}
	secret := ""
	if !c.Public {
		secret = newSecret()
		cl.SecretHash = oauth.HashSecret(secret)
	}
	if err := st.Store.CreateClient(g.Ctx, cl); err != nil {
		return err
	}
	if c.JSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"client_id": id, "client_secret": secret, "tenant": c.Tenant})
	}
	fmt.Printf("client_id:     %s\n", id)
	if secret != "" {
		fmt.Printf("client_secret: %s   (shown once; store it now)\n", secret)
	}
	return nil
}

// ClientsListCmd is `broker clients list`.
type ClientsListCmd struct {
	StoreFlags
	Tenant string `help:"Only this tenant's clients."`
}

// Run lists clients.
func (c *ClientsListCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Store.ListClients(g.Ctx, c.Tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTENANT\tGRANTS\tSCOPES\tREDIRECT URIS")
	for _, cl := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", cl.ID, cl.TenantID, strings.Join(cl.GrantTypes, ","), strings.Join(cl.Scopes, " "), strings.Join(cl.RedirectURIs, " "))
	}
	return w.Flush()
}

// ClientsDeleteCmd is `broker clients delete ID`.
type ClientsDeleteCmd struct {
	StoreFlags
	ID string `arg:"" help:"Client id."`
}

// Run deletes a client.
func (c *ClientsDeleteCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Store.DeleteClient(g.Ctx, c.ID); err != nil {
		return err
	}
	fmt.Printf("client %s deleted\n", c.ID)
	return nil
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
