package postgres

import (
	"github.com/jackc/pgx/v5"

	"context"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// AppendAudit implements store.Audit.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if err := store.ValidateAuditEntry(e); err != nil {
		return err
	}
	if e.Action == "" || e.TenantID == "" {
		return fmt.Errorf("%w: audit entry needs a tenant and an action", store.ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	var detail any
	if len(e.Detail) > 0 {
		detail = string(e.Detail)
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO audit_log (at, tenant_id, actor, action, target, detail)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, e.At, e.TenantID, e.Actor, e.Action, e.Target, detail)
	return wrap("append audit", err)
}

// ListAudit implements store.Audit.
func (s *Store) ListAudit(ctx context.Context, tenantID string, limit int) ([]store.AuditEntry, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2`, tenantID, limit)
	return collectAudit(rows, err, "list audit")
}

// auditColumns are the columns collectAudit reads, in its order.
const auditColumns = `id, at, tenant_id, actor, action, target, detail`

// collectAudit reads the entries a query of auditColumns answered.
func collectAudit(rows pgx.Rows, err error, what string) ([]store.AuditEntry, error) {
	if err != nil {
		return nil, wrap(what, err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var detail []byte
		if err := rows.Scan(&e.ID, &e.At, &e.TenantID, &e.Actor, &e.Action, &e.Target, &detail); err != nil {
			return nil, wrap(what, err)
		}
		e.At = e.At.UTC()
		if len(detail) > 0 {
			e.Detail = detail
		}
		out = append(out, e)
	}
	return out, wrap(what, rows.Err())
}
