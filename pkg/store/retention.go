package store

import (
	"context"
	"time"
)

// Attempt outcomes the retention janitor deals with.
const (
	// OutcomeInProgress is an attempt whose login has not finished.
	OutcomeInProgress = "in_progress"
	// OutcomeAbandoned is an attempt still in progress after the login
	// time-out: the person never came back from ESIA (closed the page,
	// gave up), so it can no longer finish.
	OutcomeAbandoned = "abandoned"
)

// AuditReadAttempt is the audit action of support reading an attempt; its
// target is the attempt's reference code. Such entries go with the attempt
// when it is destroyed.
const AuditReadAttempt = "read_attempt"

// Retention removes what the broker keeps only for a while. Each method
// handles up to limit rows (0: 100), oldest first, claimed with FOR UPDATE
// SKIP LOCKED in PostgreSQL so that the janitors of every replica share the
// work and each row is handled once; it returns the rows it handled. A row
// at the cut-off (not before it) is left alone.
type Retention interface {
	// AbandonAttempts marks attempts still in progress whose last event
	// is before before as abandoned, at at, with an "abandoned" event,
	// and returns their reference codes.
	AbandonAttempts(ctx context.Context, before, at time.Time, limit int) ([]string, error)
	// DestroyAttempts deletes a tenant's attempts created before before,
	// with their events, the roster records they named and the audit
	// entries of their reading (AuditReadAttempt), all at once (joining the
	// caller's InTx). It returns the reference codes and how many audit
	// entries went with them.
	DestroyAttempts(ctx context.Context, tenantID string, before time.Time, limit int) (refs []string, audit int, err error)
	// PurgeEvents deletes a tenant's outbox events of status delivered
	// (delivered before before) or dead (last attempt scheduled before
	// before, so a retried one starts its period again) and returns their
	// ids. Pending events are never purged (ErrInvalid).
	PurgeEvents(ctx context.Context, tenantID string, status EventStatus, before time.Time, limit int) ([]string, error)
}
