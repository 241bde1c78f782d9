package oauth

import (
	"context"
	"net/http"

	"github.com/ory/fosite"
)

// AccessTokenClient returns the client of the access token r carries in
// its Authorization header (the token as /userinfo takes it), or ok false
// when there is none or it is not a valid access token. The server's CORS
// for /userinfo asks it which client's origins may read the answer.
func (p *Provider) AccessTokenClient(ctx context.Context, r *http.Request) (clientID string, ok bool) {
	token, err := bearerToken(r, false)
	if err != nil || token == "" {
		return "", false
	}
	tu, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil || tu != fosite.AccessToken || ar.GetClient() == nil {
		return "", false
	}
	return ar.GetClient().GetID(), true
}
