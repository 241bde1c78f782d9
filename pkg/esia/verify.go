package esia

import (
	"crypto/x509"
	"slices"
	"time"
)

// claims are the claims of ESIA's access and ID tokens (ESIA.md, "Tokens").
type claims struct {
	Iss      string      `json:"iss"`
	Aud      stringList  `json:"aud"`
	ClientID string      `json:"client_id"`
	Sub      flexString  `json:"sub"`
	Exp      numericDate `json:"exp"`
	Nbf      numericDate `json:"nbf"`
	Iat      numericDate `json:"iat"`
	AuthTime numericDate `json:"auth_time"`
	SbjID    flexString  `json:"urn:esia:sbj_id"`
	Scope    string      `json:"scope"`
	SID      string      `json:"urn:esia:sid"`
	AMR      stringList  `json:"amr"`
	Sbj      *subject    `json:"urn:esia:sbj"`
}

// subject is the urn:esia:sbj object of the ID token.
type subject struct {
	Typ   string     `json:"urn:esia:sbj:typ"`
	OID   flexString `json:"urn:esia:sbj:oid"`
	IsTru *flexBool  `json:"urn:esia:sbj:is_tru"`
	Lvl   string     `json:"urn:esia:sbj:lvl"`
}

// oid is the person the token is about.
func (c *claims) oid() string {
	if c.SbjID != "" {
		return string(c.SbjID)
	}
	if c.Sub != "" {
		return string(c.Sub)
	}
	if c.Sbj != nil {
		return string(c.Sbj.OID)
	}
	return ""
}

// verifyToken checks a token from ESIA: shape, signature against the key set
// with the alg of its header, issuer, audience (aud, or client_id when there
// is no aud) and the time claims with leeway. kind names the token in errors.
func (c *Config) verifyToken(token, kind string) (*claims, error) {
	fail := func(reason string) (*claims, error) {
		return nil, &TokenError{Token: kind, Reason: reason}
	}
	j, err := parseJWS(token)
	if err != nil {
		return fail("malformed")
	}
	verify, ok := c.algorithms()[j.header.Alg]
	if !ok || verify == nil {
		return fail("unsupported alg")
	}
	certs := c.Keys.Certificates()
	if len(certs) == 0 {
		return fail("no ESIA verification keys configured")
	}
	if !slices.ContainsFunc(certs, func(cert *x509.Certificate) bool {
		return verify(cert, j.signingInput, j.signature) == nil
	}) {
		return fail("signature does not verify with any ESIA key")
	}
	var cl claims
	if err := strictUnmarshal(j.payload, &cl); err != nil {
		return fail("malformed claims")
	}
	if c.Issuer == "" || cl.Iss != c.Issuer {
		return fail("wrong issuer")
	}
	switch {
	case len(cl.Aud) > 0:
		if !slices.Contains(cl.Aud, c.ClientID) {
			return fail("wrong audience")
		}
	case cl.ClientID != "":
		if cl.ClientID != c.ClientID {
			return fail("wrong audience")
		}
	default:
		return fail("no audience")
	}
	now, leeway := c.now(), c.leeway()
	switch {
	case !cl.Exp.set:
		return fail("no exp")
	case !now.Before(cl.Exp.t.Add(leeway)):
		return fail("expired")
	case cl.Nbf.set && now.Add(leeway).Before(cl.Nbf.t):
		return fail("not yet valid")
	case cl.Iat.set && now.Add(leeway).Before(cl.Iat.t):
		return fail("issued in the future")
	}
	if cl.oid() == "" {
		return fail("no subject")
	}
	return &cl, nil
}

// identity combines the verified access token and, if present, ID token.
func identity(access, id *claims) (Identity, error) {
	ident := Identity{
		OID:       access.oid(),
		SessionID: access.SID,
		Scopes:    grantedScopes(access.Scope),
	}
	if id == nil {
		return ident, nil
	}
	if id.oid() != ident.OID {
		return Identity{}, &TokenError{Token: "id", Reason: "subject differs from the access token"}
	}
	ident.AMR = []string(id.AMR)
	if id.AuthTime.set {
		ident.AuthTime = id.AuthTime.t
	}
	if ident.SessionID == "" {
		ident.SessionID = id.SID
	}
	if s := id.Sbj; s != nil {
		if s.OID != "" && string(s.OID) != ident.OID {
			return Identity{}, &TokenError{Token: "id", Reason: "urn:esia:sbj:oid differs from sub"}
		}
		ident.SubjectType = s.Typ
		ident.Level = Level(s.Lvl)
		ident.Trusted = s.IsTru != nil && bool(*s.IsTru)
	}
	return ident, nil
}

// expiry returns when the access token expires.
func (c *claims) expiry() time.Time { return c.Exp.t }
