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
