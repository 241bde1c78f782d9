package oauth

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"
)

// APICaller is who called one of the broker's APIs: a client of a tenant,
// with the scopes its client_credentials token carries.
type APICaller struct {
	ClientID string
	TenantID string
	Scopes   []string
}

// Errors of AuthenticateAPI; the HTTP layer maps them to 401 and 403.
var (
	ErrNoToken           = errors.New("oauth: no bearer token")
	ErrInvalidToken      = errors.New("oauth: invalid, expired or revoked token")
	ErrInsufficientScope = errors.New("oauth: token lacks the required scope")
)

// AuthenticateAPI checks the bearer token of an API request for scope.
func (p *Provider) AuthenticateAPI(ctx context.Context, r *http.Request, scope string) (*APICaller, error) {
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		return nil, ErrNoToken
	}
	_, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil {
		return nil, ErrInvalidToken
	}
	if !ar.GetGrantedScopes().Has(scope) {
		return nil, ErrInsufficientScope
	}
	caller := &APICaller{ClientID: ar.GetClient().GetID(), Scopes: ar.GetGrantedScopes()}
	if s, ok := ar.GetSession().(*Session); ok {
		caller.TenantID = s.TenantID
	}
	if caller.TenantID == "" {
		if c, ok := ar.GetClient().(*Client); ok {
			caller.TenantID = c.TenantID
		}
	}
	return caller, nil
}
