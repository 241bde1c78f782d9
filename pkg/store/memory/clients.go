package memory

import (
	"context"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

func cloneClient(c store.Client) store.Client {
	c.SecretHash = append([]byte(nil), c.SecretHash...)
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	if len(c.PreviousSecretHash) == 0 {
		c.PreviousSecretHash = nil
	} else {
		c.PreviousSecretHash = append([]byte(nil), c.PreviousSecretHash...)
	}
	c.RedirectURIs = cloneStrings(c.RedirectURIs)
	c.PostLogoutRedirectURIs = cloneStrings(c.PostLogoutRedirectURIs)
	c.GrantTypes = cloneStrings(c.GrantTypes)
	c.ResponseTypes = cloneStrings(c.ResponseTypes)
	c.Scopes = cloneStrings(c.Scopes)
	return c
}

// CreateClient implements store.Clients.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	if err := store.ValidateClient(c); err != nil {
		return err
	}
	if c.ID == "" {
		return fmt.Errorf("%w: client id is empty", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if _, ok := s.tenants[c.TenantID]; !ok && !c.Operator() {
		return fmt.Errorf("%w: unknown tenant", store.ErrInvalid)
	}
	if _, ok := s.clients[c.ID]; ok {
		return store.ErrAlreadyExists
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now().UTC()
	}
	s.clients[c.ID] = cloneClient(c)
	s.onUndo(ctx, func() { delete(s.clients, c.ID) })
	return nil
}

// GetClient implements store.Clients.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	if !store.ValidKeys(id) {
		return store.Client{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	c, ok := s.clients[id]
	if !ok {
		return store.Client{}, store.ErrNotFound
	}
	return cloneClient(c), nil
}

// UpdateClient implements store.Clients.
func (s *Store) UpdateClient(ctx context.Context, c store.Client) error {
	if err := store.ValidateClient(c); err != nil {
		return err
	}
	defer s.write(ctx)()
	old, ok := s.clients[c.ID]
	if !ok {
		return store.ErrNotFound
	}
	c.TenantID, c.CreatedAt = old.TenantID, old.CreatedAt
	s.clients[c.ID] = cloneClient(c)
	s.onUndo(ctx, func() { s.clients[c.ID] = old })
	return nil
}

// GetClientForUpdate implements store.Clients: the memory store's
// transactions run one at a time, so reading is enough.
func (s *Store) GetClientForUpdate(ctx context.Context, id string) (store.Client, error) {
	return s.GetClient(ctx, id)
}

// ListClients implements store.Clients.
func (s *Store) ListClients(ctx context.Context, tenantID string) ([]store.Client, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	defer s.read(ctx)()
	var out []store.Client
	for _, c := range s.clients {
		if tenantID == "" || c.TenantID == tenantID {
			out = append(out, cloneClient(c))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteClient implements store.Clients.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.clients[id]
	if !ok {
		return store.ErrNotFound
	}
	delete(s.clients, id)
	s.onUndo(ctx, func() { s.clients[id] = old })
	return nil
}
