package oauth

import (
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what the broker keeps with every code and token: the claims
// given to the diary and the tenant they belong to.
type Session struct {
	*openid.DefaultSession
	TenantID string `json:"tenant_id"`
	// Claims are the broker's claims (DESIGN.md §7) as given at login.
	Claims Claims `json:"broker_claims"`
	// Basis, in a code's session, is the link and the consent the login
	// rested on, which its exchange checks (basis.go).
	Basis *Basis `json:"basis,omitempty"`
}

var (
	_ fosite.Session            = (*Session)(nil)
	_ openid.Session            = (*Session)(nil)
	_ fosite.ExtraClaimsSession = (*Session)(nil)
)

// NewSession returns an empty session for fosite to fill.
func NewSession() *Session {
	return &Session{DefaultSession: &openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{},
	}}
}

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if s.DefaultSession != nil {
		c.DefaultSession = cloneDefaultSession(s.DefaultSession)
	}
	c.Claims = s.Claims.clone()
	return &c
}

// GetExtraClaims implements fosite.ExtraClaimsSession: introspection shows
// the broker's claims (without names, which need the profile scope and are
// only in the ID token and userinfo).
func (s *Session) GetExtraClaims() map[string]interface{} {
	m := s.Claims.Map(false)
	delete(m, "sub")
	return m
}

// extraClaims are the ID token's claims beyond the standard ones: the
// broker's claims but the subject, names only when withProfile (the
// profile scope was granted).
func (s *Session) extraClaims(withProfile bool) map[string]interface{} {
	m := s.Claims.Map(withProfile)
	delete(m, "sub")
	return m
}

// restoreExtra gives a decoded session whose stored form holds no extra
// ID token claims ("ext" absent or null) the ones its broker claims
// give, as at the authorization (newSession). storedForm leaves them out
// whenever they are exactly those: they repeat broker_claims (≈ 230 of a
// login's 1,300 bytes) and are the costliest part to decode (issue 13).
func (s *Session) restoreExtra(grantedScope fosite.Arguments) {
	if s.DefaultSession == nil || s.DefaultSession.Claims == nil || s.DefaultSession.Claims.Extra != nil || s.Claims.Subject == "" {
		return
	}
	extra := s.extraClaims(grantedScope.Has(ScopeProfile))
	// Claims.Map gives strings and lists of strings; a number or an
	// object there would need the same turn into what JSON decodes
	// (float64, map[string]interface{}).
	for k, v := range extra {
		if list, ok := v.([]string); ok {
			// As JSON decodes a list into an interface: the same session
			// whether its claims were stored or restored.
			vs := make([]interface{}, len(list))
			for i, e := range list {
				vs[i] = e
			}
			extra[k] = vs
		}
	}
	s.DefaultSession.Claims.Extra = extra
}

// setExpiry sets the expiry of a token kind relative to now.
func (s *Session) setExpiry(kind fosite.TokenType, at time.Time) {
	s.DefaultSession.SetExpiresAt(kind, at)
}
