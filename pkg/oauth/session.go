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

// setExpiry sets the expiry of a token kind relative to now.
func (s *Session) setExpiry(kind fosite.TokenType, at time.Time) {
	s.DefaultSession.SetExpiresAt(kind, at)
}
