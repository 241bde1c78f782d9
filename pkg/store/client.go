package store

import (
	"context"
	"time"
)

// Client is a downstream OAuth2/OIDC client: a diary's login integration or
// an API client of the broker. Every client belongs to one tenant.
type Client struct {
	ID                     string
	TenantID               string
	Name                   string
	SecretHash             []byte // hash of the client secret; empty for public clients
	Public                 bool
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string // authorization_code, refresh_token, client_credentials
	ResponseTypes          []string // code
	Scopes                 []string // scopes the client may ask for
	CreatedAt              time.Time
}

// Clients stores OAuth clients.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context, tenantID string) ([]Client, error) // "" lists all tenants
	DeleteClient(ctx context.Context, id string) error
}

// ValidateClient checks what every store requires of a client: an id, a
// tenant, and strings a store can keep (*FieldError otherwise).
func ValidateClient(c Client) error {
	if c.ID == "" {
		return required("id")
	}
	return check(
		CheckID("id", c.ID),
		CheckID("tenant_id", c.TenantID),
		CheckText("name", c.Name, MaxTextLength),
		checkList("redirect_uris", c.RedirectURIs, MaxURLLength, maxClientList),
		checkList("post_logout_redirect_uris", c.PostLogoutRedirectURIs, MaxURLLength, maxClientList),
		checkList("grant_types", c.GrantTypes, MaxWordLength, maxClientList),
		checkList("response_types", c.ResponseTypes, MaxWordLength, maxClientList),
		checkList("scopes", c.Scopes, MaxWordLength, maxClientList),
	)
}

// maxClientList bounds a client's lists (redirect URIs, scopes, ...).
const maxClientList = 100
