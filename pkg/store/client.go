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
	// PKCE is the client's PKCE policy: PKCERequired ("" too) or
	// PKCEOptional, which only a confidential client may have; then an
	// authorization request without PKCE must carry an ID token nonce.
	PKCE string
	// IDTokenAlg is the client's id_token_signed_response_alg: ES256 or
	// RS256, "" for the broker's default (signing_alg).
	IDTokenAlg string
	CreatedAt  time.Time
	// DisabledAt is when the operator disabled the client (zero:
	// enabled): its tokens stop working and its logins are refused.
	DisabledAt time.Time
	// PreviousSecretHash is the hash of the secret a rotation replaced; it
	// authenticates the client too until PreviousSecretUntil, so that a
	// diary can roll its secret without downtime.
	PreviousSecretHash  []byte
	PreviousSecretUntil time.Time
	// SecretRotatedAt is when the secret was last rotated (zero: never).
	SecretRotatedAt time.Time
}

// PKCE policies of a client (Client.PKCE).
const (
	PKCERequired = "required"
	PKCEOptional = "optional"
)

// ID token algorithms a client may ask for (Client.IDTokenAlg).
const (
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// Disabled reports whether the operator disabled the client.
func (c Client) Disabled() bool { return !c.DisabledAt.IsZero() }

// Operator reports whether the client is an operator-level API client: it
// belongs to no tenant, and its admin scope reaches every tenant.
func (c Client) Operator() bool { return c.TenantID == "" }

// Clients stores OAuth clients.
type Clients interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	// GetClientForUpdate is GetClient that, inside a transaction, also
	// locks the client until the transaction ends: two changes of one
	// client (two secret rotations at once) follow each other instead of
	// the second overwriting the first.
	GetClientForUpdate(ctx context.Context, id string) (Client, error)
	// UpdateClient replaces every setting of an existing client but its
	// id, tenant and creation time (ErrNotFound when there is none).
	UpdateClient(ctx context.Context, c Client) error
	ListClients(ctx context.Context, tenantID string) ([]Client, error) // "" lists all tenants
	DeleteClient(ctx context.Context, id string) error
}

// ValidateClient checks what every store requires of a client: an id and
// strings a store can keep (*FieldError otherwise). A client of no tenant
// ("") is an operator-level API client.
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
		checkClientOptions(c),
	)
}

// checkClientOptions checks the client's PKCE policy and ID token
// algorithm: known values only, and PKCE optional only for a confidential
// client.
func checkClientOptions(c Client) error {
	switch c.PKCE {
	case "", PKCERequired:
	case PKCEOptional:
		if c.Public {
			return &FieldError{Field: "pkce", Problem: "is required for a public client"}
		}
	default:
		return &FieldError{Field: "pkce", Problem: "must be required or optional"}
	}
	switch c.IDTokenAlg {
	case "", AlgES256, AlgRS256:
		return nil
	}
	return &FieldError{Field: "id_token_alg", Problem: "must be ES256 or RS256"}
}

// maxClientList bounds a client's lists (redirect URIs, scopes, ...).
const maxClientList = 100
