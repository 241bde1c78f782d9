package esiasim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TimestampLayout is ESIA's timestamp layout.
const TimestampLayout = "2006.01.02 15:04:05 -0700"

// authorize serves GET /aas/oauth2/v2/ac. Before the client and redirect_uri
// are known good it answers with a page (never redirecting to an unchecked
// URI); afterwards errors go to the redirect_uri as ESIA's error redirect.
func (s *Simulator) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, redirectURI, e := s.clientAndRedirect(q)
	if e != nil {
		s.errorPage(w, http.StatusBadRequest, e)
		return
	}
	state := q.Get("state")
	fail := func(e *esiaError) { redirectError(w, r, redirectURI, e, state) }
	switch rt := q.Get("response_type"); {
	case rt == "":
		fail(newError(CodeMissingParameter, "response_type"))
		return
	case rt != "code":
		fail(newError(CodeResponseType, "response_type"))
		return
	}
	req, e := s.checkSigned(c, q, redirectURI)
	if e != nil {
		fail(e)
		return
	}
	switch at := q.Get("access_type"); at {
	case "", "online":
		req.accessType = "online"
	case "offline":
		req.accessType = "offline"
	default:
		fail(newError(CodeInvalidParameter, "access_type"))
		return
	}
	if se := q.Get("sim_error"); se != "" {
		if !isESIACode(se) {
			fail(newError(CodeInvalidParameter, "sim_error"))
			return
		}
		fail(newError(se, "requested by sim_error"))
		return
	}
	if oid := q.Get("sim_person"); oid != "" {
		p := s.persons[oid]
		if p == nil {
			s.messagePage(w, http.StatusBadRequest, "Нет тестового пользователя", "В симуляторе нет пользователя с таким oid. Уберите параметр sim_person или выберите пользователя из списка.")
			return
		}
		s.complete(w, r, req, p)
		return
	}
	s.loginPage(w, req, s.newLogin(req))
}

// choose serves the login page's form: POST /aas/oauth2/v2/ac.
func (s *Simulator) choose(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, newError(CodeUnreadableRequest, ""))
		return
	}
	req := s.takeLogin(r.PostForm.Get("request"))
	if req == nil {
		s.messagePage(w, http.StatusBadRequest, "Сеанс входа устарел", "Вернитесь в дневник и начните вход заново.")
		return
	}
	if r.PostForm.Get("decision") == "refuse" {
		redirectError(w, r, req.redirectURI, newError(CodeUserRefused, ""), req.state)
		return
	}
	p := s.persons[r.PostForm.Get("person")]
	if p == nil {
		s.messagePage(w, http.StatusBadRequest, "Пользователь не выбран", "Вернитесь в дневник и начните вход заново.")
		return
	}
	s.complete(w, r, req, p)
}

// complete issues a code for p, or p's forced error, to the redirect_uri.
func (s *Simulator) complete(w http.ResponseWriter, r *http.Request, req *authRequest, p *Person) {
	if p.Sim.Error != "" {
		redirectError(w, r, req.redirectURI, newError(p.Sim.Error, "fixture flag"), req.state)
		return
	}
	now := s.now()
	code, err := s.signJWT("authorization_code", map[string]any{
		"jti": uuid.NewString(), "client_id": req.client.ID, "iss": s.cfg.Issuer,
		"iat": now.Unix(), "exp": now.Add(CodeLifetime).Unix(),
	})
	if err != nil {
		redirectError(w, r, req.redirectURI, newError(CodeInternal, ""), req.state)
		return
	}
	s.remember(s.codes, code, &grant{req: *req, person: p, sid: uuid.NewString(), authTime: now, expires: now.Add(CodeLifetime)})
	http.Redirect(w, r, withQuery(req.redirectURI, url.Values{"code": {code}, "state": {req.state}}), http.StatusFound)
}

// clientAndRedirect checks client_id and redirect_uri, the checks after
// which errors may be redirected.
func (s *Simulator) clientAndRedirect(q url.Values) (*client, string, *esiaError) {
	id := q.Get("client_id")
	if id == "" {
		return nil, "", newError(CodeMissingParameter, "client_id")
	}
	c := s.clients[id]
	if c == nil {
		return nil, "", newError(CodeClientAuthentication, "unknown client_id")
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		return nil, "", newError(CodeMissingParameter, "redirect_uri")
	}
	if !slices.Contains(c.RedirectURIs, redirectURI) {
		return nil, "", newError(CodeRedirectNotAllowed, "")
	}
	return c, redirectURI, nil
}

// checkSigned checks what v2/ac and v3/te share: state, timestamp, scope,
// client_certificate_hash and client_secret, which must sign
// client_id + scope + [scope_org] + timestamp + state + redirect_uri + tail
// (ESIA.md). tail is the code for the code grant.
func (s *Simulator) checkSigned(c *client, q url.Values, redirectURI string, tail ...string) (*authRequest, *esiaError) {
	state := q.Get("state")
	switch {
	case state == "":
		return nil, newError(CodeMissingParameter, "state")
	case len(state) != 36 || uuid.Validate(state) != nil:
		return nil, newError(CodeInvalidParameter, "state must be a UUID")
	}
	ts := q.Get("timestamp")
	if ts == "" {
		return nil, newError(CodeMissingParameter, "timestamp")
	}
	t, err := time.Parse(TimestampLayout, ts)
	if err != nil {
		return nil, newError(CodeBadTimestamp, "timestamp layout")
	}
	if d := s.now().Sub(t); d > TimestampSkew || d < -TimestampSkew {
		return nil, newError(CodeBadTimestamp, "timestamp differs from the server time by more than 5 minutes")
	}
	scope := q.Get("scope")
	scopes := strings.Fields(scope)
	if len(scopes) == 0 {
		return nil, newError(CodeNoScope, "")
	}
	for _, sc := range scopes {
		if !knownScopes[sc] || (c.scopes != nil && !c.scopes[sc]) {
			return nil, newError(CodeInvalidScope, "scope not available to the system")
		}
	}
	hash := q.Get("client_certificate_hash")
	switch {
	case hash == "":
		return nil, newError(CodeMissingParameter, "client_certificate_hash")
	case len(hash) != 64 || !isHex(hash):
		return nil, newError(CodeClientSecretWrong, "client_certificate_hash must be 64 hex digits")
	case !strings.EqualFold(hash, c.hash):
		return nil, newError(CodeCertificateMismatch, "")
	}
	secret := q.Get("client_secret")
	if secret == "" {
		return nil, newError(CodeMissingParameter, "client_secret")
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		return nil, newError(CodeClientSecretWrong, "client_secret is not base64url")
	}
	msg := c.ID + scope + q.Get("scope_org") + ts + state + redirectURI + strings.Join(tail, "")
	if c.verifier.VerifySecret([]byte(msg), sig) != nil {
		return nil, newError(CodeClientSecretWrong, "signature check failed")
	}
	return &authRequest{
		client: c, redirectURI: redirectURI, scope: scope, scopes: scopes,
		state: state, created: s.now(),
	}, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
