package oauth

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ory/fosite"
)

// Limits of the authorization request's parameters, in bytes of the
// decoded value (docs/oauth.md lists them). Whoever can reach the broker
// can send an authorization request, and the broker keeps it in the
// sessions store while the person is at ESIA, so every parameter it keeps
// is bounded: together they stay under a few KiB.
const (
	MaxClientID      = 128  // the bound of every id in the store
	MaxRedirectURI   = 2048 // the request's redirect_uri; it must equal a registered one
	MaxScope         = 512  // the whole scope parameter
	MaxState         = 1024 // room for the long encrypted states of ASP.NET Core and the like
	MaxNonce         = 256
	MaxLinkPersonID  = 128 // a roster record id (external_id)
	MaxLoginHint     = 256
	MaxIDTokenHint   = 8192
	MaxOtherOIDC     = 256 // acr_values, ui_locales, claims_locales, login_hint …
	lenCodeChallenge = 43  // BASE64URL(SHA-256(verifier)) without padding, RFC 7636 §4.2
)

// paramRule bounds one authorization request parameter.
type paramRule struct {
	max int
	// valid, when set, checks the value beyond length and clean text.
	valid func(string) bool
	hint  string
}

// authorizeParams are the parameters of GET /oauth2/auth the broker knows:
// RFC 6749, OpenID Connect Core §3.1.2.1, RFC 7636 and the broker's own.
// Each must be valid UTF-8 without control characters, appear at most once
// (RFC 6749 §3.1) and stay within its limit; other parameters are ignored
// (RFC 6749 §3.1) and never kept.
var authorizeParams = map[string]paramRule{
	"response_type":         {max: 64},
	"client_id":             {max: MaxClientID},
	"redirect_uri":          {max: MaxRedirectURI},
	"scope":                 {max: MaxScope},
	"state":                 {max: MaxState},
	"nonce":                 {max: MaxNonce},
	"code_challenge":        {max: lenCodeChallenge, valid: isCodeChallenge, hint: "code_challenge must be the 43 characters of BASE64URL(SHA-256(code_verifier))."},
	"code_challenge_method": {max: 16},
	"prompt":                {max: 64},
	"max_age":               {max: 10, valid: isDigits, hint: "max_age must be a number of seconds."},
	"role":                  {max: 16},
	"link_person_id":        {max: MaxLinkPersonID},
	"login_hint":            {max: MaxLoginHint},
	"id_token_hint":         {max: MaxIDTokenHint},
	"acr_values":            {max: MaxOtherOIDC},
	"ui_locales":            {max: MaxOtherOIDC},
	"claims_locales":        {max: MaxOtherOIDC},
	"display":               {max: 32},
	"response_mode":         {max: 32},
	"claims":                {max: 4096},
	"request":               {max: 8192},
	"request_uri":           {max: 2048},
	"registration":          {max: 4096},
	"audience":              {max: MaxOtherOIDC},
}

// paramError is an authorization request parameter the broker refuses.
type paramError struct {
	name string
	err  *fosite.RFC6749Error
}

// checkAuthorizeQuery checks the query of GET /oauth2/auth against
// authorizeParams. nil means every known parameter is acceptable.
func checkAuthorizeQuery(rawQuery string) *paramError {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return &paramError{err: fosite.ErrInvalidRequest.WithHint("The query is not properly encoded.")}
	}
	for name, vs := range q {
		rule, known := authorizeParams[name]
		if !known {
			continue
		}
		if len(vs) > 1 {
			return &paramError{name: name, err: fosite.ErrInvalidRequest.WithHintf("The %s parameter is given more than once.", name)}
		}
		v := vs[0]
		switch {
		case len(v) > rule.max:
			return &paramError{name: name, err: fosite.ErrInvalidRequest.WithHintf("The %s parameter is longer than %d bytes.", name, rule.max)}
		case !cleanText(v):
			return &paramError{name: name, err: fosite.ErrInvalidRequest.WithHintf("The %s parameter must be UTF-8 text without control characters.", name)}
		case v != "" && rule.valid != nil && !rule.valid(v):
			return &paramError{name: name, err: fosite.ErrInvalidRequest.WithHint(rule.hint)}
		}
	}
	return nil
}

// cleanText reports whether s is valid UTF-8 without control characters
// (C0, DEL, C1): what a store, a log line and a redirect can carry as is.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

func isCodeChallenge(s string) bool {
	if len(s) != lenCodeChallenge {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// form is the request as fosite reads it, rebuilt from the parameters the
// broker kept: what CompleteAuthorize hands back to fosite, and what the
// code's record keeps.
func (r *AuthorizeRequest) form() url.Values {
	f := url.Values{}
	set := func(k, v string) {
		if v != "" {
			f.Set(k, v)
		}
	}
	set("response_type", r.ResponseType)
	set("client_id", r.ClientID)
	set("redirect_uri", r.RedirectURI)
	set("scope", strings.Join(r.Scopes, " "))
	set("state", r.State)
	set("nonce", r.Nonce)
	set("code_challenge", r.CodeChallenge)
	set("code_challenge_method", r.CodeChallengeMethod)
	set("prompt", r.Prompt)
	set("max_age", r.MaxAge)
	set("response_mode", r.ResponseMode)
	return f
}
