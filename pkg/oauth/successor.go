package oauth

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/ory/fosite"
	foauth2 "github.com/ory/fosite/handler/oauth2"
)

// successorStrategy is fosite's HMAC token strategy, except for the tokens
// a refresh grant issues: those are derived from the refresh token the
// request presents, under a key of the broker's, so that presenting the
// same refresh token again — a retry whose answer was lost, or a
// concurrent duplicate — yields the very same pair, which the reuse
// interval can hand back without storing any token (docs/oauth.md).
//
// The derived access token is a login's self-contained one (ory_ag_,
// granttoken.go) whose nonce is derived; the derived refresh token names
// its grant (ory_rg_, refreshtoken.go) and its key is derived. Either is
// HMAC-SHA512/256 of the kind and the presented token under deriveKey;
// without the presented refresh token — which the broker never stores,
// only an HMAC of it — nobody, the database included, can compute it.
// Client-credentials tokens (ory_ac_) and authorization codes are
// fosite's otherwise.
type successorStrategy struct {
	*foauth2.HMACSHAStrategy
	signMAC   *keyedMAC // under fosite's HMAC key: the first 32 bytes of the global secret
	deriveMAC *keyedMAC // under the derivation key (deriveLabel)
	cc        *ccTokens // client_credentials tokens (cctoken.go)
	ag        *agTokens // logins' access tokens (granttoken.go)
	rg        *rgTokens // refresh tokens (refreshtoken.go)
	now       func() time.Time
}

var _ foauth2.CoreStrategy = (*successorStrategy)(nil)

// deriveLabel separates the derivation key from every other use of the
// broker's HMAC secret.
const deriveLabel = "diarybroker refresh successor v1"

func newSuccessorStrategy(core *foauth2.HMACSHAStrategy, hmacSecret []byte, now func() time.Time) *successorStrategy {
	return &successorStrategy{HMACSHAStrategy: core, signMAC: newKeyedMAC(hmacSecret[:32]), deriveMAC: newKeyedMAC(labelKey(hmacSecret, deriveLabel)),
		cc: newCCTokens(hmacSecret), ag: newAGTokens(hmacSecret), rg: newRGTokens(hmacSecret), now: now}
}

// AccessTokenSignature implements foauth2.AccessTokenStrategy: a
// client-credentials token is its own "signature" (cctoken.go).
func (s *successorStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if strings.HasPrefix(token, ccPrefix) {
		return ccSigPrefix + strings.TrimPrefix(token, ccPrefix)
	}
	if strings.HasPrefix(token, agPrefix) {
		return agSigPrefix + strings.TrimPrefix(token, agPrefix)
	}
	return s.HMACSHAStrategy.AccessTokenSignature(ctx, token)
}

