package login

import (
	"context"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// rolePriority orders roles when one person has several (the role picker
// lists them in this order).
var rolePriority = map[store.Role]int{store.RoleTeacher: 0, store.RoleStaff: 1, store.RoleParent: 2, store.RoleStudent: 3}

// claims builds the diary's claims in one place (DESIGN.md §7) from the
// ESIA identity and person and the matched roster records.
// primary is the record whose id becomes person_id; roles lists the roles
// of all the person's records, so that a diary can offer to switch.
func (s *Service) claims(ctx context.Context, tenant store.Tenant, id esia.Identity, p *esia.Person, recs []store.Person, primary store.Person) (oauth.Claims, error) {
	recs = append([]store.Person(nil), recs...)
	sort.SliceStable(recs, func(i, j int) bool { return rolePriority[recs[i].Role] < rolePriority[recs[j].Role] })
	c := oauth.Claims{
		Subject:    s.cfg.Subjects.Subject(tenant.ID, id.OID),
		PersonID:   primary.ExternalID,
		Tenant:     tenant.ID,
		FamilyName: p.LastName, GivenName: p.FirstName, MiddleName: p.MiddleName,
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if !seen[string(r.Role)] {
			seen[string(r.Role)] = true
			c.Roles = append(c.Roles, string(r.Role))
		}
		if r.Role != store.RoleParent {
			continue
		}
		rels, err := s.cfg.Roster.RelationsOf(ctx, tenant.ID, r.ExternalID)
		if err != nil {
			return oauth.Claims{}, fmt.Errorf("login: relations: %w", err)
		}
		for _, rel := range rels {
			if rel.Parent == r.ExternalID {
				c.Children = append(c.Children, rel.Student)
			}
		}
	}
	birth := p.BirthDate
	if birth.IsZero() {
		birth = primary.BirthDate
	}
	c.AgeGroup = AgeGroup(birth, store.DateOf(s.cfg.Now().In(tenant.Location())), tenant.Consent)
	switch {
	case id.Level == esia.LevelChild:
		c.ESIATrust = oauth.TrustChild
	case id.Trusted || p.Trusted:
		c.ESIATrust = oauth.TrustConfirmed
	default:
		c.ESIATrust = oauth.TrustUnconfirmed
	}
	return c, nil
}

// AgeGroup places a person born on birth into under14, 14to17 or adult on
// the day today, with the tenant's age thresholds. An unknown birth date
// counts as adult only when nothing else is known: it returns "".
func AgeGroup(birth, today store.Date, policy store.ConsentPolicy) string {
	if birth.IsZero() {
		return ""
	}
	adult, own := policy.AdultAge, policy.OwnAccountAge
	if adult == 0 {
		adult = 18
	}
	if own == 0 {
		own = 14
	}
	switch age := birth.AgeOn(today); {
	case age < own:
		return oauth.AgeUnder14
	case age < adult:
		return oauth.Age14to17
	default:
		return oauth.AgeAdult
	}
}
