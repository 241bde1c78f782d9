package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

func cloneGrant(g store.StaffGrant) store.StaffGrant {
	g.Schools = cloneStrings(g.Schools)
	return g
}

// PutStaffGrant implements store.Staff.
func (s *Store) PutStaffGrant(ctx context.Context, g store.StaffGrant) (store.StaffGrant, error) {
	g, err := store.ValidateStaffGrant(g)
	if err != nil {
		return store.StaffGrant{}, err
	}
	defer s.write(ctx)()
	if _, ok := s.tenants[g.TenantID]; g.TenantID != "" && !ok {
		return store.StaffGrant{}, fmt.Errorf("%w: unknown tenant", store.ErrInvalid)
	}
	now := s.now().UTC()
	for id, cur := range s.staff {
		if cur.TenantID == g.TenantID && cur.SNILSIndex == g.SNILSIndex {
			old := cur
			cur.Role, cur.Schools, cur.SNILSMasked, cur.GrantedBy, cur.UpdatedAt = g.Role, cloneStrings(g.Schools), g.SNILSMasked, g.GrantedBy, now
			s.staff[id] = cur
			s.onUndo(ctx, func() { s.staff[id] = old })
			return cloneGrant(cur), nil
		}
	}
	if _, ok := s.staff[g.ID]; ok {
		return store.StaffGrant{}, store.ErrAlreadyExists
	}
	g.CreatedAt, g.UpdatedAt = now, now
	s.staff[g.ID] = cloneGrant(g)
	s.onUndo(ctx, func() { delete(s.staff, g.ID) })
	return cloneGrant(g), nil
}

// ListStaffGrants implements store.Staff.
func (s *Store) ListStaffGrants(ctx context.Context, tenantID string) ([]store.StaffGrant, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	return s.staffWhere(ctx, func(g store.StaffGrant) bool { return tenantID == "" || g.TenantID == tenantID }), nil
}

// StaffGrantsBySNILS implements store.Staff.
func (s *Store) StaffGrantsBySNILS(ctx context.Context, snilsIndex string) ([]store.StaffGrant, error) {
	if snilsIndex == "" || !store.ValidKeys(snilsIndex) {
		return nil, nil
	}
	return s.staffWhere(ctx, func(g store.StaffGrant) bool { return g.SNILSIndex == snilsIndex }), nil
}

func (s *Store) staffWhere(ctx context.Context, keep func(store.StaffGrant) bool) []store.StaffGrant {
	defer s.read(ctx)()
	var out []store.StaffGrant
	for _, g := range s.staff {
		if keep(g) {
			out = append(out, cloneGrant(g))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].TenantID != out[j].TenantID {
			return out[i].TenantID < out[j].TenantID
		}
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// DeleteStaffGrant implements store.Staff.
func (s *Store) DeleteStaffGrant(ctx context.Context, tenantID, id string) error {
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	g, ok := s.staff[id]
	if !ok || g.TenantID != tenantID {
		return store.ErrNotFound
	}
	delete(s.staff, id)
	s.onUndo(ctx, func() { s.staff[id] = g })
	return nil
}

// BindStaffGrant implements store.Staff.
func (s *Store) BindStaffGrant(ctx context.Context, id, oid string) (store.StaffGrant, error) {
	if err := store.CheckStaffBind(id, oid); err != nil {
		return store.StaffGrant{}, err
	}
	defer s.write(ctx)()
	g, ok := s.staff[id]
	if !ok {
		return store.StaffGrant{}, store.ErrNotFound
	}
	switch g.ESIAOID {
	case oid:
		return cloneGrant(g), nil
	case "":
		old := g
		g.ESIAOID, g.UpdatedAt = oid, s.now().UTC()
		s.staff[id] = g
		s.onUndo(ctx, func() { s.staff[id] = old })
		return cloneGrant(g), nil
	}
	return store.StaffGrant{}, store.ErrStaffBound
}

// AttemptInScope implements store.Console.
func (s *Store) AttemptInScope(ctx context.Context, sc store.Scope, ref string) (store.Attempt, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(ref) {
		return store.Attempt{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	a, ok := s.attempts[ref]
	if !ok || !sc.CoversTenant(a.TenantID) {
		return store.Attempt{}, store.ErrNotFound
	}
	if sc.Role == store.StaffSchoolAdmin {
		in := false
		for id := range s.attemptRecords[ref] {
			if p, ok := s.persons[a.TenantID][id]; ok && slices.Contains(sc.Schools, p.School) {
				in = true
				break
			}
		}
		if !in {
			return store.Attempt{}, store.ErrNotFound
		}
	}
	return cloneAttempt(a, true), nil
}

// PersonInScope implements store.Console.
func (s *Store) PersonInScope(ctx context.Context, sc store.Scope, tenantID, externalID string) (store.Person, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(tenantID, externalID) {
		return store.Person{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	p, ok := s.persons[tenantID][externalID]
	if !ok || !sc.CoversSchool(tenantID, p.School) {
		return store.Person{}, store.ErrNotFound
	}
	return clonePerson(p), nil
}
