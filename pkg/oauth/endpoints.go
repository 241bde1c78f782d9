package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/keyring"
)

// ServeToken is POST /oauth2/token: authorization_code, refresh_token and
// client_credentials.
func (p *Provider) ServeToken(w http.ResponseWriter, r *http.Request) {
	w, r, done := p.guard(w, r, "/oauth2/token")
	defer done()
	ctx := withRequestCache(r.Context())
	sess := NewSession()
	ar, err := p.fosite.NewAccessRequest(ctx, r, sess)
	if err != nil {
		p.writeAccessError(w, r.WithContext(ctx), ar, err)
		return
	}
	if c, ok := ar.GetClient().(*Client); ok {
		ctx = withIDTokenAlg(ctx, c.IDTokenAlg) // id_token_signed_response_alg
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// API clients get what they ask for of their allowed scopes
		// (fosite checked them); the token belongs to the client's tenant.
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s)
		}
		if c, ok := ar.GetClient().(*Client); ok {
			sess.TenantID = c.TenantID
			sess.Claims.Tenant = c.TenantID
		}
		sess.SetExpiresAt(fosite.AccessToken, p.cfg.Now().UTC().Add(p.cfg.AccessTokenLifespan))
	}
	resp, err := p.fosite.NewAccessResponse(ctx, ar)
	if err != nil {
		p.writeAccessError(w, r.WithContext(ctx), ar, err)
		return
	}
	p.fosite.WriteAccessResponse(ctx, w, ar, resp)
}

// writeAccessError answers a failed token request. A code that lost a
// concurrent redemption is invalid_grant, and the grant's tokens are
// revoked, exactly as for a later reuse (RFC 6749 §4.1.2): a request that
// loses the race cannot be told from one that comes a moment after the
// winner's commit. So is a refresh token reused (RFC 6819 §5.2.2.3) — one
// presented again within the tenant's reuse interval, concurrently or not,
// never gets here: it gets the pair its rotation produced (storage.go,
// docs/oauth.md).
func (p *Provider) writeAccessError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	ctx := r.Context()
	var codeReuse *codeReusedError
	var refreshReuse *refreshReusedError
	var ended basisEndedError
	switch {
	case errors.As(err, &codeReuse):
		p.revokeGrant(r, codeReuse.requestID)
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	case errors.As(err, &refreshReuse):
		p.revokeGrant(r, refreshReuse.requestID)
		err = fosite.ErrInvalidGrant.WithHint("The refresh token has already been used.")
	case errors.As(err, &ended):
		// The consent or the link the login rested on ended after the
		// code was issued (basis.go): no grant was written. The login's
		// attempt says so, for support.
		if p.cfg.CodeRefused != nil && ended.ref != "" {
			p.cfg.CodeRefused(context.WithoutCancel(ctx), ended.ref)
		}
		err = fosite.ErrInvalidGrant.WithHint("The consent or the link to the diary record that the login rested on has ended since the code was issued.")
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		p.log.ErrorContext(ctx, "token endpoint failed", "error", rfc.ErrorField, "debug", rfc.GetDescription()+" "+rfc.DebugField)
	}
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		// RFC 6749 §5.2: a client that authenticated with the
		// Authorization header is told the scheme it must use.
		if _, _, basic := r.BasicAuth(); basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+p.cfg.Issuer+`", charset="UTF-8"`)
		}
	}
	p.fosite.WriteAccessError(ctx, w, ar, err)
}

func (p *Provider) revokeGrant(r *http.Request, requestID string) {
	if requestID == "" {
		return
	}
	if err := p.endGrant(r.Context(), requestID); err != nil {
		p.log.ErrorContext(r.Context(), "revoking a reused grant failed", "error", err)
	}
}

// endGrant revokes a grant's access and refresh tokens (which ends the
// grant), both halves whatever the request's context does meanwhile.
func (p *Provider) endGrant(ctx context.Context, requestID string) error {
	ctx = context.WithoutCancel(ctx)
	return errors.Join(p.storage.RevokeAccessToken(ctx, requestID), p.storage.RevokeRefreshToken(ctx, requestID))
}

