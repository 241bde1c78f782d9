package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// Client-credentials access tokens are self-contained: the token names its
// client, scopes, request and expiry, under an HMAC of the broker's, and
// the broker keeps no row for it (issue 13). Verifying one is a MAC and a
// client lookup (the client cache: a disabled client, or one of a disabled
// tenant, stops its tokens within ClientCacheTTL, at once on the replica
// that disabled it). Such a token cannot be revoked one by one — it dies
// with its expiry (the access token lifespan) or its client.
//
// Format: "ory_ac_" + base64url(payload) + "." + base64url(HMAC-SHA512/256
// of the payload under ccLabel's key). fosite's storage calls receive it
// as its "signature" ccSigPrefix + the part after the prefix, which tells
// them there is nothing to store or read.
const (
	ccPrefix    = "ory_ac_"
	ccSigPrefix = "cc."
	ccLabel     = "diarybroker client token v1"
)

// ccPayload is what a client-credentials token says.
type ccPayload struct {
	ClientID string `json:"c"`
	// TenantID is the client's tenant when the token was issued: a client
	// id made again in another tenant does not inherit the token.
	TenantID    string   `json:"t,omitempty"`
	Scopes      []string `json:"s,omitempty"`
	RequestID   string   `json:"r"`
	RequestedAt int64    `json:"i"` // Unix milliseconds
	ExpiresAt   int64    `json:"e"`
}

// ccTokens mints and opens client-credentials tokens.
type ccTokens struct{ mac *keyedMAC }

func newCCTokens(hmacSecret []byte) *ccTokens {
	return &ccTokens{mac: newKeyedMAC(labelKey(hmacSecret, ccLabel))}
}

// isClientCredentials reports whether r is a client_credentials request.
func isClientCredentials(r fosite.Requester) bool {
	ar, ok := r.(fosite.AccessRequester)
	return ok && ar.GetGrantTypes().ExactOne("client_credentials")
}

// mint returns the token of a client_credentials request and its
// signature as fosite's storage sees it.
func (c *ccTokens) mint(r fosite.Requester) (token, signature string, err error) {
	tenant := ""
	if c, ok := r.GetClient().(*Client); ok {
		tenant = c.TenantID
	}
	p := ccPayload{ClientID: r.GetClient().GetID(), TenantID: tenant, Scopes: r.GetGrantedScopes(), RequestID: r.GetID(),
		RequestedAt: r.GetRequestedAt().UnixMilli(), ExpiresAt: r.GetSession().GetExpiresAt(fosite.AccessToken).Unix()}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", "", err
	}
	body := b64.EncodeToString(raw)
	body += "." + c.mac.mac64(body)
	return ccPrefix + body, ccSigPrefix + body, nil
}

var errBadCCToken = errors.New("oauth: malformed or forged client token")

// open checks a signature (ccSigPrefix + payload + "." + MAC) and returns
// the payload.
func (c *ccTokens) open(signature string) (ccPayload, error) {
	body, mac, ok := strings.Cut(strings.TrimPrefix(signature, ccSigPrefix), ".")
	if !ok || !c.mac.verify64(mac, body) {
		return ccPayload{}, errBadCCToken
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return ccPayload{}, errBadCCToken
	}
	var p ccPayload
	if err := json.Unmarshal(raw, &p); err != nil || p.ClientID == "" {
		return ccPayload{}, errBadCCToken
	}
	return p, nil
}

// request rebuilds the request a client-credentials token stands for, as
// ServeToken made it: the client's tenant, its scopes, its expiry. A
// client that may no longer act fails as for a stored token.
func (s *storage) ccRequest(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	p, err := s.cc.open(signature)
	if err != nil {
		return nil, fosite.ErrNotFound
	}
	client, err := s.clients.get(ctx, p.ClientID)
	if err != nil {
		return nil, err
	}
	if !ccTokenFits(p, client) {
		return nil, fosite.ErrNotFound
	}
	if session == nil {
		session = NewSession()
	}
	if bs, ok := session.(*Session); ok {
		bs.TenantID, bs.Claims.Tenant = client.TenantID, client.TenantID
	}
	session.SetExpiresAt(fosite.AccessToken, time.Unix(p.ExpiresAt, 0).UTC())
	return &fosite.Request{ID: p.RequestID, RequestedAt: time.UnixMilli(p.RequestedAt).UTC(), Client: client,
		RequestedScope: p.Scopes, GrantedScope: p.Scopes, Form: map[string][]string{}, Session: session}, nil
}

// ccTokenFits reports whether the client a token names is still the one it
// was issued to, as it is now: the same tenant, made before the token (a
// client deleted and made again under the same id does not inherit it),
// still a client_credentials client, and still holding every scope of the
// token (a scope taken from the client is taken from its tokens).
func ccTokenFits(p ccPayload, c *Client) bool {
	if p.TenantID != c.TenantID || !c.GetGrantTypes().Has("client_credentials") {
		return false
	}
	if !c.CreatedAt.IsZero() && p.RequestedAt < c.CreatedAt.UnixMilli() {
		return false
	}
	for _, s := range p.Scopes {
		if !c.GetScopes().Has(s) {
			return false
		}
	}
	return true
}
