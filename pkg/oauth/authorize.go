package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// AuthorizeRequest is a validated downstream authorization request, waiting
// for the person to log in through ESIA. It holds only the parameters the
// broker uses, each bounded (authorizeParams), so that what is kept while
// the person is at ESIA stays small whatever the request carried; the
// fosite request is rebuilt from them to finish (CompleteAuthorize).
type AuthorizeRequest struct {
	ClientID     string `json:"client_id"`
	TenantID     string `json:"tenant_id"`
	ResponseType string `json:"response_type"`
	RedirectURI  string `json:"redirect_uri"`
	State        string `json:"state,omitempty"`
	Nonce        string `json:"nonce,omitempty"`
	Role         string `json:"role,omitempty"` // the diary's role parameter, "" when absent
	// LinkPersonID is the link_person_id parameter: the diary's record of
	// its logged-in user, when linking is started from inside the diary.
	LinkPersonID string   `json:"link_person_id,omitempty"`
	Scopes       []string `json:"scopes"` // requested scopes
	// CodeChallenge and CodeChallengeMethod are the request's PKCE (S256).
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"`
	// Prompt and MaxAge are OpenID Connect's, which fosite checks when the
	// code is issued.
	Prompt string `json:"prompt,omitempty"`
	MaxAge string `json:"max_age,omitempty"`
	// ResponseMode is "" or query (the query), or form_post.
	ResponseMode string `json:"response_mode,omitempty"`
	// RequestedAt is when the broker received the request (Unix seconds):
	// what prompt=login and max_age compare ESIA's auth_time with, and the
	// ID token's rat. The fosite request rebuilt to finish is dated after
	// the person's ESIA login.
	RequestedAt int64 `json:"requested_at,omitempty"`
}

// AuthorizeError is a failed authorization request. When Redirectable is
// false the client or its redirect URI could not be validated, and RFC 6749
// §4.1.2.1 forbids sending the person back: show a page instead.
type AuthorizeError struct {
	Redirectable bool
	Err          *fosite.RFC6749Error
	ar           fosite.AuthorizeRequester
}

func (e *AuthorizeError) Error() string {
	return fmt.Sprintf("oauth: authorization request: %s: %s", e.Err.ErrorField, e.Err.GetDescription())
}

func (e *AuthorizeError) Unwrap() error { return e.Err }

