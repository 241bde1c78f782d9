package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

// scopedTenants are the tenants a scope reaches into, in order.
func (s *Store) scopedTenants(sc store.Scope) []string {
	if sc.Role != store.StaffOperator {
		return []string{sc.TenantID}
	}
	ids := make([]string, 0, len(s.persons))
	for id := range s.persons {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// FindRecordsInScope implements store.RecordConsole.
func (s *Store) FindRecordsInScope(ctx context.Context, sc store.Scope, kind store.IndexKind, value string, limit int) ([]store.Person, error) {
	switch kind {
	case store.IndexSNILS, store.IndexBirthCert, store.IndexBirthDate, store.IndexNameBirth:
	default:
		return nil, fmt.Errorf("%w: unknown index %q", store.ErrInvalid, kind)
	}
	if !store.ValidScope(sc) || !store.ValidKeys(value) || value == "" {
		return nil, nil
	}
	limit = store.ConsoleLimit(limit)
	defer s.read(ctx)()
	var out []store.Person
	for _, tenant := range s.scopedTenants(sc) {
		ids := make([]string, 0, len(s.indexes[tenant][kind][value]))
		for id := range s.indexes[tenant][kind][value] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if p := s.persons[tenant][id]; sc.CoversSchool(tenant, p.School) && len(out) < limit {
				out = append(out, clonePerson(p))
			}
		}
	}
	return out, nil
}

// RecordsByIDInScope implements store.RecordConsole.
func (s *Store) RecordsByIDInScope(ctx context.Context, sc store.Scope, externalID string) ([]store.Person, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(externalID) || externalID == "" {
		return nil, nil
	}
	defer s.read(ctx)()
	var out []store.Person
	for _, tenant := range s.scopedTenants(sc) {
		if p, ok := s.persons[tenant][externalID]; ok && sc.CoversSchool(tenant, p.School) {
			out = append(out, clonePerson(p))
		}
	}
	return out, nil
}

// inScope reports whether the record exists and is in sc; the caller
// holds the lock.
func (s *Store) inScope(sc store.Scope, tenantID, externalID string) bool {
	if !store.ValidScope(sc) || !store.ValidKeys(tenantID, externalID) {
		return false
	}
	p, ok := s.persons[tenantID][externalID]
	return ok && sc.CoversSchool(tenantID, p.School)
}

// LinksInScope implements store.RecordConsole.
func (s *Store) LinksInScope(ctx context.Context, sc store.Scope, tenantID, externalID string) ([]store.Link, error) {
	unlock := s.read(ctx)
	in := s.inScope(sc, tenantID, externalID)
	var out []store.Link
	if in {
		for _, byRecord := range s.links[tenantID] {
			if l, ok := byRecord[externalID]; ok {
				out = append(out, l)
			}
		}
	}
	unlock()
	if !in {
		return nil, store.ErrNotFound
	}
	sortLinks(out)
	return out, nil
}

// RecordEventsInScope implements store.RecordConsole.
func (s *Store) RecordEventsInScope(ctx context.Context, sc store.Scope, tenantID, externalID string, limit int) ([]store.OutboxEvent, error) {
	defer s.read(ctx)()
	if !s.inScope(sc, tenantID, externalID) {
		return nil, store.ErrNotFound
	}
	var rows []eventRow
	for _, r := range s.events {
		var d struct {
			PersonID string `json:"person_id"`
		}
		if r.e.TenantID == tenantID && json.Unmarshal(r.e.Data, &d) == nil && d.PersonID == externalID {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].e.CreatedAt.Equal(rows[j].e.CreatedAt) {
			return rows[i].e.CreatedAt.After(rows[j].e.CreatedAt)
		}
		return rows[i].seq > rows[j].seq
	})
	var out []store.OutboxEvent
	for _, r := range rows[:min(len(rows), store.ConsoleLimit(limit))] {
		out = append(out, cloneEvent(r.e))
	}
	return out, nil
}
