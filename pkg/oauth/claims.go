package oauth

import (
	"slices"
	"sort"
)

// Age groups of the age_group claim.
const (
	AgeUnder14 = "under14"
	Age14to17  = "14to17"
	AgeAdult   = "adult"
)

// ESIA trust levels of the esia_trust claim.
const (
	TrustChild       = "child"
	TrustUnconfirmed = "unconfirmed"
	TrustConfirmed   = "confirmed"
)

// Claims are what the broker tells a diary about a person (DESIGN.md §7).
// They are built in one place (the login) from the link, the roster record
// and the ESIA identity, and turned into ID token, userinfo and
// introspection claims here.
type Claims struct {
	Subject   string   `json:"sub"`       // pairwise per tenant, stable
	PersonID  string   `json:"person_id"` // the diary's own record id
	Roles     []string `json:"roles"`
	Tenant    string   `json:"tenant"`
	AgeGroup  string   `json:"age_group,omitempty"`
	ESIATrust string   `json:"esia_trust,omitempty"`
	Children  []string `json:"children,omitempty"` // person_ids of a parent's students

	// Name claims, given only with the profile scope.
	FamilyName string `json:"family_name,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	MiddleName string `json:"middle_name,omitempty"`
}

func (c Claims) clone() Claims {
	c.Roles = append([]string(nil), c.Roles...)
	c.Children = append([]string(nil), c.Children...)
	return c
}

// Map returns the claims as a JSON object; names only when withProfile.
// The ID token's extra claims of a stored session are rebuilt from it
// when read (Session.restoreExtra), so a change here changes the ID
// tokens of grants issued before it: a token-format change
// (docs/operations.md, Upgrading).
func (c Claims) Map(withProfile bool) map[string]interface{} {
	roles := append([]string{}, c.Roles...)
	sort.Strings(roles)
	m := map[string]interface{}{
		"sub":       c.Subject,
		"person_id": c.PersonID,
		"roles":     roles,
		"tenant":    c.Tenant,
	}
	if c.AgeGroup != "" {
		m["age_group"] = c.AgeGroup
	}
	if c.ESIATrust != "" {
		m["esia_trust"] = c.ESIATrust
	}
	if len(c.Children) > 0 {
		children := append([]string{}, c.Children...)
		sort.Strings(children)
		m["children"] = children
	}
	if withProfile {
		for k, v := range map[string]string{"family_name": c.FamilyName, "given_name": c.GivenName, "middle_name": c.MiddleName} {
			if v != "" {
				m[k] = v
			}
		}
		if name := joinName(c.FamilyName, c.GivenName, c.MiddleName); name != "" {
			m["name"] = name
		}
	}
	return m
}

// derivedBy reports whether extra — ID token claims beyond the standard
// ones, as Session.extraClaims made them or as JSON decoded them — are
// exactly Map(withProfile) but "sub", which Session.storedForm may then
// leave out of a stored session. It checks what Map would build without
// building it (a stored request is encoded at every code and grant);
// TestDerivedByIsMap holds the two together.
func (c Claims) derivedBy(extra map[string]interface{}, withProfile bool) bool {
	n := 0
	str := func(k, v string, always bool) bool {
		if v == "" && !always {
			return true // Map leaves it out; the count below sees one there
		}
		n++
		h, ok := extra[k].(string)
		return ok && h == v
	}
	list := func(k string, v []string, always bool) bool {
		if len(v) == 0 && !always {
			return true
		}
		n++
		return sameSorted(extra[k], v)
	}
	ok := str("person_id", c.PersonID, true) && list("roles", c.Roles, true) && str("tenant", c.Tenant, true) &&
		str("age_group", c.AgeGroup, false) && str("esia_trust", c.ESIATrust, false) && list("children", c.Children, false)
	if ok && withProfile {
		ok = str("family_name", c.FamilyName, false) && str("given_name", c.GivenName, false) &&
			str("middle_name", c.MiddleName, false) && str("name", joinName(c.FamilyName, c.GivenName, c.MiddleName), false)
	}
	return ok && len(extra) == n
}

// sameSorted reports whether h, a []string or a []interface{} of strings
// (as JSON decodes a list), holds want's strings sorted, as Map gives them.
func sameSorted(h interface{}, want []string) bool {
	if !slices.IsSorted(want) {
		want = slices.Sorted(slices.Values(want))
	}
	switch h := h.(type) {
	case []string:
		return h != nil && slices.Equal(h, want)
	case []interface{}:
		if h == nil || len(h) != len(want) {
			return false
		}
		for i, e := range h {
			if es, ok := e.(string); !ok || es != want[i] {
				return false
			}
		}
		return true
	}
	return false
}

func joinName(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += p
	}
	return out
}
