package oauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/store"
)

// Client is a store client as fosite sees it.
type Client struct {
	store.Client
	// now tells whether the previous secret is still in its grace period.
	now func() time.Time
}

var (
	_ fosite.Client                   = (*Client)(nil)
	_ fosite.ClientWithSecretRotation = (*Client)(nil)
)

// GetRotatedHashes implements fosite.ClientWithSecretRotation: the hash of
// the secret a rotation replaced, until its grace period ends. fosite
// compares the secret with the current hash and then with these, each in
// constant time (secretHasher).
func (c *Client) GetRotatedHashes() [][]byte {
	if len(c.PreviousSecretHash) == 0 || c.now == nil || !c.now().Before(c.PreviousSecretUntil) {
		return nil
	}
	return [][]byte{c.PreviousSecretHash}
}

// GetID implements fosite.Client.
func (c *Client) GetID() string { return c.ID }

// GetHashedSecret implements fosite.Client.
func (c *Client) GetHashedSecret() []byte { return c.SecretHash }

// GetRedirectURIs implements fosite.Client.
func (c *Client) GetRedirectURIs() []string { return c.RedirectURIs }

// GetGrantTypes implements fosite.Client.
func (c *Client) GetGrantTypes() fosite.Arguments { return c.GrantTypes }

// GetResponseTypes implements fosite.Client.
func (c *Client) GetResponseTypes() fosite.Arguments {
	if len(c.ResponseTypes) == 0 {
		return fosite.Arguments{"code"}
	}
	return c.ResponseTypes
}

// GetScopes implements fosite.Client.
func (c *Client) GetScopes() fosite.Arguments { return c.Scopes }

// IsPublic implements fosite.Client.
func (c *Client) IsPublic() bool { return c.Public }

// GetResponseModes implements fosite.ResponseModeClient: every client may
// ask for the query or form_post (ResponseModes).
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFormPost}
}

// pkceOptional reports whether the client may go without PKCE (then with a
// nonce): a confidential client registered with --pkce optional.
func (c *Client) pkceOptional() bool { return c.PKCE == store.PKCEOptional && !c.Public }

// GetAudience implements fosite.Client.
func (c *Client) GetAudience() fosite.Arguments { return nil }

// clientCache keeps clients for a short time: every token request looks its
// client up, and a client changes rarely. A deleted or disabled client, or
// a client of a disabled tenant, keeps working for at most ttl on replicas
// that cached it.
type clientCache struct {
	clients clientSource
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]cachedClient
}

type cachedClient struct {
	c       *Client
	fetched time.Time
}

// clientSource is where the cache reads clients and their tenants.
type clientSource interface {
	GetClient(ctx context.Context, id string) (store.Client, error)
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
}

func newClientCache(clients clientSource, ttl time.Duration, now func() time.Time) *clientCache {
	return &clientCache{clients: clients, ttl: ttl, now: now, entries: map[string]cachedClient{}}
}

func (cc *clientCache) get(ctx context.Context, id string) (*Client, error) {
	now := cc.now()
	cc.mu.Lock()
	e, ok := cc.entries[id]
	cc.mu.Unlock()
	if ok && now.Sub(e.fetched) < cc.ttl {
		return e.c, nil
	}
	sc, err := cc.active(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	c := &Client{Client: sc, now: cc.now}
	cc.mu.Lock()
	if len(cc.entries) > 10000 {
		cc.entries = map[string]cachedClient{}
	}
	// A copy of id as the key: id may be cut from a decoded stored
	// request's buffer (storedjson.go), which the cache would otherwise
	// keep alive.
	cc.entries[strings.Clone(id)] = cachedClient{c: c, fetched: now}
	cc.mu.Unlock()
	return c, nil
}

// active reads a client that may act: a disabled client, or a client of a
// disabled (or deleted) tenant, is ErrNotFound, so that its logins, its
// token requests and every token it holds stop working.
func (cc *clientCache) active(ctx context.Context, id string) (store.Client, error) {
	sc, err := cc.clients.GetClient(ctx, id)
	if err != nil {
		return sc, fmt.Errorf("oauth: get client: %w", err)
	}
	if sc.Disabled() {
		return sc, store.ErrNotFound
	}
	if sc.Operator() {
		return sc, nil
	}
	t, err := cc.clients.GetTenant(ctx, sc.TenantID)
	if err != nil {
		return sc, fmt.Errorf("oauth: get tenant of client: %w", err)
	}
	if t.Disabled() {
		return sc, store.ErrNotFound
	}
	return sc, nil
}

// forgetTenant drops the clients of a tenant from the cache.
func (cc *clientCache) forgetTenant(tenantID string) {
	cc.mu.Lock()
	for id, e := range cc.entries {
		if e.c.TenantID == tenantID {
			delete(cc.entries, id)
		}
	}
	cc.mu.Unlock()
}

func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.entries, id)
	cc.mu.Unlock()
}
