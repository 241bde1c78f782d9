package oauth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// grantCache keeps the grant rows that login access tokens read
// (granttoken.go) for at most ttl: a grant revoked on another replica, or
// straight in the store (logout, consent withdrawal), stops its access
// tokens within ttl; a revocation through this provider forgets the grant
// at once. It holds at most maxGrants entries (then starts afresh), so its
// memory is bounded however many grants are used.
type grantCache struct {
	st  store.OAuthRecords
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedGrant
}

type cachedGrant struct {
	g       store.OAuthGrant
	missing bool
	fetched time.Time
}

// maxGrants bounds the cache: about 1.5 KB a grant, some 15 MB.
const maxGrants = 10000

func newGrantCache(st store.OAuthRecords, ttl time.Duration, now func() time.Time) *grantCache {
	return &grantCache{st: st, ttl: ttl, now: now, entries: map[string]cachedGrant{}}
}

// get returns the grant of requestID, from the cache when it was read
// less than ttl ago (cached); store.ErrNotFound when there is none.
func (c *grantCache) get(ctx context.Context, requestID string) (g store.OAuthGrant, cached bool, err error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[requestID]
	c.mu.Unlock()
	if ok && now.Sub(e.fetched) < c.ttl && !now.Before(e.fetched) {
		if e.missing {
			return store.OAuthGrant{}, true, store.ErrNotFound
		}
		return e.g, true, nil
	}
	g, err = c.read(ctx, requestID, now)
	return g, false, err
}

// read reads the grant from the store and caches it.
func (c *grantCache) read(ctx context.Context, requestID string, now time.Time) (store.OAuthGrant, error) {
	g, err := c.st.GetOAuthGrant(ctx, requestID)
	missing := errors.Is(err, store.ErrNotFound)
	if err != nil && !missing {
		return store.OAuthGrant{}, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= maxGrants {
			c.entries = map[string]cachedGrant{}
		}
		c.entries[requestID] = cachedGrant{g: g, missing: missing, fetched: now}
		c.mu.Unlock()
	}
	return g, err
}

// forget drops a grant (after this replica revoked it).
func (c *grantCache) forget(requestID string) {
	c.mu.Lock()
	delete(c.entries, requestID)
	c.mu.Unlock()
}

// forgetAll drops every grant (after a revocation by subject, which names
// no grant).
func (c *grantCache) forgetAll() {
	c.mu.Lock()
	c.entries = map[string]cachedGrant{}
	c.mu.Unlock()
}
