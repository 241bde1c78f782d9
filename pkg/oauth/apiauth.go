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
	// Operator is an operator-level API client's caller: it belongs to no
	// tenant (TenantID ""), and its admin scope reaches every tenant.
	Operator bool
}

// Errors of AuthenticateAPI; the HTTP layer maps them to 400, 401 and 403.
var (
	ErrNoToken           = errors.New("oauth: no bearer token")
	ErrInvalidToken      = errors.New("oauth: invalid, expired or revoked token")
	ErrInsufficientScope = errors.New("oauth: token lacks the required scope")
	// ErrNotAPIClient is a valid access token that is not a
	// client_credentials token of an API client: a person's token, or the
	// token of a login client that (from before the rule) holds API scopes.
	ErrNotAPIClient = errors.New("oauth: only client_credentials tokens of API clients may call the API")
)

// AuthenticateAPI checks the bearer token of an API request for scope: an
// access token (never a refresh token) in the Authorization header, issued
// by the client_credentials grant to an API client (IsAPIClient, as the
// client is now), with the scope. A token in the query is ErrTokenMethod.
// A token that could not be read because the store failed is a
// *StorageError, not ErrInvalidToken.
func (p *Provider) AuthenticateAPI(ctx context.Context, r *http.Request, scope string) (*APICaller, error) {
	token, err := bearerToken(r, false)
	if err != nil {
		return nil, err
	}
	ctx, note := withFailureNote(ctx)
	tu, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if se := note.failure(); se != nil {
		// The token could not be read: not an invalid token.
		return nil, se
	}
	if err != nil || tu != fosite.AccessToken {
		return nil, ErrInvalidToken
	}
	c, ok := ar.GetClient().(*Client)
	s, sok := ar.GetSession().(*Session)
	// A client_credentials token carries no person (ServeToken sets none).
	if !ok || !sok || !IsAPIClient(c.Client) || s.Claims.Subject != "" || s.GetSubject() != "" {
		return nil, ErrNotAPIClient
	}
	if !ar.GetGrantedScopes().Has(scope) {
		return nil, ErrInsufficientScope
	}
	caller := &APICaller{ClientID: c.ID, TenantID: s.TenantID, Scopes: ar.GetGrantedScopes(), Operator: c.Operator()}
	if caller.TenantID == "" {
		caller.TenantID = c.TenantID
	}
	return caller, nil
}
