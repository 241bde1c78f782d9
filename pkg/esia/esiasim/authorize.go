package esiasim

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/diarybroker/broker/pkg/esia/cms"
)

// TimestampLayout is ESIA's timestamp layout.
const TimestampLayout = "2006.01.02 15:04:05 -0700"

// protocol is the generation of ESIA's OAuth endpoints a request came to.
type protocol int

const (
	// protoV2 is /aas/oauth2/v2/ac and /aas/oauth2/v3/te: client_secret is
	// a raw signature of client_id + scope + … + redirect_uri [+ code].
	protoV2 protocol = iota
	// protoV1 is the legacy /aas/oauth2/ac and /aas/oauth2/te: client_secret
	// is a CMS detached signature of scope + timestamp + client_id + state.
	protoV1
)

// acPath is the authorization endpoint of the protocol, where the login
// page's form posts back.
func (p protocol) acPath() string {
	if p == protoV1 {
		return "/aas/oauth2/ac"
	}
	return "/aas/oauth2/v2/ac"
}

// authorize serves GET /aas/oauth2/v2/ac (and, for protoV1, the legacy GET
// /aas/oauth2/ac). Before the client and redirect_uri are known good it
// answers with a page (never redirecting to an unchecked URI); afterwards
// errors go to the redirect_uri as ESIA's error redirect.
func (s *Simulator) authorize(proto protocol) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
		req, e := s.checkSigned(proto, c, q, redirectURI)
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
		if req.codeChallenge, e = codeChallenge(q); e != nil {
			fail(e)
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
		if te := q.Get("sim_token_error"); te != "" {
			if !isESIACode(te) {
				fail(newError(CodeInvalidParameter, "sim_token_error"))
				return
			}
			req.tokenError = te
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
}

// choose serves the login page's form: POST /aas/oauth2/v2/ac (or
// /aas/oauth2/ac).
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
	if req.tokenError == "" {
		req.tokenError = p.Sim.TokenError
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
		// ESIA says only the code; the simulator names both sides, since this is
		// the usual mistake of a first set-up (BROKER_ISSUER vs --redirect-uri).
		return nil, "", newError(CodeRedirectNotAllowed, fmt.Sprintf("got %s, registered %s", redirectURI, strings.Join(c.RedirectURIs, " ")))
	}
	return c, redirectURI, nil
}

// checkSigned checks what the authorization and token endpoints share:
// state, timestamp, scope, client_certificate_hash and client_secret
// (ESIA.md, "client_secret"). For protoV2 the secret is a raw signature of
// client_id + scope + [scope_org] + timestamp + state + redirect_uri + tail
// (tail is the code for the code grant) and the hash is mandatory. For
// protoV1 it is a CMS detached signature of scope + timestamp + client_id +
// state, and the hash, which v1 clients predate, is checked only when sent.
func (s *Simulator) checkSigned(proto protocol, c *client, q url.Values, redirectURI string, tail ...string) (*authRequest, *esiaError) {
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
	case hash == "" && proto == protoV1:
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
	if proto == protoV1 {
		// ESIA.md: legacy v1 signs scope + timestamp + client_id + state.
		if e := c.verifyCMS([]byte(scope+ts+c.ID+state), sig); e != nil {
			return nil, e
		}
	} else {
		msg := c.ID + scope + q.Get("scope_org") + ts + state + redirectURI + strings.Join(tail, "")
		if c.verifier.VerifySecret([]byte(msg), sig) != nil {
			return nil, newError(CodeClientSecretWrong, "signature check failed")
		}
	}
	return &authRequest{
		protocol: proto, client: c, redirectURI: redirectURI, scope: scope, scopes: scopes,
		state: state, created: s.now(),
	}, nil
}

// verifyCMS checks a v1 client_secret: a CMS detached signature of msg by
// the registered certificate. A signature by another certificate answers
// ESIA-007002, anything else wrong ESIA-007053.
func (c *client) verifyCMS(msg, sig []byte) *esiaError {
	if c.cmsCert == nil {
		return newError(CodeClientSecretWrong, "the registered certificate cannot check CMS signatures (neither RSA nor GOST)")
	}
	err := cms.VerifyDetached(sig, msg, c.cmsCert)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cms.ErrNoSigner):
		return newError(CodeCertificateMismatch, "the CMS signature is not by the registered certificate")
	default:
		return newError(CodeClientSecretWrong, "CMS signature check failed: "+strings.TrimPrefix(err.Error(), "cms: "))
	}
}

// codeChallenge reads PKCE parameters of the authorization request
// (RFC 7636): none, or a code_challenge of 43 base64url characters (a
// SHA-256 digest) with code_challenge_method S256 or absent. ESIA-007039
// otherwise; "plain" is refused.
func codeChallenge(q url.Values) (string, *esiaError) {
	cc, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case cc == "" && method == "":
		return "", nil
	case cc == "":
		return "", newError(CodeCodeChallenge, "code_challenge_method without code_challenge")
	case method != "" && method != "S256":
		return "", newError(CodeCodeChallenge, "code_challenge_method must be S256")
	}
	if raw, err := base64.RawURLEncoding.DecodeString(cc); err != nil || len(raw) != sha256.Size {
		return "", newError(CodeCodeChallenge, "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	return cc, nil
}

// checkVerifier checks the code_verifier of a code grant against the
// authorization request's challenge: required when a challenge was sent
// (ESIA-007040 when missing, malformed or not matching), refused when none
// was.
func checkVerifier(challenge, verifier string) *esiaError {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return newError(CodeCodeVerifier, "code_verifier sent, but the authorization request had no code_challenge")
	case verifier == "":
		return newError(CodeCodeVerifier, "code_verifier missing")
	case !validVerifier(verifier):
		return newError(CodeCodeVerifier, "code_verifier must be 43 to 128 characters [A-Za-z0-9-._~]")
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
		return newError(CodeCodeVerifier, "code_verifier does not match code_challenge")
	}
	return nil
}

// validVerifier: 43–128 unreserved characters (RFC 7636 section 4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}
