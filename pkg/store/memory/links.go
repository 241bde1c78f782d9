package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

// CreateLink implements store.Links.
func (s *Store) CreateLink(ctx context.Context, l store.Link) error {
	if err := store.ValidateLink(l); err != nil {
		return err
	}
	if l.ESIAOID == "" || l.ExternalID == "" {
		return fmt.Errorf("%w: link needs an oid and a record", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if _, ok := s.persons[l.TenantID][l.ExternalID]; !ok {
		return fmt.Errorf("%w: link to unknown record", store.ErrInvalid)
	}
	if _, ok := s.links[l.TenantID][l.ESIAOID][l.ExternalID]; ok {
		return store.ErrAlreadyExists
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now().UTC()
	}
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = l.CreatedAt
	}
	if l.Status == "" {
		l.Status = store.LinkActive
	}
	if s.links[l.TenantID] == nil {
		s.links[l.TenantID] = map[string]map[string]store.Link{}
	}
	if s.links[l.TenantID][l.ESIAOID] == nil {
		s.links[l.TenantID][l.ESIAOID] = map[string]store.Link{}
	}
	s.links[l.TenantID][l.ESIAOID][l.ExternalID] = l
	s.onUndo(ctx, func() { delete(s.links[l.TenantID][l.ESIAOID], l.ExternalID) })
	return nil
}

func sortLinks(ls []store.Link) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].ESIAOID != ls[j].ESIAOID {
			return ls[i].ESIAOID < ls[j].ESIAOID
		}
		return ls[i].ExternalID < ls[j].ExternalID
	})
}

// LinksByOID implements store.Links.
func (s *Store) LinksByOID(ctx context.Context, tenantID, oid string) ([]store.Link, error) {
	if !store.ValidKeys(tenantID, oid) {
		return nil, nil
	}
	defer s.read(ctx)()
	var out []store.Link
	for _, l := range s.links[tenantID][oid] {
		out = append(out, l)
	}
	sortLinks(out)
	return out, nil
}

// LinksByRecord implements store.Links.
func (s *Store) LinksByRecord(ctx context.Context, tenantID, id string) ([]store.Link, error) {
	if !store.ValidKeys(tenantID, id) {
		return nil, nil
	}
	return s.LinksByRecords(ctx, tenantID, []string{id})
}

// LinksByRecords implements store.Links.
func (s *Store) LinksByRecords(ctx context.Context, tenantID string, ids []string) ([]store.Link, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	ids = store.ValidKeyList(ids)
	defer s.read(ctx)()
	var out []store.Link
	for _, byRecord := range s.links[tenantID] {
		for _, id := range ids {
			if l, ok := byRecord[id]; ok {
				out = append(out, l)
			}
		}
	}
	sortLinks(out)
	// An id given twice found its links twice.
	return slices.CompactFunc(out, func(a, b store.Link) bool { return a.ESIAOID == b.ESIAOID && a.ExternalID == b.ExternalID }), nil
}

// UpdateLink implements store.Links: status, reason, rung, role, eTag and
// the evidence indexes.
func (s *Store) UpdateLink(ctx context.Context, l store.Link) error {
	if err := store.ValidateLink(l); err != nil {
		return err
	}
	defer s.write(ctx)()
	old, ok := s.links[l.TenantID][l.ESIAOID][l.ExternalID]
	if !ok {
		return store.ErrNotFound
	}
	l.CreatedAt = old.CreatedAt
	l.UpdatedAt = s.now().UTC()
	s.links[l.TenantID][l.ESIAOID][l.ExternalID] = l
	s.onUndo(ctx, func() { s.links[l.TenantID][l.ESIAOID][l.ExternalID] = old })
	return nil
}

// DeleteLink implements store.Links.
func (s *Store) DeleteLink(ctx context.Context, tenantID, oid, id string) error {
	if !store.ValidKeys(tenantID, oid, id) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.links[tenantID][oid][id]
	if !ok {
		return store.ErrNotFound
	}
	delete(s.links[tenantID][oid], id)
	s.onUndo(ctx, func() { s.links[tenantID][oid][id] = old })
	return nil
}
