package esiasim

import "strings"

// knownScopes are the scopes ESIA.md lists for a person and for a parent's
// children (plus medical_doc, the person's counterpart of kid_medical_doc).
var knownScopes = map[string]bool{
	"openid": true, "fullname": true, "birthdate": true, "gender": true, "snils": true,
	"inn": true, "id_doc": true, "birth_cert_doc": true, "medical_doc": true,
	"email": true, "mobile": true, "contacts": true, "addresses": true,
	"kid_fullname": true, "kid_birthdate": true, "kid_gender": true, "kid_snils": true,
	"kid_inn": true, "kid_birth_cert_doc": true, "kid_medical_doc": true,
}

// scopeSet is the set of granted scope names.
type scopeSet map[string]bool

func newScopeSet(scopes []string) scopeSet {
	s := scopeSet{}
	for _, v := range scopes {
		s[v] = true
	}
	return s
}

// any reports whether one of names was granted.
func (s scopeSet) any(names ...string) bool {
	for _, n := range names {
		if s[n] {
			return true
		}
	}
	return false
}

// anyKid reports whether a kid_* scope was granted.
func (s scopeSet) anyKid() bool {
	for n := range s {
		if strings.HasPrefix(n, "kid_") {
			return true
		}
	}
	return false
}

// qualified is the scope claim ESIA puts into the access token: every scope
// but openid qualified with the oid ("fullname?oid=1000299681").
func qualified(scopes []string, oid string) string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		if sc == "openid" {
			out[i] = sc
		} else {
			out[i] = sc + "?oid=" + oid
		}
	}
	return strings.Join(out, " ")
}

// Document classes by type, for scope filtering.
var (
	birthCertTypes = map[string]bool{"RF_BRTH_CERT": true, "FID_BRTH_CERT": true, "OLD_BRTH_CERT": true}
	medicalTypes   = map[string]bool{"MDCL_PLCY": true}
)

// docVisible reports whether a document of type t may be shown. For a
// person: birth certificates need birth_cert_doc, medical policies
// medical_doc, every other document id_doc. For a kid (kid=true): the
// kid_birth_cert_doc and kid_medical_doc scopes.
func (s scopeSet) docVisible(t string, kid bool) bool {
	prefix := ""
	if kid {
		prefix = "kid_"
	}
	switch {
	case birthCertTypes[t]:
		return s[prefix+"birth_cert_doc"]
	case medicalTypes[t]:
		return s[prefix+"medical_doc"]
	case kid:
		return false
	}
	return s["id_doc"]
}

// docsAllowed reports whether any document could be shown.
func (s scopeSet) docsAllowed(kid bool) bool {
	if kid {
		return s.any("kid_birth_cert_doc", "kid_medical_doc")
	}
	return s.any("id_doc", "birth_cert_doc", "medical_doc")
}

// contactVisible: email shows EML, mobile shows MBT, contacts shows all.
func (s scopeSet) contactVisible(t string) bool {
	switch {
	case s["contacts"]:
		return true
	case t == "EML":
		return s["email"]
	case t == "MBT":
		return s["mobile"]
	}
	return false
}

func (s scopeSet) contactsAllowed() bool { return s.any("contacts", "email", "mobile") }
