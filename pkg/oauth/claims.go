package oauth

import "sort"

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
