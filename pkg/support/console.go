package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// Console is the read side of the support console (/support): every query
// within the signed-in staff member's scope, filtered by the store, and
// every read audited with the staff member's grant as the actor.
type Console struct {
	Store interface {
		store.Console
		store.Audit
	}
	Now func() time.Time
}

// StaffActor is the audit actor of a staff member: their grant.
func StaffActor(grantID string) string { return "staff:" + grantID }

// Attempt returns the attempt with reference code ref (any case, with or
// without the dash) when it is in sc; ErrNotFound when it does not exist
// or is outside sc — the two are not told apart.
func (c *Console) Attempt(ctx context.Context, sc store.Scope, grantID, ref string) (*AttemptView, error) {
	r, err := login.ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	a, err := c.Store.AttemptInScope(ctx, sc, r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("support: attempt: %w", err)
	}
	tenant := a.TenantID
	if tenant == "" {
		tenant = OperatorAuditTenant
	}
	detail, _ := json.Marshal(map[string]any{"outcome": a.Outcome, "role": sc.Role})
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if err := c.Store.AppendAudit(ctx, store.AuditEntry{At: now().UTC(), TenantID: tenant, Actor: StaffActor(grantID),
		Action: store.AuditReadAttempt, Target: a.Ref, Detail: detail}); err != nil {
		return nil, fmt.Errorf("support: audit: %w", err)
	}
	return ViewOfAttempt(a), nil
}
