package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry records one access to personal data or one change made by
// staff or a diary's API client: who (client id), in which tenant, did what
// to what. Entries are append-only: no store method changes one, and only
// the destruction of an attempt past its retention removes the entries of
// its reading (Retention.DestroyAttempts).
type AuditEntry struct {
	ID       int64
	At       time.Time
	TenantID string
	Actor    string // the API client id (a support console's client, a diary's API client)
	Action   string // read_attempt, search_persons, unlink, ...
	Target   string // a reference code or a record id; never personal data
	Detail   json.RawMessage
}

// Audit is the append-only audit log.
type Audit interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns a tenant's newest entries first.
	ListAudit(ctx context.Context, tenantID string, limit int) ([]AuditEntry, error)
}

// ValidateAuditEntry checks what every store requires of an audit entry:
// strings and a detail a store can keep (*FieldError otherwise).
func ValidateAuditEntry(e AuditEntry) error {
	return check(
		CheckID("tenant_id", e.TenantID),
		CheckID("actor", e.Actor),
		CheckText("action", e.Action, MaxWordLength),
		CheckID("target", e.Target),
		CheckJSON("detail", e.Detail),
	)
}
