package memory

import (
	"context"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

// CreateTenant implements store.Tenants.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	if err := store.ValidateTenant(t); err != nil {
		return err
	}
	if t.ID == "" {
		return fmt.Errorf("%w: tenant id is empty", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if _, ok := s.tenants[t.ID]; ok {
		return store.ErrAlreadyExists
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now().UTC()
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	s.tenants[t.ID] = cloneTenant(t)
	s.onUndo(ctx, func() { delete(s.tenants, t.ID) })
	return nil
}

// GetTenant implements store.Tenants.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if !store.ValidKeys(id) {
		return store.Tenant{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	t, ok := s.tenants[id]
	if !ok {
		return store.Tenant{}, store.ErrNotFound
	}
	return cloneTenant(t), nil
}

// GetTenantForUpdate implements store.Tenants: a memory transaction holds
// the whole store already.
func (s *Store) GetTenantForUpdate(ctx context.Context, id string) (store.Tenant, error) {
	if !store.ValidKeys(id) {
		return store.Tenant{}, store.ErrNotFound
	}
	return s.GetTenant(ctx, id)
}

// UpdateTenant implements store.Tenants.
func (s *Store) UpdateTenant(ctx context.Context, t store.Tenant) error {
	if err := store.ValidateTenant(t); err != nil {
		return err
	}
	defer s.write(ctx)()
	old, ok := s.tenants[t.ID]
	if !ok {
		return store.ErrNotFound
	}
	t.CreatedAt = old.CreatedAt
	t.UpdatedAt = s.now().UTC()
	s.tenants[t.ID] = cloneTenant(t)
	s.onUndo(ctx, func() { s.tenants[t.ID] = old })
	return nil
}

// ListTenants implements store.Tenants.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	defer s.read(ctx)()
	out := make([]store.Tenant, 0, len(s.tenants))
	for _, t := range s.tenants {
		out = append(out, cloneTenant(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// cloneTenant copies what a tenant holds by reference, so that neither the
// caller nor the store changes the other's.
func cloneTenant(t store.Tenant) store.Tenant {
	if p := t.Tokens.RefreshReuseSeconds; p != nil {
		v := *p
		t.Tokens.RefreshReuseSeconds = &v
	}
	return t
}
