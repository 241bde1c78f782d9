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

// The access tokens of logins (authorization code and refresh grants) are
// self-contained too (issue 13): the token names its grant (the request
// id every token of the grant shares) and its expiry under an HMAC of the
// broker's, and the broker keeps no row for it. Verifying one is a MAC,
// its expiry, and its grant row — read through grantCache, so a revoked
// grant (revocation, logout, consent withdrawal, a replayed code, a
// reused refresh token: each brings the grant's expiry forward) stops its
// access tokens within GrantCacheTTL, at once on the replica that revoked
// by request — and its client (the client cache: a disabled client or
// tenant stops them within ClientCacheTTL). The grant names its current
// access token's nonce: a rotation ends the access tokens issued before
// it (at once on its replica, within GrantCacheTTL on the others), and a
// replica holding the grant from before a rotation reads it again for the
// rotation's token, which works everywhere at once.
//
// Format: "ory_ag_" + base64url(payload) + "." + base64url(HMAC-SHA512/256
// of the payload under agLabel's key). fosite's storage calls receive it
// as its "signature" agSigPrefix + the part after the prefix.
const (
	agPrefix    = "ory_ag_"
	agSigPrefix = "ag."
	agLabel     = "diarybroker grant access token v1"
)

// agPayload is what a login's access token says: no personal data, only
// its grant, its expiry and a nonce — the grant row names its current
// access token's (OAuthGrant.Access), so that a rotation ends the earlier
// ones. A refresh grant's nonce is derived from the presented refresh
// token, so that a replayed rotation hands back the very same token; a
// code exchange's is random.
type agPayload struct {
	Grant     string `json:"g"`
	ExpiresAt int64  `json:"e"`
	Nonce     string `json:"n,omitempty"`
}

// agTokens mints and opens login access tokens.
type agTokens struct{ mac *keyedMAC }

func newAGTokens(hmacSecret []byte) *agTokens {
	return &agTokens{mac: newKeyedMAC(labelKey(hmacSecret, agLabel))}
}

// mint returns the token of the grant r and its signature as fosite's
// storage sees it.
func (a *agTokens) mint(r fosite.Requester, nonce string) (token, signature string, err error) {
	p := agPayload{Grant: r.GetID(), ExpiresAt: r.GetSession().GetExpiresAt(fosite.AccessToken).Unix(), Nonce: nonce}
	if p.Grant == "" {
		return "", "", errors.New("oauth: an access token needs its grant's request id")
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", "", fmt.Errorf("oauth: encode access token: %w", err)
	}
	body := b64.EncodeToString(raw)
	body += "." + a.mac.mac64(body)
	return agPrefix + body, agSigPrefix + body, nil
}

var errBadAGToken = errors.New("oauth: malformed or forged access token")

// open checks a signature (agSigPrefix + payload + "." + MAC) and returns
// the payload.
func (a *agTokens) open(signature string) (agPayload, error) {
	body, mac, ok := strings.Cut(strings.TrimPrefix(signature, agSigPrefix), ".")
	if !ok || !a.mac.verify64(mac, body) {
		return agPayload{}, errBadAGToken
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return agPayload{}, errBadAGToken
	}
	var p agPayload
	if err := json.Unmarshal(raw, &p); err != nil || p.Grant == "" {
		return agPayload{}, errBadAGToken
	}
	return p, nil
}

// agRequest rebuilds the request a login's access token stands for from
// its grant: the grant's session with the token's own expiry. A grant
// that ended (revoked or expired) gives the request with
// fosite.ErrInactiveToken; a grant the janitor removed, fosite.ErrNotFound.
func (s *storage) agRequest(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	p, err := s.ag.open(signature)
	if err != nil {
		return nil, fosite.ErrNotFound
	}
	g, cached, err := s.grants.get(ctx, p.Grant)
	if err == nil && cached && g.Access != p.Nonce {
		// A rotation on another replica since this one read the grant:
		// the new access token must work at once, so read it again.
		g, err = s.grants.read(ctx, p.Grant, s.now())
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load grant: %w", err)
	}
	req, err := s.decode(ctx, g.Data, session)
	if err != nil {
		return nil, err
	}
	r := req.(*fosite.Request)
	exp := time.Unix(p.ExpiresAt, 0).UTC()
	r.Session.SetExpiresAt(fosite.AccessToken, exp)
	r.RequestedAt = exp.Add(-s.accessTTL)
	if !g.ExpiresAt.IsZero() && !g.ExpiresAt.After(s.now()) || g.Access != p.Nonce {
		// The grant ended, or a rotation replaced this token.
		return r, fosite.ErrInactiveToken
	}
	return r, nil
}

// agNonceLen is a nonce's length: 16 base64url characters, 96 bits.
const agNonceLen = 16

// randomNonce is a code exchange's access token nonce.
func randomNonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail (Go 1.24)
	return b64.EncodeToString(b[:])
}
