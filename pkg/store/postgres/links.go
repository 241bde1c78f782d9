package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

const linkColumns = `tenant_id, esia_oid, external_id, role, rung, status, reason, esia_etag, snils_index, birth_date_index, created_at, updated_at`

func scanLink(row pgx.Row) (store.Link, error) {
	var l store.Link
	var role, status string
	err := row.Scan(&l.TenantID, &l.ESIAOID, &l.ExternalID, &role, &l.Rung, &status, &l.Reason, &l.ESIAETag, &l.SNILSIndex, &l.BirthDateIndex, &l.CreatedAt, &l.UpdatedAt)
	l.Role, l.Status = store.Role(role), store.LinkStatus(status)
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	return l, err
}

// CreateLink implements store.Links.
func (s *Store) CreateLink(ctx context.Context, l store.Link) error {
	if err := store.ValidateLink(l); err != nil {
		return err
	}
	if l.ESIAOID == "" || l.ExternalID == "" {
		return fmt.Errorf("%w: link needs an oid and a record", store.ErrInvalid)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = l.CreatedAt
	}
	if l.Status == "" {
		l.Status = store.LinkActive
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO links (`+linkColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
		l.TenantID, l.ESIAOID, l.ExternalID, string(l.Role), l.Rung, string(l.Status), l.Reason, l.ESIAETag, l.SNILSIndex, l.BirthDateIndex,
		l.CreatedAt, l.UpdatedAt)
	if err != nil && errors.Is(mapErr(err), store.ErrInvalid) {
		return fmt.Errorf("postgres: create link: %w: link to unknown record", store.ErrInvalid)
	}
	return wrap("create link", err)
}

func (s *Store) listLinks(ctx context.Context, where string, args ...any) ([]store.Link, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+linkColumns+` FROM links WHERE `+where+` ORDER BY esia_oid, external_id`, args...)
	if err != nil {
		return nil, wrap("links", err)
	}
	defer rows.Close()
	var out []store.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, wrap("links", err)
		}
		out = append(out, l)
	}
	return out, wrap("links", rows.Err())
}

// LinksByOID implements store.Links.
func (s *Store) LinksByOID(ctx context.Context, tenantID, oid string) ([]store.Link, error) {
	if !store.ValidKeys(tenantID, oid) {
		return nil, nil
	}
	return s.listLinks(ctx, `tenant_id = $1 AND esia_oid = $2`, tenantID, oid)
}

// LinksByRecord implements store.Links.
func (s *Store) LinksByRecord(ctx context.Context, tenantID, id string) ([]store.Link, error) {
	if !store.ValidKeys(tenantID, id) {
		return nil, nil
	}
	return s.listLinks(ctx, `tenant_id = $1 AND external_id = $2`, tenantID, id)
}

// LinksByRecords implements store.Links.
func (s *Store) LinksByRecords(ctx context.Context, tenantID string, ids []string) ([]store.Link, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	ids = store.ValidKeyList(ids)
	return s.listLinks(ctx, `tenant_id = $1 AND external_id = ANY($2)`, tenantID, ids)
}

// UpdateLink implements store.Links.
func (s *Store) UpdateLink(ctx context.Context, l store.Link) error {
	if err := store.ValidateLink(l); err != nil {
		return err
	}
	tag, err := s.q(ctx).Exec(ctx, `UPDATE links SET role=$4, rung=$5, status=$6, reason=$7, esia_etag=$8,
			snils_index=$9, birth_date_index=$10, updated_at=$11
		WHERE tenant_id=$1 AND esia_oid=$2 AND external_id=$3`,
		l.TenantID, l.ESIAOID, l.ExternalID, string(l.Role), l.Rung, string(l.Status), l.Reason, l.ESIAETag,
		l.SNILSIndex, l.BirthDateIndex, s.now())
	if err != nil {
		return wrap("update link", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeleteLink implements store.Links.
func (s *Store) DeleteLink(ctx context.Context, tenantID, oid, id string) error {
	if !store.ValidKeys(tenantID, oid, id) {
		return store.ErrNotFound
	}
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM links WHERE tenant_id=$1 AND esia_oid=$2 AND external_id=$3`, tenantID, oid, id)
	if err != nil {
		return wrap("delete link", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
