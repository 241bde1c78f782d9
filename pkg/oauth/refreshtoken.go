package oauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/store"
)

// Refresh tokens name their grant (issue 13): the token carries the
// grant's request id and 32 bytes of key under an HMAC of the broker's.
// The grant keeps its live refresh token — the row key below, when it was
// issued and when it expires (store.OAuthGrant.Refresh) — so a token has
// no row: reading one is reading its grant, a code exchange writes the
// key into the grant it inserts, and a rotation is one update of the
// grant gated on its key being the presented token's
// (store.OAuthGrantRotation). Reuse detection (RFC 6819 §5.2.2.3) needs no
// row either: a token whose MAC holds, whose grant lives and keeps another
// key was rotated, and its presentation revokes the grant as before.
// Within the tenant's reuse interval a rotated token is handed back the
// pair its rotation produced: the successor is derived from the presented
// token (successor.go), so the grant keeping the successor's key, issued
// no longer ago than the interval, says that pair is still the live one.
//
// Format: "ory_rg_" + base64url(payload) + "." + base64url(HMAC-SHA512/256
// of the payload under rgLabel's key). fosite's storage calls receive it as
// its "signature" rgSigPrefix + the part after the prefix; the grant keeps
// rgTokens.key of it, an HMAC the database cannot turn back into the
// token. Refresh tokens with rows — fosite's ory_rt_ from before this
// format, and ory_rg_ ones of grants written before grants kept them —
// keep working and rotate into their grant (an ory_rt_ token's rotated row
// is kept, until its expiry, since it cannot be recognised without one).
const (
	rgPrefix    = "ory_rg_"
	rgSigPrefix = "rg."
	rgLabel     = "diarybroker grant refresh token v1"
)

// rgPayload is what a refresh token says: its grant and its key (random
// at a code exchange, derived from the presented token at a rotation).
// No personal data.
type rgPayload struct {
	Grant string `json:"g"`
	Key   string `json:"k"`
}

// rgTokens mints and opens refresh tokens that name their grant.
type rgTokens struct {
	mac  *keyedMAC
	sign *keyedMAC // the row key's HMAC: under fosite's key (the global secret)
}

func newRGTokens(hmacSecret []byte) *rgTokens {
	return &rgTokens{mac: newKeyedMAC(labelKey(hmacSecret, rgLabel)), sign: newKeyedMAC(hmacSecret[:32])}
}

// mint returns the refresh token of grant with key, and its signature as
// fosite's storage sees it.
func (t *rgTokens) mint(grant string, key []byte) (token, signature string, err error) {
	if grant == "" {
		return "", "", errors.New("oauth: a refresh token needs its grant's request id")
	}
	raw, err := json.Marshal(rgPayload{Grant: grant, Key: b64.EncodeToString(key)})
	if err != nil {
		return "", "", fmt.Errorf("oauth: encode refresh token: %w", err)
	}
	body := b64.EncodeToString(raw)
	body += "." + t.mac.mac64(body)
	return rgPrefix + body, rgSigPrefix + body, nil
}

var errBadRGToken = errors.New("oauth: malformed or forged refresh token")

// open checks a signature (rgSigPrefix + payload + "." + MAC) and returns
// the payload.
func (t *rgTokens) open(signature string) (rgPayload, error) {
	body, mac, ok := strings.Cut(strings.TrimPrefix(signature, rgSigPrefix), ".")
	if !ok || !t.mac.verify64(mac, body) {
		return rgPayload{}, errBadRGToken
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return rgPayload{}, errBadRGToken
	}
	var p rgPayload
	if err := json.Unmarshal(raw, &p); err != nil || p.Grant == "" || p.Key == "" {
		return rgPayload{}, errBadRGToken
	}
	return p, nil
}

// key is the row key of a signature: HMAC-SHA512/256 of the token under
// fosite's key, as long as fosite's own signatures, so a row is no larger.
func (t *rgTokens) key(signature string) string {
	return t.sign.mac64(strings.TrimPrefix(signature, rgSigPrefix))
}

// newRefreshKey is a code exchange's refresh token key.
func newRefreshKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	return b
}

// refreshRow maps the signature fosite hands the storage to the row key
// and, for a token that names its grant, what it says (nil otherwise). A
// forged or garbled token of the format is errBadRGToken.
func (s *storage) refreshRow(ctx context.Context, sig string) (string, *namedRefresh, error) {
	if !strings.HasPrefix(sig, rgSigPrefix) {
		return sig, nil, nil
	}
	o, err := s.rg.openIn(ctx, sig)
	if err != nil {
		return "", nil, err
	}
	return o.key, &namedRefresh{rgPayload: o.payload, sig: sig}, nil
}

