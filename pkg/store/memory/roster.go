package memory

import (
	"context"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

func clonePerson(p store.Person) store.Person {
	if p.BirthCert != nil {
		bc := *p.BirthCert
		p.BirthCert = &bc
	}
	p.Contacts = append([]store.Contact(nil), p.Contacts...)
	p.Flags = cloneStrings(p.Flags)
	return p
}

func indexValues(p store.Person) map[store.IndexKind]string {
	return map[store.IndexKind]string{
		store.IndexSNILS:     p.Index.SNILS,
		store.IndexBirthCert: p.Index.BirthCert,
		store.IndexBirthDate: p.Index.BirthDate,
		store.IndexNameBirth: p.Index.NameBirth,
	}
}

// putPerson stores p and its indexes; the caller holds the write lock.
func (s *Store) putPerson(tenantID string, p store.Person) {
	if s.persons[tenantID] == nil {
		s.persons[tenantID] = map[string]store.Person{}
		s.indexes[tenantID] = map[store.IndexKind]map[string]map[string]bool{}
	}
	if old, ok := s.persons[tenantID][p.ExternalID]; ok {
		s.unindex(tenantID, old)
	}
	s.persons[tenantID][p.ExternalID] = p
	for kind, v := range indexValues(p) {
		if v == "" {
			continue
		}
		byValue := s.indexes[tenantID][kind]
		if byValue == nil {
			byValue = map[string]map[string]bool{}
			s.indexes[tenantID][kind] = byValue
		}
		if byValue[v] == nil {
			byValue[v] = map[string]bool{}
		}
		byValue[v][p.ExternalID] = true
	}
}

func (s *Store) unindex(tenantID string, p store.Person) {
	for kind, v := range indexValues(p) {
		if ids := s.indexes[tenantID][kind][v]; ids != nil {
			delete(ids, p.ExternalID)
			if len(ids) == 0 {
				delete(s.indexes[tenantID][kind], v)
			}
		}
	}
}

func (s *Store) removePerson(tenantID, id string) {
	if old, ok := s.persons[tenantID][id]; ok {
		s.unindex(tenantID, old)
		delete(s.persons[tenantID], id)
	}
}

// UpsertPersons implements store.Roster. The batch is validated first and
// applied whole or not at all.
func (s *Store) UpsertPersons(ctx context.Context, tenantID string, ps []store.Person) error {
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return err
	}
	if err := store.ValidatePersons(ps); err != nil {
		return err
	}
	defer s.write(ctx)()
	if _, ok := s.tenants[tenantID]; !ok {
		return fmt.Errorf("%w: unknown tenant", store.ErrInvalid)
	}
	now := s.now().UTC()
	for _, p := range ps {
		p = clonePerson(p)
		p.TenantID = tenantID
		p.UpdatedAt = now
		old, existed := s.persons[tenantID][p.ExternalID]
		s.putPerson(tenantID, p)
		id := p.ExternalID
		s.onUndo(ctx, func() {
			if existed {
				s.putPerson(tenantID, old)
			} else {
				s.removePerson(tenantID, id)
			}
		})
	}
	return nil
}

// LockPersons implements store.Roster: a memory transaction holds the
// whole store already.
func (s *Store) LockPersons(ctx context.Context, tenantID string, ids []string) error { return nil }

// DeletePersons implements store.Roster. Relations and links of the
// deleted records go with them.
func (s *Store) DeletePersons(ctx context.Context, tenantID string, ids []string) error {
	if !store.ValidKeys(tenantID) {
		return nil
	}
	ids = store.ValidKeyList(ids)
	defer s.write(ctx)()
	for _, id := range ids {
		old, ok := s.persons[tenantID][id]
		if !ok {
			continue
		}
		s.removePerson(tenantID, id)
		s.onUndo(ctx, func() { s.putPerson(tenantID, old) })
		for r := range s.relations[tenantID] {
			if r.Parent == id || r.Student == id {
				delete(s.relations[tenantID], r)
				s.onUndo(ctx, func() { s.relations[tenantID][r] = true })
			}
		}
		for oid, byRecord := range s.links[tenantID] {
			if l, ok := byRecord[id]; ok {
				delete(byRecord, id)
				s.onUndo(ctx, func() { s.links[tenantID][oid][id] = l })
			}
		}
	}
	return nil
}

