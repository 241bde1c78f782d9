package store

import (
	"context"
	"time"
)

// TenantDeletion is the record a tenant's deletion leaves: when, by whom,
// and how many rows of each kind were destroyed. It holds no personal data.
type TenantDeletion struct {
	TenantID string           `json:"tenant_id"`
	At       time.Time        `json:"deleted_at"`
	By       string           `json:"deleted_by"`
	Counts   map[string]int64 `json:"counts"` // table (or kind of row) → rows destroyed
}

// AuditDeleteTenant is the action of the audit entry a tenant's deletion
// leaves (its detail: the TenantDeletion).
const AuditDeleteTenant = "delete_tenant"

// TenantDeleter destroys a tenant with everything the broker keeps of it.
type TenantDeleter interface {
	// DeleteTenant destroys, in one transaction, a disabled tenant and all
	// its data — roster, relations, links, consents, consent requests and
	// their evidence, login attempts with the values kept for their re-check, OAuth codes and tokens, clients,
	// webhook events, staff grants and audit entries — and appends one
	// audit entry (AuditDeleteTenant, by actor) with the counts. ErrNotFound
	// for no such tenant, ErrInvalid for a tenant that is not disabled.
	DeleteTenant(ctx context.Context, id, actor string) (TenantDeletion, error)
}