// openedRG is a refresh token's signature as open and key found it.
type openedRG struct {
	sig     string
	payload rgPayload
	key     string
}

// openIn is open and key, once a request: a refresh asks four times
// about the token it presents (reading, validating and rotating it) and
// once about its successor, and each open checks a MAC and decodes JSON
// (issue 13). Only a token that opened is kept.
func (t *rgTokens) openIn(ctx context.Context, sig string) (openedRG, error) {
	c := cacheOf(ctx)
	if c != nil {
		c.mu.Lock()
		for _, o := range c.opened {
			if o.sig == sig {
				c.mu.Unlock()
				return o, nil
			}
		}
		c.mu.Unlock()
	}
	p, err := t.open(sig)
	if err != nil {
		return openedRG{}, err
	}
	o := openedRG{sig: sig, payload: p, key: t.key(sig)}
	if c != nil {
		c.mu.Lock()
		if len(c.opened) < maxOpenedRG {
			c.opened = append(c.opened, o)
		}
		c.mu.Unlock()
	}
	return o, nil
}

// maxOpenedRG bounds the tokens a request keeps opened: a refresh opens
// two (the one it presents and the one it mints); the rest is room.
const maxOpenedRG = 4

// namedRefresh is a refresh token that names its grant: its payload and
// its signature as fosite's storage sees it.
type namedRefresh struct {
	rgPayload
	sig string
}

// grantRefresh answers for a token that names its grant, which keeps a
// refresh token (store.OAuthGrant.Refresh): the token is live while it is
// the one the grant keeps — its own expiry, and the grant not revoked
// (inactive otherwise, as a revoked row was). Any other token of the grant
// was rotated: unknown off the token endpoint (introspection, revocation:
// as a rotated token without a row was), and on it the grant's request
// with fosite.ErrInactiveToken (reuse: fosite revokes the grant) — or,
// within the tenant's reuse interval while the grant keeps the successor
// the token's rotation produced, that pair (replay), which the request
// hands back without writing. A grant that ended is fosite.ErrNotFound:
// there is nothing left to revoke.
func (s *storage) grantRefresh(ctx context.Context, c *requestCache, named *namedRefresh, key string, g store.OAuthGrant, session fosite.Session) (fosite.Requester, error) {
	live := g.Refresh == key
	if !live && (c == nil || s.grantOver(g)) {
		return nil, fosite.ErrNotFound
	}
	req, err := s.decode(ctx, g.Data, session)
	if err != nil {
		return nil, err
	}
	r := req.(*fosite.Request)
	// The grant's session holds the exchange's expiry times; the token's
	// are its own.
	r.Session.SetExpiresAt(fosite.RefreshToken, g.RefreshExpiresAt)
	if !g.RefreshAt.IsZero() {
		r.RequestedAt = g.RefreshAt
	}
	if live {
		if c != nil {
			c.setHeld(&heldRefresh{key: key, grant: g})
		}
		if !g.RevokedAt.IsZero() {
			return r, fosite.ErrInactiveToken
		}
		return r, nil
	}
	presented := rgPrefix + strings.TrimPrefix(named.sig, rgSigPrefix)
	exp, issued, ok, err := s.liveSuccessor(ctx, &g, g.RequestID, s.successorOf(g.RequestID, presented))
	if err != nil {
		return nil, err
	}
	if err == nil && ok {
		ok, err = s.withinReuse(ctx, g.TenantID, issued)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return r, fosite.ErrInactiveToken
	}
	c.mu.Lock()
	c.replay = exp
	c.held = &heldRefresh{key: key, grant: g, replay: true}
	c.mu.Unlock()
	return r, nil
}

// grantOver reports whether a grant ended: it expired (a revoked grant
// expires at its revocation), or the refresh token it keeps did.
func (s *storage) grantOver(g store.OAuthGrant) bool {
	now := s.now()
	return !g.ExpiresAt.IsZero() && !g.ExpiresAt.After(now) ||
		g.Refresh != "" && !g.RefreshExpiresAt.IsZero() && !g.RefreshExpiresAt.After(now)
}

