package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

// clientColumns are written in this order; clientSelect reads them (an
// operator-level client's tenant is NULL).
const clientColumns = `id, tenant_id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
	grant_types, response_types, scopes, pkce, id_token_alg, created_at, disabled_at, previous_secret_hash, previous_secret_until, secret_rotated_at`

const clientSelect = `id, COALESCE(tenant_id, ''), name, secret_hash, public, redirect_uris, post_logout_redirect_uris,
	grant_types, response_types, scopes, pkce, id_token_alg, created_at, disabled_at, previous_secret_hash, previous_secret_until, secret_rotated_at`

func scanClient(row pgx.Row) (store.Client, error) {
	var c store.Client
	var disabled, prevUntil, rotated *time.Time
	err := row.Scan(&c.ID, &c.TenantID, &c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs,
		&c.GrantTypes, &c.ResponseTypes, &c.Scopes, &c.PKCE, &c.IDTokenAlg, &c.CreatedAt, &disabled, &c.PreviousSecretHash, &prevUntil, &rotated)
	c.CreatedAt = c.CreatedAt.UTC()
	for dst, v := range map[*time.Time]*time.Time{&c.DisabledAt: disabled, &c.PreviousSecretUntil: prevUntil, &c.SecretRotatedAt: rotated} {
		if v != nil {
			*dst = v.UTC()
		}
	}
	for _, l := range []*[]string{&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.ResponseTypes, &c.Scopes} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	for _, h := range []*[]byte{&c.SecretHash, &c.PreviousSecretHash} {
		if len(*h) == 0 {
			*h = nil
		}
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
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`,
		c.ID, nullable(c.TenantID), c.Name, c.SecretHash, c.Public, nonNil(c.RedirectURIs), nonNil(c.PostLogoutRedirectURIs),
		nonNil(c.GrantTypes), nonNil(c.ResponseTypes), nonNil(c.Scopes), c.PKCE, c.IDTokenAlg, c.CreatedAt,
		nullTime(c.DisabledAt), c.PreviousSecretHash, nullTime(c.PreviousSecretUntil), nullTime(c.SecretRotatedAt))
	return wrap("create client", err)
}

// UpdateClient implements store.Clients.
func (s *Store) UpdateClient(ctx context.Context, c store.Client) error {
	if err := store.ValidateClient(c); err != nil {
		return err
	}
	tag, err := s.q(ctx).Exec(ctx, `UPDATE clients SET name=$2, secret_hash=$3, public=$4, redirect_uris=$5,
		post_logout_redirect_uris=$6, grant_types=$7, response_types=$8, scopes=$9, disabled_at=$10,
		previous_secret_hash=$11, previous_secret_until=$12, secret_rotated_at=$13, pkce=$14, id_token_alg=$15 WHERE id=$1`,
		c.ID, c.Name, c.SecretHash, c.Public, nonNil(c.RedirectURIs), nonNil(c.PostLogoutRedirectURIs),
		nonNil(c.GrantTypes), nonNil(c.ResponseTypes), nonNil(c.Scopes),
		nullTime(c.DisabledAt), c.PreviousSecretHash, nullTime(c.PreviousSecretUntil), nullTime(c.SecretRotatedAt), c.PKCE, c.IDTokenAlg)
	if err != nil {
		return wrap("update client", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// GetClient implements store.Clients.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	if !store.ValidKeys(id) {
		return store.Client{}, store.ErrNotFound
	}
	c, err := scanClient(s.q(ctx).QueryRow(ctx, `SELECT `+clientSelect+` FROM clients WHERE id = $1`, id))
	return c, wrap("get client", err)
}

// GetClientForUpdate implements store.Clients with SELECT … FOR UPDATE.
func (s *Store) GetClientForUpdate(ctx context.Context, id string) (store.Client, error) {
	if !store.ValidKeys(id) {
		return store.Client{}, store.ErrNotFound
	}
	c, err := scanClient(s.q(ctx).QueryRow(ctx, `SELECT `+clientSelect+` FROM clients WHERE id = $1 FOR UPDATE`, id))
	return c, wrap("get client for update", err)
}

// ListClients implements store.Clients.
func (s *Store) ListClients(ctx context.Context, tenantID string) ([]store.Client, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+clientSelect+` FROM clients WHERE $1 = '' OR tenant_id = $1 ORDER BY id`, tenantID)
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
