package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

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

// ErrorRedirect returns the way back to the diary for a login the broker
// could not complete (DESIGN.md §3): error=access_denied, the reason as
// error_description, the reference code, the diary's state and iss — in the
// redirect URI's query, or, for a request with response_mode=form_post, as
// a form post back (FormPostBack) that the broker's pages render as a form
// and WriteBack sends as the form_post page.
func (p *Provider) ErrorRedirect(req *AuthorizeRequest, reason, ref string) (string, error) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		return "", fmt.Errorf("oauth: redirect uri: %w", err)
	}
	params := url.Values{}
	params.Set("error", "access_denied")
	params.Set("error_description", reason)
	if ref != "" {
		params.Set("ref", ref)
	}
	if req.State != "" {
		params.Set("state", req.State)
	}
	params.Set("iss", p.cfg.Issuer)
	if req.ResponseMode == string(fosite.ResponseModeFormPost) {
		// A redirect URI has no fragment (CheckRedirectURI): the params
		// follow the first "#".
		return formPostBack + u.String() + "#" + params.Encode(), nil
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// formPostBack starts a way back that is a form post, not a URL.
const formPostBack = "form_post:"

// FormPostBack splits a way back from ErrorRedirect that is a form post
// into the diary's redirect URI and the parameters to post to it; ok is
// false for a plain URL.
func FormPostBack(back string) (action string, params url.Values, ok bool) {
	rest, ok := strings.CutPrefix(back, formPostBack)
	if !ok {
		return "", nil, false
	}
	action, encoded, _ := strings.Cut(rest, "#")
	params, err := url.ParseQuery(encoded)
	if err != nil {
		return "", nil, false
	}
	return action, params, true
}

// WriteBack sends the person back to the diary by a way back from
// ErrorRedirect: a redirect, or the form_post page.
func WriteBack(w http.ResponseWriter, back string) {
	if action, params, ok := FormPostBack(back); ok {
		WriteFormPost(w, action, params)
		return
	}
	w.Header().Set("Location", back)
	w.WriteHeader(http.StatusSeeOther)
}