// rotatedRefresh answers for a token that names its grant, whose MAC
// holds but whose row is gone, presented at the token endpoint, when the
// grant g keeps no refresh token (its tokens had rows): it was rotated by
// a broker from before grants kept them. The grant's request comes back
// with fosite.ErrInactiveToken (fosite revokes the grant: reuse) — or,
// within the tenant's reuse interval while the pair its rotation produced
// is the grant's live one, with no error, the request's cache holding
// that pair's expiry times (replay). A grant that is over is
// fosite.ErrNotFound: there is nothing left to revoke.
func (s *storage) rotatedRefresh(ctx context.Context, c *requestCache, sig string, g store.OAuthGrant, session fosite.Session) (fosite.Requester, error) {
	if s.grantOver(g) {
		return nil, fosite.ErrNotFound
	}
	req, err := s.decode(ctx, g.Data, session)
	if err != nil {
		return nil, err
	}
	presented := rgPrefix + strings.TrimPrefix(sig, rgSigPrefix)
	exp, issued, ok, err := s.liveSuccessor(ctx, &g, g.RequestID, s.successorOf(g.RequestID, presented))
	if err == nil && ok {
		ok, err = s.withinReuse(ctx, g.TenantID, issued)
	}
	if err != nil {
		return nil, err
	}
	if !ok {
		return req, fosite.ErrInactiveToken
	}
	// The presented token's own expiry is unknown without its row; its
	// successor's is later, and the token was rotated moments ago.
	req.GetSession().SetExpiresAt(fosite.RefreshToken, exp[fosite.RefreshToken])
	c.mu.Lock()
	c.replay = exp
	c.mu.Unlock()
	return req, nil
}

// withinReuse reports whether a token issued at issued is within its
// tenant's reuse interval.
func (s *storage) withinReuse(ctx context.Context, tenantID string, issued time.Time) (bool, error) {
	interval, err := s.reuseInterval(ctx, tenantID)
	if err != nil || interval <= 0 {
		return false, err
	}
	return s.now().Sub(issued) <= interval, nil
}

// rotatedInto reports whether a grant's presented refresh token, whose
// rotation this request lost to a concurrent one, was rotated into
// successor (the same token presented twice at once) within the reuse
// interval, while that successor is still live: the pair this request
// carries is then that rotation's, handed back.
func (s *storage) rotatedInto(ctx context.Context, grant, successor string) (bool, error) {
	g, err := s.st.GetOAuthGrant(ctx, grant)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("oauth: load grant: %w", err)
	}
	_, issued, ok, err := s.liveSuccessor(ctx, &g, grant, successor)
	if err != nil || !ok {
		return false, err
	}
	return s.withinReuse(ctx, g.TenantID, issued)
}

// liveSuccessor looks up the refresh token a rotation produced (its row
// key) of a grant (g, or read when nil): live when the grant keeps it and
// it has not expired and the grant is not revoked — or, for a grant that
// keeps none (from before), when its row is active and of the grant. It
// returns the expiry times of the pair the rotation produced and when it
// was issued (for the reuse interval).
func (s *storage) liveSuccessor(ctx context.Context, g *store.OAuthGrant, grant, successor string) (map[fosite.TokenType]time.Time, time.Time, bool, error) {
	if successor == "" {
		return nil, time.Time{}, false, nil
	}
	if g == nil {
		read, err := s.st.GetOAuthGrant(ctx, grant)
		switch {
		case err == nil:
			g = &read
		case !errors.Is(err, store.ErrNotFound):
			return nil, time.Time{}, false, fmt.Errorf("oauth: load grant: %w", err)
		}
	}
	if g != nil && g.Refresh != "" {
		if g.Refresh != successor || !g.RevokedAt.IsZero() || s.grantOver(*g) {
			return nil, time.Time{}, false, nil
		}
		// One rotation set both expiry times, from the same instant and
		// the configured lifespans.
		return map[fosite.TokenType]time.Time{
			fosite.RefreshToken: g.RefreshExpiresAt,
			fosite.AccessToken:  g.RefreshExpiresAt.Add(s.accessTTL - s.refreshTTL),
		}, g.RefreshAt, true, nil
	}
	succ, err := s.st.GetOAuthRecord(ctx, store.OAuthRefresh, successor)
	switch {
	case errors.Is(err, store.ErrInactive), errors.Is(err, store.ErrNotFound):
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, fmt.Errorf("oauth: load successor: %w", err)
	}
	if succ.RequestID != grant {
		return nil, time.Time{}, false, nil
	}
	exp := map[fosite.TokenType]time.Time{}
	if succ.FromGrant {
		exp[fosite.RefreshToken] = succ.ExpiresAt
		exp[fosite.AccessToken] = succ.ExpiresAt.Add(s.accessTTL - s.refreshTTL)
		return exp, succ.CreatedAt, true, nil
	}
	// A successor with its own session (from before grants were kept).
	next, err := s.decode(ctx, succ.Data, NewSession())
	if err != nil {
		return nil, time.Time{}, false, err
	}
	for _, kind := range []fosite.TokenType{fosite.AccessToken, fosite.RefreshToken} {
		if at := next.GetSession().GetExpiresAt(kind); !at.IsZero() {
			exp[kind] = at
		}
	}
	return exp, succ.CreatedAt, true, nil
}
