package oauth

import (
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"
)

// A session as a stored request keeps it (issue 13). fosite's session
// types encode every field, set or not: a login's session carried about
// 190 bytes of empty strings, nulls and year-one times in every code and
// grant row, and its ID token's extra claims repeated its broker claims.
// storedForm writes the same JSON members without the empty ones, and
// without those extra claims when the broker claims give them back
// (restoreExtra). A member left out decodes, into the fresh session a
// read decodes into (NewSession), to the very value it had — so any
// release reads these rows as it read the full ones — and
// TestStoredSessionMembers fails when fosite's types gain a member this
// form would not write.

// storedSession is the JSON of a Session (its embedded
// openid.DefaultSession's members, then its own) with the empty ones
// left out.
type storedSession struct {
	IDTokenClaims storedIDTokenClaims            `json:"id_token_claims"`
	Headers       any                            `json:"headers,omitempty"` // nil: {"extra":null} left out
	ExpiresAt     map[fosite.TokenType]time.Time `json:"expires_at"`
	Username      string                         `json:"username,omitempty"`
	Subject       string                         `json:"subject"`
	TenantID      string                         `json:"tenant_id"`
	Claims        Claims                         `json:"broker_claims"`
	Basis         *Basis                         `json:"basis,omitempty"`
}

// storedIDTokenClaims is the JSON of jwt.IDTokenClaims with the empty
// members left out: a string when "", a list when nil (not when empty),
// a time when it is the zero time.Time. "ext" is always written: null
// tells restoreExtra to give the claims back.
type storedIDTokenClaims struct {
	JTI                                 string                 `json:"jti,omitempty"`
	Issuer                              string                 `json:"iss,omitempty"`
	Subject                             string                 `json:"sub,omitempty"`
	Audience                            *[]string              `json:"aud,omitempty"`
	Nonce                               string                 `json:"nonce,omitempty"`
	ExpiresAt                           *time.Time             `json:"exp,omitempty"`
	IssuedAt                            *time.Time             `json:"iat,omitempty"`
	RequestedAt                         *time.Time             `json:"rat,omitempty"`
	AuthTime                            *time.Time             `json:"auth_time,omitempty"`
	AccessTokenHash                     string                 `json:"at_hash,omitempty"`
	AuthenticationContextClassReference string                 `json:"acr,omitempty"`
	AuthenticationMethodsReferences     *[]string              `json:"amr,omitempty"`
	CodeHash                            string                 `json:"c_hash,omitempty"`
	Extra                               map[string]interface{} `json:"ext"`
}

// storedForm is s as a stored request keeps it: storedSession, without
// the ID token's extra claims when they are exactly the ones restoreExtra
// gives back from the broker claims and grantedScope (claims that
// anything else set or changed are kept as they are). A session without
// ID token claims is kept as it is. s is not changed.
func (s *Session) storedForm(grantedScope fosite.Arguments) any {
	if s == nil || s.DefaultSession == nil || s.DefaultSession.Claims == nil {
		return s
	}
	ds := s.DefaultSession
	idc := ds.Claims
	extra := idc.Extra
	if extra != nil && s.Claims.Subject != "" && s.Claims.derivedBy(extra, grantedScope.Has(ScopeProfile)) {
		extra = nil
	}
	out := &storedSession{
		IDTokenClaims: storedIDTokenClaims{
			JTI: idc.JTI, Issuer: idc.Issuer, Subject: idc.Subject, Audience: listOrNil(idc.Audience), Nonce: idc.Nonce,
			ExpiresAt: timeOrNil(&idc.ExpiresAt), IssuedAt: timeOrNil(&idc.IssuedAt),
			RequestedAt: timeOrNil(&idc.RequestedAt), AuthTime: timeOrNil(&idc.AuthTime),
			AccessTokenHash: idc.AccessTokenHash, AuthenticationContextClassReference: idc.AuthenticationContextClassReference,
			AuthenticationMethodsReferences: listOrNil(idc.AuthenticationMethodsReferences), CodeHash: idc.CodeHash,
			Extra: extra,
		},
		ExpiresAt: ds.ExpiresAt, Username: ds.Username, Subject: ds.Subject,
		TenantID: s.TenantID, Claims: s.Claims, Basis: s.Basis,
	}
	switch {
	case ds.Headers == nil:
		out.Headers = (*jwt.Headers)(nil) // "headers":null, as fosite writes it
	case ds.Headers.Extra != nil:
		out.Headers = ds.Headers
	}
	return out
}

// timeOrNil is t unless it is the zero time.Time, which a stored
// session leaves out (it decodes to exactly that).
func timeOrNil(t *time.Time) *time.Time {
	if *t == (time.Time{}) {
		return nil
	}
	return t
}

// listOrNil is &l unless l is nil, which a stored session leaves out (an
// empty list is written: it decodes to an empty list, not to nil).
func listOrNil(l []string) *[]string {
	if l == nil {
		return nil
	}
	return &l
}
