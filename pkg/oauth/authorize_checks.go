package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"
)

// Every check that can be made on an authorization request is made before
// the person leaves for ESIA, and once the client and its redirect URI are
// valid its refusal goes back to the diary by redirect (in the response
// mode it asked for, when that is one the broker supports), never as a
// page. fosite refuses a request object, a request_uri or an unknown
// response_mode before it has looked at the redirect URI, so that its
// refusal would be a page: the broker takes them out of the request fosite
// parses and refuses them itself afterwards (deferredRefusal).

// ResponseModes are the response modes the broker answers in
// (response_modes_supported): the query, and an auto-submitting form
// (form_post, formpost.go).
var ResponseModes = []string{"query", "form_post"}

// PromptValues are the prompt values the broker accepts
// (prompt_values_supported). none is always answered login_required: the
// broker keeps no session of its own, so it can never finish a login
// without sending the person to ESIA. login asks for a fresh
// authentication (checked against ESIA's auth_time, docs/oauth.md);
// consent and select_account change nothing, every login being
// interactive at ESIA already.
var PromptValues = []string{"none", "login", "consent", "select_account"}

// deferredRefusal takes out of r what fosite would refuse before the
// redirect URI is validated — request, request_uri and a response_mode the
// broker does not answer in — and returns the request fosite should parse
// and the refusal to send once the redirect URI is known to be good (nil
// when there is none).
func deferredRefusal(r *http.Request) (*http.Request, *fosite.RFC6749Error) {
	q := r.URL.Query()
	changed := q.Has("request") || q.Has("request_uri")
	var refusal *fosite.RFC6749Error
	switch {
	case q.Get("request") != "":
		refusal = fosite.ErrRequestNotSupported.WithHint("The broker does not accept request objects: send the parameters in the query.")
	case q.Get("request_uri") != "":
		refusal = fosite.ErrRequestURINotSupported.WithHint("The broker does not accept request_uri: send the parameters in the query.")
	}
	if rm := q.Get("response_mode"); rm != "" && !slices.Contains(ResponseModes, rm) {
		q.Del("response_mode") // the refusal itself goes in the query
		changed = true
		if refusal == nil {
			refusal = fosite.ErrUnsupportedResponseMode.WithHintf("The response_mode must be %s.", strings.Join(ResponseModes, " or "))
		}
	}
	if !changed {
		return r, refusal
	}
	q.Del("request")
	q.Del("request_uri")
	r2 := r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = q.Encode()
	r2.URL = &u
	r2.Form, r2.PostForm = nil, nil
	return r2, refusal
}

// checkPrompt refuses a prompt the broker cannot honour: an unknown value,
// none with another value (OpenID Connect Core §3.1.2.1), and none itself,
// which needs a session the broker does not have.
func checkPrompt(form url.Values) *fosite.RFC6749Error {
	values := strings.Fields(form.Get("prompt"))
	for _, v := range values {
		if !slices.Contains(PromptValues, v) {
			return fosite.ErrInvalidRequest.WithHintf("The prompt value %q is not supported (%s).", v, strings.Join(PromptValues, ", "))
		}
	}
	if slices.Contains(values, "none") {
		if len(values) > 1 {
			return fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
		}
		return fosite.ErrLoginRequired.WithHint("The broker keeps no session: every login goes through Госуслуги, so prompt=none cannot be satisfied.")
	}
	return nil
}