// ParseAuthorize validates GET /oauth2/auth: client, exact redirect URI,
// response type, scopes, state, and, before anyone is sent to ESIA, what
// fosite would only check at the end: PKCE S256 present (or, for a client
// whose PKCE is optional, a nonce), nonce long enough, and the role
// parameter.
func (p *Provider) ParseAuthorize(ctx context.Context, r *http.Request) (*AuthorizeRequest, error) {
	bad := checkAuthorizeQuery(r.URL.RawQuery)
	if bad != nil && (bad.name == "" || bad.name == "client_id" || bad.name == "redirect_uri") {
		// Not a client and redirect URI fosite could validate: a page.
		return nil, &AuthorizeError{Err: bad.err}
	}
	r, deferred := deferredRefusal(r)
	ar, err := p.fosite.NewAuthorizeRequest(ctx, r)
	if StorageFailure(err) != nil {
		// The client could not be looked up: a failure of the store, not
		// of the request (the server shows its own page).
		return nil, p.authorizeError(nil, err)
	}
	if ar != nil && ar.GetClient() != nil && !redirectURIRegistered(ar.GetClient(), ar.GetRequestForm().Get("redirect_uri")) {
		// Whatever else is wrong, a redirect URI the client did not
		// register gets a page (RFC 6749 §4.1.2.1), even where fosite's
		// looser matching accepted it (redirect.go).
		return nil, &AuthorizeError{Err: fosite.ErrInvalidRequest.WithHint("The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.")}
	}
	if bad != nil {
		return nil, p.authorizeError(withoutBadState(ar, bad), bad.err)
	}
	if deferred != nil {
		return nil, p.authorizeError(ar, deferred)
	}
	if err != nil {
		return nil, p.authorizeError(ar, err)
	}
	form := ar.GetRequestForm()
	if perr := checkPrompt(form); perr != nil {
		return nil, p.authorizeError(ar, perr)
	}
	c, ok := ar.GetClient().(*Client)
	if !ok {
		return nil, p.authorizeError(ar, fosite.ErrServerError.WithDebug("unexpected client type"))
	}
	switch {
	case form.Get("code_challenge") == "" && form.Get("code_challenge_method") == "" && c.pkceOptional():
		// RFC 9700 §2.1.1: a confidential OIDC client may rely on the
		// ID token's nonce instead of PKCE.
		if !ar.GetRequestedScopes().Has(ScopeOpenID) || form.Get("nonce") == "" {
			return nil, p.authorizeError(ar, fosite.ErrInvalidRequest.WithHint("Send PKCE (code_challenge with code_challenge_method=S256) or, with the openid scope, a nonce."))
		}
	case form.Get("code_challenge") == "":
		return nil, p.authorizeError(ar, fosite.ErrInvalidRequest.WithHint("PKCE is required: send code_challenge with code_challenge_method=S256."))
	case form.Get("code_challenge_method") != "S256":
		return nil, p.authorizeError(ar, fosite.ErrInvalidRequest.WithHint("Only code_challenge_method=S256 is allowed."))
	case form.Get("nonce") != "" && len(form.Get("nonce")) < fosite.MinParameterEntropy:
		return nil, p.authorizeError(ar, fosite.ErrInsufficientEntropy.WithHintf("The nonce must be at least %d characters.", fosite.MinParameterEntropy))
	case form.Get("role") != "" && !validRoles[form.Get("role")]:
		return nil, p.authorizeError(ar, fosite.ErrInvalidRequest.WithHint("The role parameter must be student, parent, teacher or staff."))
	}
	// A person's token is never an API credential: a login client made
	// before clients create refused API scopes on it may still hold them,
	// but a login never asks for them (/api/v1 refuses such tokens too).
	for _, s := range ar.GetRequestedScopes() {
		if slices.Contains(APIScopes, s) {
			return nil, p.authorizeError(ar, fosite.ErrInvalidScope.WithHintf("The scope %q is for API clients (client_credentials), not for a login.", s))
		}
	}
	return &AuthorizeRequest{
		ClientID: c.ID, TenantID: c.TenantID, ResponseType: form.Get("response_type"), RedirectURI: ar.GetRedirectURI().String(),
		State: ar.GetState(), Nonce: form.Get("nonce"), Role: form.Get("role"), LinkPersonID: form.Get("link_person_id"),
		Scopes:        ar.GetRequestedScopes(),
		CodeChallenge: form.Get("code_challenge"), CodeChallengeMethod: form.Get("code_challenge_method"),
		Prompt: form.Get("prompt"), MaxAge: form.Get("max_age"), ResponseMode: form.Get("response_mode"),
		RequestedAt: p.cfg.Now().Unix(),
	}, nil
}

// FreshLogin reports whether the request asks for an authentication made
// after it: prompt=login, or max_age=0 (OpenID Connect Core §3.1.2.1).
func (r *AuthorizeRequest) FreshLogin() bool {
	return slices.Contains(strings.Fields(r.Prompt), "login") || r.MaxAge == "0"
}

// withoutBadState drops a refused state from what the error redirect
// echoes: the diary gets its error without the oversized or garbled value.
func withoutBadState(ar fosite.AuthorizeRequester, bad *paramError) fosite.AuthorizeRequester {
	if r, ok := ar.(*fosite.AuthorizeRequest); ok && bad.name == "state" {
		r.State = ""
	}
	return ar
}

func (p *Provider) authorizeError(ar fosite.AuthorizeRequester, err error) *AuthorizeError {
	rfc := fosite.ErrorToRFC6749Error(err)
	redirectable := ar != nil && ar.IsRedirectURIValid() && redirectURIRegistered(ar.GetClient(), ar.GetRequestForm().Get("redirect_uri"))
	return &AuthorizeError{Redirectable: redirectable, Err: rfc, ar: ar}
}

