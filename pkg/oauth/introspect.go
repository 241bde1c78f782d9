package oauth

import (
	"net/http"
	"strings"

	"github.com/ory/fosite"
)

// ServeIntrospect is POST /oauth2/introspect (RFC 7662). The caller
// authenticates as a confidential client, with client_secret_basic or
// client_secret_post and never with a bearer token, and learns about the
// access tokens issued to itself; an API client (IsAPIClient) also about
// every access token of its own tenant. Any other token is
// {"active":false}, the very answer an unknown token gets (§2.2), so that
// nothing about other clients' or tenants' tokens can be learnt or probed.
//
// fosite's own introspection handler takes Basic or a bearer token and
// answers about any token, so the client is authenticated here with
// fosite's client authentication and the token introspected after.
func (p *Provider) ServeIntrospect(w http.ResponseWriter, r *http.Request) {
	w, r, done := p.guard(w, r, "/oauth2/introspect")
	defer done()
	ctx := r.Context()
	noStore(w)
	if r.Method != http.MethodPost {
		p.fosite.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest.WithHint("Introspection takes POST."))
		return
	}
	if err := r.ParseForm(); err != nil {
		p.fosite.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest.WithHint("The body must be a form (application/x-www-form-urlencoded)."))
		return
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, _, _ := strings.Cut(auth, " "); !strings.EqualFold(scheme, "Basic") {
			p.writeClientError(w, r, fosite.ErrInvalidClient.WithHint("Authenticate as a client: client_secret_basic or client_secret_post; a bearer token is not a client credential."))
			return
		}
	}
	authenticated, err := p.fosite.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		p.writeClientError(w, r, err)
		return
	}
	caller, ok := authenticated.(*Client)
	if !ok || caller.IsPublic() {
		p.writeClientError(w, r, fosite.ErrInvalidClient.WithHint("A public client cannot introspect tokens."))
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		p.fosite.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest.WithHint("The token parameter is required."))
		return
	}
	// Only access tokens are introspected: a refresh token is inactive here
	// as it is everywhere a token is presented.
	tu, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err != nil || tu != fosite.AccessToken || !mayIntrospect(caller, ar) {
		p.fosite.WriteIntrospectionResponse(ctx, w, &fosite.IntrospectionResponse{Active: false})
		return
	}
	p.fosite.WriteIntrospectionResponse(ctx, w, &fosite.IntrospectionResponse{Active: true, AccessRequester: ar,
		TokenUse: tu, AccessTokenType: fosite.BearerAccessToken})
}

// mayIntrospect reports whether caller may learn about the token of ar:
// its own token, or, for an API client, a token of its tenant.
func mayIntrospect(caller *Client, ar fosite.Requester) bool {
	owner, ok := ar.GetClient().(*Client)
	if !ok {
		return false
	}
	if owner.ID == caller.ID {
		return true
	}
	tenant := owner.TenantID
	if s, ok := ar.GetSession().(*Session); ok && s.TenantID != "" {
		tenant = s.TenantID
	}
	return IsAPIClient(caller.Client) && caller.TenantID != "" && caller.TenantID == tenant
}

// writeClientError answers a failed client authentication; invalid_client
// carries the Basic challenge (RFC 6749 §5.2).
func (p *Provider) writeClientError(w http.ResponseWriter, r *http.Request, err error) {
	if fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrInvalidClient.ErrorField {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+p.cfg.Issuer+`"`)
	}
	p.fosite.WriteAccessError(r.Context(), w, nil, err)
}