// GetPerson implements store.Roster.
func (s *Store) GetPerson(ctx context.Context, tenantID, id string) (store.Person, error) {
	if !store.ValidKeys(tenantID, id) {
		return store.Person{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	p, ok := s.persons[tenantID][id]
	if !ok {
		return store.Person{}, store.ErrNotFound
	}
	return clonePerson(p), nil
}

// FindPersons implements store.Roster.
func (s *Store) FindPersons(ctx context.Context, tenantID string, kind store.IndexKind, value string, limit int) ([]store.Person, error) {
	if !store.ValidKeys(tenantID, value) {
		return nil, nil
	}
	if value == "" {
		return nil, nil
	}
	defer s.read(ctx)()
	ids := make([]string, 0, len(s.indexes[tenantID][kind][value]))
	for id := range s.indexes[tenantID][kind][value] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]store.Person, 0, len(ids))
	for _, id := range ids {
		out = append(out, clonePerson(s.persons[tenantID][id]))
	}
	return out, nil
}

// CountPersons implements store.Roster.
func (s *Store) CountPersons(ctx context.Context, tenantID string) (int, error) {
	if !store.ValidKeys(tenantID) {
		return 0, nil
	}
	defer s.read(ctx)()
	return len(s.persons[tenantID]), nil
}

func relationKey(r store.Relation) store.Relation {
	r.TenantID = ""
	return r
}

// UpsertRelations implements store.Roster.
func (s *Store) UpsertRelations(ctx context.Context, tenantID string, rs []store.Relation) error {
	if err := store.ValidateRelations(rs); err != nil {
		return err
	}
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return err
	}
	defer s.write(ctx)()
	for _, r := range rs {
		if err := s.relationInvalid(tenantID, r); err != nil {
			return err
		}
	}
	if s.relations[tenantID] == nil {
		s.relations[tenantID] = map[store.Relation]bool{}
	}
	for _, r := range rs {
		// One relation per parent and student: a new kind replaces the old.
		for old := range s.relations[tenantID] {
			if old.Parent == r.Parent && old.Student == r.Student {
				delete(s.relations[tenantID], old)
				s.onUndo(ctx, func() { s.relations[tenantID][old] = true })
			}
		}
		k := relationKey(r)
		s.relations[tenantID][k] = true
		s.onUndo(ctx, func() { delete(s.relations[tenantID], k) })
	}
	return nil
}

// relationInvalid says why r cannot be stored: a record it names is not in
// the roster, or not of the role its place in the relation needs.
func (s *Store) relationInvalid(tenantID string, r store.Relation) error {
	for _, end := range []struct {
		id   string
		role store.Role
	}{{r.Parent, store.RoleParent}, {r.Student, store.RoleStudent}} {
		p, ok := s.persons[tenantID][end.id]
		switch {
		case !ok:
			return fmt.Errorf("%w: relation to unknown %s record %q", store.ErrInvalid, end.role, end.id)
		case p.Role != end.role:
			return fmt.Errorf("%w: relation: record %q is a %s, not a %s", store.ErrInvalid, end.id, p.Role, end.role)
		}
	}
	return nil
}

// DeleteRelations implements store.Roster; the kind is ignored.
func (s *Store) DeleteRelations(ctx context.Context, tenantID string, rs []store.Relation) error {
	if err := store.ValidateRelations(rs); err != nil {
		return err
	}
	if !store.ValidKeys(tenantID) {
		return nil
	}
	defer s.write(ctx)()
	for _, r := range rs {
		for old := range s.relations[tenantID] {
			if old.Parent == r.Parent && old.Student == r.Student {
				delete(s.relations[tenantID], old)
				s.onUndo(ctx, func() { s.relations[tenantID][old] = true })
			}
		}
	}
	return nil
}

// RelationsOf implements store.Roster.
func (s *Store) RelationsOf(ctx context.Context, tenantID, id string) ([]store.Relation, error) {
	if !store.ValidKeys(tenantID, id) {
		return nil, nil
	}
	defer s.read(ctx)()
	var out []store.Relation
	for r := range s.relations[tenantID] {
		if r.Parent == id || r.Student == id {
			r.TenantID = tenantID
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Parent != out[j].Parent {
			return out[i].Parent < out[j].Parent
		}
		return out[i].Student < out[j].Student
	})
	return out, nil
}
