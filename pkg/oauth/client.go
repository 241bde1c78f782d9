package oauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/store"
)

// Client is a store client as fosite sees it.
type Client struct {
	store.Client
}

var _ fosite.Client = (*Client)(nil)

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
// client up, and a client changes rarely. A deleted client keeps working
// for at most ttl on replicas that cached it.
type clientCache struct {
	clients store.Clients
	ttl     time.Duration
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]cachedClient
}

type cachedClient struct {
	c       *Client
	fetched time.Time
}

func newClientCache(clients store.Clients, ttl time.Duration, now func() time.Time) *clientCache {
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
	sc, err := cc.clients.GetClient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: get client: %w", err)
	}
	c := &Client{Client: sc}
	cc.mu.Lock()
	if len(cc.entries) > 10000 {
		cc.entries = map[string]cachedClient{}
	}
	cc.entries[id] = cachedClient{c: c, fetched: now}
	cc.mu.Unlock()
	return c, nil
}

func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	delete(cc.entries, id)
	cc.mu.Unlock()
}
