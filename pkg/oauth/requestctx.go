package oauth

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/store"
)

// requestCache holds the records one HTTP request has read, so that fosite
// asking for the same record twice, or for a code's PKCE and OpenID
// sessions, costs one query.
type requestCache struct {
	mu   sync.Mutex
	recs map[store.OAuthRef]cachedRecord
	// replay, when a rotated refresh token was let through within its
	// reuse interval, holds the expiry times of the pair its rotation
	// produced (successorStrategy hands the same pair back).
	replay map[fosite.TokenType]time.Time
}

type cachedRecord struct {
	rec     store.OAuthRecord
	present bool
}

type cacheKey struct{}

// withRequestCache starts a request's cache.
func withRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &requestCache{recs: map[store.OAuthRef]cachedRecord{}})
}

func cacheOf(ctx context.Context) *requestCache {
	c, _ := ctx.Value(cacheKey{}).(*requestCache)
	return c
}

func (c *requestCache) get(kind store.OAuthKind, sig string) (store.OAuthRecord, bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.recs[store.OAuthRef{Kind: kind, Signature: sig}]
	return r.rec, r.present, ok
}

func (c *requestCache) put(kind store.OAuthKind, sig string, rec store.OAuthRecord, present bool) {
	c.mu.Lock()
	c.recs[store.OAuthRef{Kind: kind, Signature: sig}] = cachedRecord{rec: rec, present: present}
	c.mu.Unlock()
}

// pending collects the writes of one fosite transaction.
type pending struct {
	mu      sync.Mutex
	batch   store.OAuthBatch
	gateErr error
	// grantReq is the request whose session the batch's grant keeps,
	// encoded at flush only if the grant is written (a code exchange), not
	// when it is kept already (a rotation: its expiry moves on).
	grantReq fosite.Requester
	// code is the authorization code an authorize batch writes, into
	// whose record its PKCE and OpenID sessions fold (codeparts.go).
	code *codeFold
}

type pendingKey struct{}

func withPending(ctx context.Context) context.Context {
	return context.WithValue(ctx, pendingKey{}, &pending{})
}

func pendingOf(ctx context.Context) *pending {
	p, _ := ctx.Value(pendingKey{}).(*pending)
	return p
}

func (p *pending) add(f func(*store.OAuthBatch)) {
	p.mu.Lock()
	f(&p.batch)
	p.mu.Unlock()
}

// grantFrom notes the request whose session the batch's grant keeps (the
// first token written names it).
func (p *pending) grantFrom(r fosite.Requester) {
	p.mu.Lock()
	if p.grantReq == nil {
		p.grantReq = r
	}
	p.mu.Unlock()
}

// gate sets the record the batch depends on and the error to return when
// it is no longer active.
func (p *pending) gate(ref store.OAuthRef, err error) {
	p.mu.Lock()
	p.batch.Gate = &ref
	p.gateErr = err
	p.mu.Unlock()
}

// take returns the collected writes and forgets them.
func (p *pending) take() (store.OAuthBatch, fosite.Requester, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, r, err := p.batch, p.grantReq, p.gateErr
	p.batch, p.grantReq, p.gateErr, p.code = store.OAuthBatch{}, nil, nil, nil
	return b, r, err
}
