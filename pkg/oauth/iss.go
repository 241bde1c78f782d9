package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ory/fosite"
)

// Every authorization response the broker sends to a diary — a code, an
// error fosite found in the request, the broker's own access_denied with a
// reference code — carries iss, the broker's issuer (RFC 9207 §2), and
// discovery says so (authorization_response_iss_parameter_supported). A
// diary talking to several providers checks it against the issuer it sent
// the person to, which defeats mix-up attacks (RFC 9207 §1, RFC 9700
// §4.4). fosite writes no iss: the code response gets it as a response
// parameter (CompleteAuthorize), the errors are written here.

// WriteAuthorizeError sends the person back to the diary with the error,
// state and iss; only for a Redirectable error. The answer is in the query,
// or a form_post page when the request asked for that response mode
// (formpost.go); a request for a response mode the broker does not answer
// in is refused in the query (authorize_checks.go).
func (p *Provider) WriteAuthorizeError(_ context.Context, w http.ResponseWriter, e *AuthorizeError) {
	u := *e.ar.GetRedirectURI()
	u.Fragment = "" // RFC 6749 §3.1.2: the redirect URI has none
	params := url.Values{}
	rfc := e.Err.WithLegacyFormat(false).WithExposeDebug(false)
	for k, vs := range rfc.ToValues() {
		params[k] = vs
	}
	if state := e.ar.GetState(); state != "" {
		params.Set("state", state)
	}
	params.Set("iss", p.cfg.Issuer)
	if e.ar.GetResponseMode() == fosite.ResponseModeFormPost {
		WriteFormPost(w, u.String(), params)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusSeeOther)
}

// ErrorRedirect returns the diary URL that ends a login the broker could
// not complete (DESIGN.md §3): error=access_denied, the reason as
// error_description, the reference code, the diary's state and iss.
func (p *Provider) ErrorRedirect(req *AuthorizeRequest, reason, ref string) (string, error) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		return "", fmt.Errorf("oauth: redirect uri: %w", err)
	}
	q := u.Query()
	q.Set("error", "access_denied")
	q.Set("error_description", reason)
	if ref != "" {
		q.Set("ref", ref)
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", p.cfg.Issuer)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