// ServeRevoke is POST /oauth2/revoke (RFC 7009).
func (p *Provider) ServeRevoke(w http.ResponseWriter, r *http.Request) {
	w, r, done := p.guard(w, r, "/oauth2/revoke")
	defer done()
	ctx := r.Context()
	err := p.fosite.NewRevocationRequest(ctx, r)
	p.fosite.WriteRevocationResponse(ctx, w, err)
}

// ServeUserinfo is GET or POST /userinfo: the claims of the person an
// access token with the openid scope was issued for. The token comes in the
// Authorization header or a form body, never in the query; every answer is
// no-store (RFC 6750 §5.3, OpenID Connect Core §5.3.2).
func (p *Provider) ServeUserinfo(w http.ResponseWriter, r *http.Request) {
	w, r, done := p.guard(w, r, "/userinfo")
	defer done()
	ctx := r.Context()
	noStore(w)
	token, err := bearerToken(r, true)
	switch {
	case errors.Is(err, ErrNoToken):
		// RFC 6750 §3.1: a request without credentials gets the challenge
		// without an error code.
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return
	case err != nil:
		writeBearerError(w, "invalid_request", "send the access token in the Authorization header (or a form body), not in the URL")
		return
	}
	sess := NewSession()
	tu, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, sess, ScopeOpenID)
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.ErrorField == fosite.ErrInvalidScope.ErrorField {
			writeBearerError(w, "insufficient_scope", "the token lacks the openid scope")
			return
		}
		writeBearerError(w, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	s, ok := ar.GetSession().(*Session)
	if tu != fosite.AccessToken || !ok || s.Claims.Subject == "" {
		writeBearerError(w, "invalid_token", "the token was not issued to a person")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Claims.Map(ar.GetGrantedScopes().Has(ScopeProfile)))
}

// noStore marks an answer that carries or concerns a token as not to be
// cached (RFC 6749 §5.1, RFC 6750 §5.3, RFC 7662 §4).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

func writeBearerError(w http.ResponseWriter, code, description string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+strings.ReplaceAll(description, `"`, `'`)+`"`)
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusUnauthorized
	switch code {
	case "insufficient_scope":
		status = http.StatusForbidden
	case "invalid_request":
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// ServeJWKS is GET /.well-known/jwks.json: the active signing key and the
// retired ones still within their publication period.
func (p *Provider) ServeJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := p.cfg.Signing.PublicSet(r.Context())
	if err != nil {
		p.log.ErrorContext(r.Context(), "jwks", "error", err)
		http.Error(w, "keys unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(set)
}

// Discovery returns the OpenID Provider metadata.
func (p *Provider) Discovery(ctx context.Context) map[string]interface{} {
	iss := p.cfg.Issuer
	// The default algorithm first: some libraries take the first.
	algs := []string{p.cfg.Signing.DefaultAlgorithm()}
	for _, a := range keyring.Algorithms {
		if a != algs[0] {
			algs = append(algs, a)
		}
	}
	return map[string]interface{}{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oauth2/auth",
		"token_endpoint":                        iss + "/oauth2/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"revocation_endpoint":                   iss + "/oauth2/revoke",
		"introspection_endpoint":                iss + "/oauth2/introspect",
		"end_session_endpoint":                  iss + "/oauth2/logout",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              ResponseModes,
		"prompt_values_supported":               PromptValues,
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": algs,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{ScopeOpenID, ScopeProfile, ScopeOfflineAccess, ScopeRoster, ScopeConsentRead, ScopeSupport, ScopeAdmin},
		// Every claim the ID token, userinfo and introspection carry
		// (TestClaimsSupportedComplete): fosite's jti, rat (requested at) and
		// at_hash too, and sid (sid.go).
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "jti", "rat", "at_hash", "sid",
			"person_id", "roles", "tenant", "age_group", "esia_trust", "children", "name", "family_name", "given_name", "middle_name"},
		// Introspection takes confidential clients only; revocation, as the
		// token endpoint, also public ones by client_id (fosite's
		// AuthenticateClient).
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"ui_locales_supported":                           []string{"ru"},
		"authorization_response_iss_parameter_supported": true, // iss.go
	}
}
