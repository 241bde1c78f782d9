package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// Operator is the broker operator's desk on the command line (`broker
// support`): an attempt of any tenant, the roster of the tenant named, and
// a record's values in full when a reason is given — every read and every
// unmask audited with Actor.
type Operator struct {
	Store interface {
		store.Console
		store.Roster
		store.Audit
	}
	// Actor is the audit log's actor (the CLI's "broker-cli").
	Actor string
	Now   func() time.Time
}

// ActionUnmask is the audit action of a value shown in full.
const ActionUnmask = "unmask"

// MaxReasonLength bounds the reason given for an unmask.
const MaxReasonLength = 500

// ErrNoReason means a value was asked for in full without a reason.
var ErrNoReason = errors.New("support: a reason is required to show a value in full")

// Attempt returns the attempt with reference code ref (any case, with or
// without the dash) in any tenant, and audits the read in its tenant.
func (o *Operator) Attempt(ctx context.Context, ref string) (*AttemptView, error) {
	r, err := login.ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	a, err := o.Store.AttemptInScope(ctx, store.Scope{Role: store.StaffOperator}, r)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("support: attempt: %w", err)
	}
	if err := o.audit(ctx, auditTenant(a.TenantID), store.AuditReadAttempt, a.Ref, map[string]any{"outcome": a.Outcome}); err != nil {
		return nil, err
	}
	return ViewOfAttempt(a), nil
}

// Unmask returns the roster record in full — its SNILS, name, birth date,
// certificate and contacts — after writing an audit entry that names the
// record, the fields and the reason. A record of another tenant, or none,
// is ErrNotFound; a blank reason ErrNoReason.
func (o *Operator) Unmask(ctx context.Context, tenantID, externalID string, fields []string, reason string) (store.Person, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Person{}, ErrNoReason
	}
	if len([]rune(reason)) > MaxReasonLength {
		return store.Person{}, fmt.Errorf("%w: the reason is longer than %d characters", ErrBadQuery, MaxReasonLength)
	}
	p, err := o.Store.PersonInScope(ctx, store.Scope{Role: store.StaffOperator}, tenantID, externalID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Person{}, ErrNotFound
	}
	if err != nil {
		return store.Person{}, fmt.Errorf("support: record: %w", err)
	}
	if err := o.audit(ctx, tenantID, ActionUnmask, externalID, map[string]any{"fields": fields, "reason": reason}); err != nil {
		return store.Person{}, err
	}
	return p, nil
}

func (o *Operator) audit(ctx context.Context, tenantID, action, target string, detail map[string]any) error {
	b, _ := json.Marshal(detail)
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if err := o.Store.AppendAudit(ctx, store.AuditEntry{At: now().UTC(), TenantID: tenantID, Actor: o.Actor,
		Action: action, Target: target, Detail: b}); err != nil {
		return fmt.Errorf("support: audit: %w", err)
	}
	return nil
}

// auditTenant is where an entry about tenantID goes: an attempt that never
// reached a tenant is audited under OperatorAuditTenant.
func auditTenant(tenantID string) string {
	if tenantID == "" {
		return OperatorAuditTenant
	}
	return tenantID
}