// ValidateAccessToken implements foauth2.AccessTokenStrategy; the storage
// checked a self-contained token's MAC when it rebuilt its request.
func (s *successorStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	var err error
	switch {
	case strings.HasPrefix(token, ccPrefix):
		_, err = s.cc.open(ccSigPrefix + strings.TrimPrefix(token, ccPrefix))
	case strings.HasPrefix(token, agPrefix):
		_, err = s.ag.open(agSigPrefix + strings.TrimPrefix(token, agPrefix))
	default:
		return s.HMACSHAStrategy.ValidateAccessToken(ctx, r, token)
	}
	if err != nil {
		return fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	if exp := r.GetSession().GetExpiresAt(fosite.AccessToken); exp.IsZero() || exp.Before(s.now().UTC()) {
		return fosite.ErrTokenExpired.WithHintf("Access token expired at '%s'.", exp)
	}
	return nil
}

// GenerateAccessToken implements foauth2.AccessTokenStrategy.
func (s *successorStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if old := presentedRefresh(r); old != "" {
		// A login's token, the same for a replayed rotation (its nonce
		// derived from the presented refresh token, its expiry that of the
		// first rotation's).
		replayExpiry(ctx, r)
		_, nonce := s.derive("at", old)
		return s.mintAccess(ctx, r, nonce[:agNonceLen])
	}
	if isClientCredentials(r) {
		return s.cc.mint(r)
	}
	return s.mintAccess(ctx, r, randomNonce())
}

// mintAccess mints a login's access token with nonce and notes it for
// the request, whose storage keeps the nonce in the grant.
func (s *successorStrategy) mintAccess(ctx context.Context, r fosite.Requester, nonce string) (string, string, error) {
	token, sig, err := s.ag.mint(r, nonce)
	if err == nil {
		noteMinted(ctx, sig, nonce)
	}
	return token, sig, err
}

// GenerateRefreshToken implements foauth2.RefreshTokenStrategy: a token
// that names its grant (refreshtoken.go), its key random at a code
// exchange and derived from the presented token at a rotation.
func (s *successorStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if old := presentedRefresh(r); old != "" {
		return s.refreshSuccessor(r.GetID(), old)
	}
	return s.rg.mint(r.GetID(), newRefreshKey())
}

// refreshSuccessor is the refresh token a rotation of the refresh token
// old of grant issues, and its signature.
func (s *successorStrategy) refreshSuccessor(grant, old string) (string, string, error) {
	var key [macSize]byte
	return s.rg.mint(grant, s.deriveMAC.sum(key[:0], "rt\x00", old))
}

// RefreshTokenSignature implements foauth2.RefreshTokenStrategy: a token
// that names its grant is its own "signature"; the storage keys its row
// by an HMAC of it (rgTokens.key).
func (s *successorStrategy) RefreshTokenSignature(ctx context.Context, token string) string {
	if strings.HasPrefix(token, rgPrefix) {
		return rgSigPrefix + strings.TrimPrefix(token, rgPrefix)
	}
	return s.HMACSHAStrategy.RefreshTokenSignature(ctx, token)
}

// ValidateRefreshToken implements foauth2.RefreshTokenStrategy: a token
// that names its grant must name the grant its row (or the grant itself)
// gave, and be within its expiry.
func (s *successorStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	if !strings.HasPrefix(token, rgPrefix) {
		return s.HMACSHAStrategy.ValidateRefreshToken(ctx, r, token)
	}
	o, err := s.rg.openIn(ctx, rgSigPrefix+strings.TrimPrefix(token, rgPrefix))
	if err != nil || o.payload.Grant != r.GetID() {
		return fosite.ErrTokenSignatureMismatch.WithWrap(errBadRGToken)
	}
	if exp := r.GetSession().GetExpiresAt(fosite.RefreshToken); !exp.IsZero() && exp.Before(s.now().UTC()) {
		return fosite.ErrTokenExpired.WithHintf("Refresh token expired at '%s'.", exp)
	}
	return nil
}

// presentedRefresh is the refresh token a refresh grant presents, or "".
func presentedRefresh(r fosite.Requester) string {
	ar, ok := r.(fosite.AccessRequester)
	if !ok || !ar.GetGrantTypes().ExactOne("refresh_token") {
		return ""
	}
	return ar.GetRequestForm().Get("refresh_token")
}

var b64 = base64.URLEncoding.WithPadding(base64.NoPadding)

// derive returns the successor token of kind ("at", "rt") of the refresh
// token old, and its signature.
func (s *successorStrategy) derive(kind, old string) (token, signature string) {
	var key [macSize]byte
	s.deriveMAC.sum(key[:0], kind, "\x00", old)
	signature = s.signMAC.mac64(string(key[:]))
	return "ory_" + kind + "_" + b64.EncodeToString(key[:]) + "." + signature, signature
}

// replayExpiry gives a replayed rotation (GetRefreshTokenSession let a
// rotated token through) the expiry times of the pair it hands back, so
// that expires_in tells when the access token the first answer carried
// expires.
func replayExpiry(ctx context.Context, r fosite.Requester) {
	c := cacheOf(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	exp := c.replay
	c.mu.Unlock()
	for kind, at := range exp {
		r.GetSession().SetExpiresAt(kind, at)
	}
}