// reparse rebuilds the fosite request from the kept parameters.
func (p *Provider) reparse(ctx context.Context, req *AuthorizeRequest) (fosite.AuthorizeRequester, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.Issuer+"/oauth2/auth?"+req.form().Encode(), nil)
	if err != nil {
		return nil, err
	}
	return p.fosite.NewAuthorizeRequest(ctx, r)
}

// CompleteAuthorize finishes a request once the person is known: it issues
// the code for the claims and redirects to the diary. authTime is when the
// person authenticated at ESIA. When it does not satisfy the request's
// prompt=login or max_age the error is a Redirectable *AuthorizeError
// (login_required) for WriteAuthorizeError, and no code is issued. basis,
// when set, is the link and consent the login rested on: the code's
// exchange checks that they still hold (basis.go).
func (p *Provider) CompleteAuthorize(ctx context.Context, w http.ResponseWriter, req *AuthorizeRequest, claims Claims, authTime time.Time, basis *Basis) error {
	ar, err := p.reparse(ctx, req)
	if err != nil {
		return fmt.Errorf("oauth: complete authorization: %w", err)
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	requestedAt := ar.GetRequestedAt()
	if req.RequestedAt != 0 {
		requestedAt = time.Unix(req.RequestedAt, 0)
	}
	if req.MaxAge == "0" && authTime.Truncate(time.Second).Before(requestedAt) {
		// OpenID Connect Core §3.1.2.1: max_age=0 is prompt=login, which
		// fosite does not see in it.
		return &AuthorizeError{Redirectable: true, ar: ar,
			Err: fosite.ErrLoginRequired.WithHint("max_age=0 asks for an authentication after the request; ESIA's is older.")}
	}
	sess := p.newSession(req.TenantID, claims, ar.GetGrantedScopes().Has(ScopeProfile), authTime, requestedAt)
	if basis != nil {
		b := *basis
		sess.Basis = &b
	}
	// The code, its PKCE and its OpenID session are written in one batch.
	wctx := withPending(ctx)
	resp, err := p.fosite.NewAuthorizeResponse(wctx, ar, sess)
	if rfc := (*fosite.RFC6749Error)(nil); errors.As(err, &rfc) && rfc.ErrorField == fosite.ErrLoginRequired.ErrorField {
		// prompt=login or max_age, and ESIA's auth_time is older than
		// they allow (ESIA reused its session): the diary is told so.
		return &AuthorizeError{Redirectable: true, Err: rfc, ar: ar}
	}
	if err != nil {
		return fmt.Errorf("oauth: complete authorization: %w: %s", err, fosite.ErrorToRFC6749Error(err).DebugField)
	}
	if err := p.storage.flush(wctx, pendingOf(wctx)); err != nil {
		return fmt.Errorf("oauth: complete authorization: %w", err)
	}
	resp.AddParameter("iss", p.cfg.Issuer) // RFC 9207 (iss.go)
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		WriteFormPost(w, ar.GetRedirectURI().String(), resp.GetParameters())
		return nil
	}
	p.fosite.WriteAuthorizeResponse(ctx, w, ar, resp)
	return nil
}

func (p *Provider) newSession(tenantID string, claims Claims, withProfile bool, authTime, requestedAt time.Time) *Session {
	s := NewSession()
	s.TenantID = tenantID
	s.Claims = claims.clone()
	s.Subject = claims.Subject
	idc := s.DefaultSession.Claims
	idc.Subject = claims.Subject
	idc.AuthTime = authTime.UTC().Truncate(time.Second)
	idc.RequestedAt = requestedAt.UTC()
	idc.Extra = s.extraClaims(withProfile)
	return s
}

// IsAuthorizeError reports whether err is an *AuthorizeError.
func IsAuthorizeError(err error) (*AuthorizeError, bool) {
	var ae *AuthorizeError
	return ae, errors.As(err, &ae)
}
