package store

import (
	"context"
	"time"
)

// AuditFilter selects audit entries for the support console's audit log
// page; an empty field does not filter.
type AuditFilter struct {
	Actor  string // exact audit actor ("staff:…", an API client id)
	Action string // exact action (read_attempt, assign_ticket, …)
	Target string // exact target (a reference code, a record or ticket id)
	// From and To bound the entries' time: From ≤ at < To.
	From, To time.Time
	// Before, when not 0, keeps the entries with an ID below it: the next
	// page after an entry (the list is newest first).
	Before int64
	// Limit is how many entries at most (0: 100).
	Limit int
}

// AuditLog is the audit log as the support console reads it.
type AuditLog interface {
	// AuditInScope returns the entries in sc that f selects, newest
	// (highest ID) first: tenant_support the entries of their tenant, an
	// operator every entry (those of no tenant too). A school_admin's scope
	// reads nothing (an empty list): the audit log is not theirs to read.
	AuditInScope(ctx context.Context, sc Scope, f AuditFilter) ([]AuditEntry, error)
}

// ValidateAuditFilter checks the strings of a filter as the entries'
// fields are checked (*FieldError naming the field).
func ValidateAuditFilter(f AuditFilter) error {
	return check(CheckID("actor", f.Actor), CheckText("action", f.Action, MaxWordLength), CheckID("target", f.Target))
}

// AuditReadable reports whether sc may read audit entries at all, and
// whether the entry of tenantID is among them.
func AuditReadable(sc Scope, tenantID string) bool {
	switch sc.Role {
	case StaffOperator:
		return true
	case StaffTenantSupport:
		return tenantID != "" && tenantID == sc.TenantID
	}
	return false
}

// Matches reports whether e is one f selects (Before and Limit aside).
func (f AuditFilter) Matches(e AuditEntry) bool {
	return (f.Actor == "" || e.Actor == f.Actor) && (f.Action == "" || e.Action == f.Action) &&
		(f.Target == "" || e.Target == f.Target) && (f.From.IsZero() || !e.At.Before(f.From)) &&
		(f.To.IsZero() || e.At.Before(f.To)) && (f.Before == 0 || e.ID < f.Before)
}
