package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/diarybroker/broker/pkg/store"
)

// LogoutRequest is a validated RP-initiated logout (OpenID Connect
// RP-Initiated Logout 1.0): where to send the person afterwards.
type LogoutRequest struct {
	ClientID              string
	PostLogoutRedirectURI string // "" when none was asked for or it is not registered
	State                 string

	// grant and subject are the sid and sub of a valid id_token_hint:
	// the login EndLogoutGrant ends.
	grant, subject string
}

// ErrLogoutHint reports an id_token_hint that is not an ID token this
// broker issued.
var ErrLogoutHint = errors.New("oauth: id_token_hint is not an ID token of this broker")

// ParseLogout validates GET /oauth2/logout. The id_token_hint must be an
// ID token the broker signed (an expired one is fine: people log out after
// their token expired); the post_logout_redirect_uri must be registered
// for its client, exactly. Without a valid hint the person is logged out
// all the same but not redirected anywhere. A state that is not clean
// text within MaxState is not carried back either: the person is logged
// out and not redirected (the diary's request is broken), and the hint's
// login ends all the same (EndLogoutGrant).
func (p *Provider) ParseLogout(ctx context.Context, r *http.Request) (*LogoutRequest, error) {
	q := r.URL.Query()
	out := &LogoutRequest{State: q.Get("state")}
	hint := q.Get("id_token_hint")
	clientID := q.Get("client_id")
	badState := len(out.State) > MaxState || !cleanText(out.State)
	if badState {
		out.State = ""
	}
	if len(hint) > MaxIDTokenHint {
		return out, ErrLogoutHint
	}
	if hint != "" {
		set, err := p.cfg.Signing.PublicSet(ctx)
		if err != nil {
			return nil, fmt.Errorf("oauth: logout: %w", err)
		}
		tok, err := jwt.Parse([]byte(hint), jwt.WithKeySet(set), jwt.WithValidate(false))
		if err != nil || tok.Issuer() != p.cfg.Issuer || len(tok.Audience()) == 0 {
			return out, ErrLogoutHint
		}
		aud := tok.Audience()[0]
		if clientID != "" && clientID != aud {
			return out, ErrLogoutHint
		}
		clientID = aud
		out.subject = tok.Subject()
		if sid, ok := tok.PrivateClaims()[claimSID].(string); ok {
			out.grant = sid
		}
	}
	out.ClientID = clientID
	target := q.Get("post_logout_redirect_uri")
	if target == "" || clientID == "" || hint == "" || badState {
		return out, nil
	}
	c, err := p.storage.clients.get(ctx, clientID)
	if err != nil {
		return out, nil
	}
	if slices.Contains(c.PostLogoutRedirectURIs, target) {
		out.PostLogoutRedirectURI = target
	}
	return out, nil
}

// EndLogoutGrant ends the login whose ID token was the logout's
// id_token_hint — the grant its sid names, if it is the hint's client's
// and subject's: that login's access and refresh tokens stop, at once on
// this replica and within GrantCacheTTL on the others, as with an RFC 7009
// revocation. The person's other logins (another device, another diary)
// keep theirs. Without a valid hint, with a hint from before ID tokens
// carried sid, or when the grant has ended already, nothing is revoked.
// An error is the store's: the person is logged out all the same, and the
// caller says so in its log.
func (p *Provider) EndLogoutGrant(ctx context.Context, req *LogoutRequest) error {
	if req == nil || req.grant == "" || !store.ValidKeys(req.grant) {
		return nil
	}
	g, err := p.storage.st.GetOAuthGrant(ctx, req.grant)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("oauth: logout: %w", err)
	}
	if g.ClientID != req.ClientID || g.Subject != req.subject || !g.RevokedAt.IsZero() {
		return nil
	}
	if err := p.endGrant(ctx, req.grant); err != nil {
		return fmt.Errorf("oauth: logout: %w", err)
	}
	return nil
}
