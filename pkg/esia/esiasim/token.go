package esiasim

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"

	"github.com/google/uuid"
)

// token serves POST /aas/oauth2/v3/te (and, for protoV1, the legacy POST
// /aas/oauth2/te): the code grant and the refresh grant. Errors are HTTP 400
// {"error":…,"error_description":"ESIA-…: …"}. A request that fails client
// authentication does not consume its code.
func (s *Simulator) token(proto protocol) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.exchange(proto, w, r) }
}

func (s *Simulator) exchange(proto protocol, w http.ResponseWriter, r *http.Request) {
	fail := func(e *esiaError) { writeJSONError(w, http.StatusBadRequest, e, "") }
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		fail(newError(CodeUnreadableRequest, "form-encoded body expected"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		fail(newError(CodeUnreadableRequest, ""))
		return
	}
	f := r.PostForm
	id := f.Get("client_id")
	if id == "" {
		fail(newError(CodeMissingParameter, "client_id"))
		return
	}
	c := s.clients[id]
	if c == nil {
		fail(newError(CodeClientAuthentication, "unknown client_id"))
		return
	}
	grantType := f.Get("grant_type")
	var tail []string
	switch grantType {
	case "":
		fail(newError(CodeMissingParameter, "grant_type"))
		return
	case "authorization_code":
		if f.Get("code") == "" {
			fail(newError(CodeMissingParameter, "code"))
			return
		}
		if proto == protoV2 {
			tail = []string{f.Get("code")} // v3/te signs the code too; v1/te does not
		}
	case "refresh_token":
		if f.Get("refresh_token") == "" {
			fail(newError(CodeMissingParameter, "refresh_token"))
			return
		}
	case "client_credentials":
		fail(newError(CodeGrantNotAllowed, ""))
		return
	default:
		fail(newError(CodeGrantNotSupported, ""))
		return
	}
	redirectURI := f.Get("redirect_uri")
	switch {
	case redirectURI == "":
		fail(newError(CodeMissingParameter, "redirect_uri"))
		return
	case !slices.Contains(c.RedirectURIs, redirectURI):
		fail(newError(CodeRedirectNotAllowed, ""))
		return
	}
	switch tt := f.Get("token_type"); {
	case tt == "":
		fail(newError(CodeMissingParameter, "token_type"))
		return
	case tt != "Bearer":
		fail(newError(CodeInvalidParameter, "token_type"))
		return
	}
	req, e := s.checkSigned(proto, c, f, redirectURI, tail...)
	if e != nil {
		fail(e)
		return
	}
	var g *grant
	if grantType == "authorization_code" {
		g = s.redeemCode(f.Get("code"), c)
	} else {
		g = s.redeemRefresh(f.Get("refresh_token"), c)
	}
	switch {
	case g == nil:
		fail(newError(CodeCodeInvalid, ""))
		return
	case grantType == "authorization_code" && g.req.redirectURI != redirectURI:
		fail(newError(CodeInvalidParameter, "redirect_uri differs from the authorization request"))
		return
	case g.req.scope != req.scope:
		fail(newError(CodeInvalidScope, "scope differs from the authorization request"))
		return
	}
	if grantType == "authorization_code" {
		if e := checkVerifier(g.req.codeChallenge, f.Get("code_verifier")); e != nil {
			fail(e)
			return
		}
		if g.req.tokenError != "" {
			fail(newError(g.req.tokenError, "requested by sim_token_error or the person's sim.tokenError"))
			return
		}
	}
	body, err := s.issue(g, req.state)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, newError(CodeInternal, ""), "")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// tokenAnswer is the JSON answer of v3/te.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	State        string `json:"state"`
	TokenType    string `json:"token_type"`
}

// issue signs the access and ID tokens for g (and a refresh token when
// offline access was asked) and remembers them.
func (s *Simulator) issue(g *grant, state string) (*tokenAnswer, error) {
	now := s.now()
	p, oid := g.person, json.Number(g.person.OID)
	lifetime := s.tokenLifetime()
	exp := now.Add(lifetime)
	access, err := s.signJWT("access", map[string]any{
		"nbf": now.Unix(), "scope": qualified(g.req.scopes, p.OID), "iss": s.cfg.Issuer,
		"urn:esia:sid": g.sid, "urn:esia:sbj_id": oid, "exp": exp.Unix(), "iat": now.Unix(),
		"client_id": g.req.client.ID,
	})
	if err != nil {
		return nil, err
	}
	sbj := map[string]any{
		"urn:esia:sbj:typ": "P", "urn:esia:sbj:oid": oid, "urn:esia:sbj:name": "OID." + p.OID,
		"urn:esia:sbj:lvl": p.Level,
	}
	if p.Trusted {
		sbj["urn:esia:sbj:is_tru"] = true
	}
	amr := p.Sim.AMR
	if len(amr) == 0 {
		amr = []string{"PWD"}
	}
	id, err := s.signJWT("id", map[string]any{
		"aud": g.req.client.ID, "sub": oid, "nbf": now.Unix(), "amr": amr,
		"urn:esia:amd": amr[0], "auth_time": g.authTime.Unix(), "iss": s.cfg.Issuer,
		"urn:esia:sid": g.sid, "urn:esia:sbj": sbj, "exp": exp.Unix(), "iat": now.Unix(),
	})
	if err != nil {
		return nil, err
	}
	ag := *g
	ag.expires = exp
	s.remember(s.access, access, &ag)
	ans := &tokenAnswer{AccessToken: access, IDToken: id, ExpiresIn: int(lifetime.Seconds()), State: state, TokenType: "Bearer"}
	if g.req.accessType == "offline" {
		rg := *g
		rg.expires = now.Add(RefreshLifetime)
		ans.RefreshToken = uuid.NewString()
		s.remember(s.refresh, ans.RefreshToken, &rg)
	}
	return ans, nil
}
