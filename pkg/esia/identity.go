package esia

import (
	"strings"
	"time"
)

// Level is ESIA's account level, the urn:esia:sbj:lvl claim.
type Level string

// Account levels.
const (
	LevelChild      Level = "KD" // child account, created by a parent
	LevelConfirmed  Level = "PR" // confirmed account
	LevelSimplified Level = "P"  // simplified or standard account
)

// Identity is what ESIA's verified tokens say about the person who logged in.
type Identity struct {
	// OID is the person's ESIA object id (urn:esia:sbj_id, sub).
	OID string
	// Level is the account level (KD, PR, P); "" if ESIA sent none.
	Level Level
	// Trusted reports a confirmed account (urn:esia:sbj:is_tru present).
	Trusted bool
	// SubjectType is urn:esia:sbj:typ ("P" for a person).
	SubjectType string
	// AMR lists the authentication methods (PWD, DS, …).
	AMR []string
	// AuthTime is when the person authenticated; zero if not sent.
	AuthTime time.Time
	// SessionID is ESIA's session id (urn:esia:sid), kept as consent evidence.
	SessionID string
	// Scopes are the granted scopes, without ESIA's "?oid=…" qualifiers.
	Scopes []string
}

// HasScope reports whether scope was granted.
func (id *Identity) HasScope(scope string) bool {
	for _, s := range id.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// grantedScopes turns ESIA's scope claim ("openid fullname?oid=1000299681 …")
// into scope names, in order, without duplicates.
func grantedScopes(claim string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Fields(claim) {
		name, _, _ := strings.Cut(f, "?")
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
