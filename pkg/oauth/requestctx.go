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
	// held is the refresh token the request presented when its grant
	// keeps it (store.OAuthGrant.Refresh), or kept its successor within
	// the reuse interval (a replay): the rotation gates on the grant.
	held *heldRefresh
	// decoded keeps the decode of a code's record (decodememo.go).
	decoded []decodedRecord
	// opened keeps the refresh tokens that name their grant the request
	// opened (rgTokens.openIn).
	opened []openedRG
	// minted is the access token the request minted (its signature and
	// nonce), which storage.write keeps in the grant without opening the
	// token again.
	minted struct{ sig, nonce string }
}

// noteMinted notes the access token a request minted.
func noteMinted(ctx context.Context, sig, nonce string) {
	if c := cacheOf(ctx); c != nil {
		c.mu.Lock()
		c.minted.sig, c.minted.nonce = sig, nonce
		c.mu.Unlock()
	}
}

// mintedNonce is the nonce of the access token of signature sig when the
// request minted it.
func mintedNonce(ctx context.Context, sig string) (string, bool) {
	c := cacheOf(ctx)
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.minted.nonce, c.minted.sig != "" && c.minted.sig == sig
}

// heldRefresh is a presented refresh token its grant keeps, or kept: its
// row key and its grant as GetRefreshTokenSession read it.
type heldRefresh struct {
	key   string
	grant store.OAuthGrant
	// replay: the grant keeps the successor of the presented token,
	// rotated within the reuse interval; the request hands back that pair
	// and writes nothing.
	replay bool
}

// setHeld notes the presented refresh token its grant keeps.
func (c *requestCache) setHeld(h *heldRefresh) {
	c.mu.Lock()
	c.held = h
	c.mu.Unlock()
}

// heldOf is the presented refresh token of row key key when its grant
// keeps it (GetRefreshTokenSession read it in this request), or nil.
func heldOf(ctx context.Context, key string) *heldRefresh {
	c := cacheOf(ctx)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil || c.held.key != key {
		return nil
	}
	return c.held
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
	// replay: the batch is a replayed rotation (heldRefresh.replay), whose
	// pair the grant keeps already: nothing is written.
	replay bool
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

// gateGrant makes the batch depend on a grant's live refresh token (the
// batch's GrantRotation) and sets the error to return when it is another.
func (p *pending) gateGrant(r store.OAuthGrantRotation, err error, replay bool) {
	p.mu.Lock()
	p.batch.GrantRotation = &r
	p.gateErr, p.replay = err, replay
	p.mu.Unlock()
}

// take returns the collected writes and forgets them; replay reports a
// replayed rotation, which writes nothing.
func (p *pending) take() (b store.OAuthBatch, r fosite.Requester, replay bool, gateErr error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, r, replay, gateErr = p.batch, p.grantReq, p.replay, p.gateErr
	p.batch, p.grantReq, p.gateErr, p.code, p.replay = store.OAuthBatch{}, nil, nil, nil, false
	return b, r, replay, gateErr
}
