package oauth

import (
	"context"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
)

// claimSID is the ID token's session id claim (OpenID Connect Front-Channel
// Logout 1.0 §3, Back-Channel Logout 1.0 §2.4): here, the login's grant —
// its request id, which fosite carries from the authorization through the
// code exchange to every refresh, so that every ID token of one login
// names the same one. RP-initiated logout with such an ID token as
// id_token_hint ends that grant (Provider.EndLogoutGrant) and no other.
// The request id names no person; the login's access tokens carry it too
// (agPayload.Grant).
const claimSID = "sid"

// sidStrategy is fosite's ID token strategy that adds claimSID. It is on
// the claims only while the token is made: a stored session never holds
// it, and storedForm's leaving out derived claims holds as before.
type sidStrategy struct {
	openid.OpenIDConnectTokenStrategy
}

// GenerateIDToken implements openid.OpenIDConnectTokenStrategy.
func (s sidStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	sess, ok := r.GetSession().(openid.Session)
	if !ok || r.GetID() == "" || sess.IDTokenClaims() == nil {
		return s.OpenIDConnectTokenStrategy.GenerateIDToken(ctx, lifespan, r)
	}
	claims := sess.IDTokenClaims()
	if _, set := claims.Extra[claimSID]; set {
		return s.OpenIDConnectTokenStrategy.GenerateIDToken(ctx, lifespan, r)
	}
	extra := claims.Extra
	if extra == nil {
		claims.Extra = map[string]interface{}{}
	}
	claims.Extra[claimSID] = r.GetID()
	defer func() {
		delete(claims.Extra, claimSID)
		if extra == nil {
			claims.Extra = nil
		}
	}()
	return s.OpenIDConnectTokenStrategy.GenerateIDToken(ctx, lifespan, r)
}
