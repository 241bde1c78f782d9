package memory

import (
	"context"
	"encoding/json"
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
	defer s.write(ctx)()
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	s.auditSeq++
	e.ID = s.auditSeq
	e.Detail = append(json.RawMessage(nil), e.Detail...)
	s.audit = append(s.audit, e)
	s.onUndo(ctx, func() { s.audit, s.auditSeq = s.audit[:len(s.audit)-1], s.auditSeq-1 })
	return nil
}

// ListAudit implements store.Audit.
func (s *Store) ListAudit(ctx context.Context, tenantID string, limit int) ([]store.AuditEntry, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	defer s.read(ctx)()
	var out []store.AuditEntry
	for i := len(s.audit) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if s.audit[i].TenantID == tenantID {
			e := s.audit[i]
			e.Detail = append(json.RawMessage(nil), e.Detail...)
			out = append(out, e)
		}
	}
	return out, nil
}
