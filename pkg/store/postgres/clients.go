package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

const clientColumns = `id, tenant_id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
	grant_types, response_types, scopes, pkce, id_token_alg, created_at`

func scanClient(row pgx.Row) (store.Client, error) {
	var c store.Client
	err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs,
		&c.GrantTypes, &c.ResponseTypes, &c.Scopes, &c.PKCE, &c.IDTokenAlg, &c.CreatedAt)
	c.CreatedAt = c.CreatedAt.UTC()
	for _, l := range []*[]string{&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.ResponseTypes, &c.Scopes} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	return c, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CreateClient implements store.Clients.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	if err := store.ValidateClient(c); err != nil {
		return err
	}
	if c.ID == "" {
		return fmt.Errorf("%w: client id is empty", store.ErrInvalid)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		c.ID, c.TenantID, c.Name, c.SecretHash, c.Public, nonNil(c.RedirectURIs), nonNil(c.PostLogoutRedirectURIs),
		nonNil(c.GrantTypes), nonNil(c.ResponseTypes), nonNil(c.Scopes), c.PKCE, c.IDTokenAlg, c.CreatedAt)
	return wrap("create client", err)
}

// GetClient implements store.Clients.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	if !store.ValidKeys(id) {
		return store.Client{}, store.ErrNotFound
	}
	c, err := scanClient(s.q(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	return c, wrap("get client", err)
}

// ListClients implements store.Clients.
func (s *Store) ListClients(ctx context.Context, tenantID string) ([]store.Client, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+clientColumns+` FROM clients WHERE $1 = '' OR tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, wrap("list clients", err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, wrap("list clients", err)
		}
		out = append(out, c)
	}
	return out, wrap("list clients", rows.Err())
}

// DeleteClient implements store.Clients.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return wrap("delete client", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
