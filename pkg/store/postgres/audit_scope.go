package postgres

import (
	"context"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.AuditLog = (*Store)(nil)

// AuditInScope implements store.AuditLog: the scope and the filter are
// conditions of one query (indexes audit_log_tenant, _tenant_target and
// _actor), newest first.
func (s *Store) AuditInScope(ctx context.Context, sc store.Scope, f store.AuditFilter) ([]store.AuditEntry, error) {
	if err := store.ValidateAuditFilter(f); err != nil {
		return nil, err
	}
	if !store.ValidScope(sc) || sc.Role == store.StaffSchoolAdmin {
		return nil, nil
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+auditColumns+` FROM audit_log
		WHERE ($1 = 'operator' OR tenant_id = $2)
		  AND ($3 = '' OR actor = $3) AND ($4 = '' OR action = $4) AND ($5 = '' OR target = $5)
		  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
		  AND ($8::bigint = 0 OR id < $8::bigint)
		ORDER BY id DESC LIMIT $9`,
		string(sc.Role), sc.TenantID, f.Actor, f.Action, f.Target, from, to, f.Before, f.Limit)
	return collectAudit(rows, err, "audit in scope")
}
