package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Store is what the janitor needs: the retention methods, the destruction
// of re-check values and of support
// tickets, and the tenants, for their periods.
type Store interface {
	store.Retention
	store.Rechecks
	DestroyTickets(ctx context.Context, tenantID string, before time.Time, limit int) ([]string, error)
	ListTenants(ctx context.Context) ([]store.Tenant, error)
}

// DefaultBatch is how many rows one statement of the janitor handles.
const DefaultBatch = 500

// Janitor abandons unfinished logins and destroys what is past its
// tenant's retention. Every replica may run it at once: the store claims
// rows with FOR UPDATE SKIP LOCKED, so each row is handled once.
type Janitor struct {
	Store Store
	// PendingTTL is the login time-out (login.Config.PendingTTL, default
	// 15 min): an attempt still in progress whose last event is older can
	// no longer finish.
	PendingTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Batch is how many rows one statement handles (default DefaultBatch).
	Batch int
}

// Report says how many rows one run handled, by kind.
type Report struct {
	Abandoned       int // attempts marked abandoned
	Attempts        int // attempts destroyed, with their events and named records
	AuditEntries    int // audit entries of support reading the destroyed attempts
	OutboxDelivered int // delivered webhook events purged
	OutboxDead      int // dead webhook events purged
	// AttemptValues are the attempts whose sealed ESIA-side values (kept
	// for the support console's re-check) were destroyed.
	AttemptValues int
	Tickets       int // support tickets destroyed, with their contacts and notes
}

// Destroyed returns the rows destroyed by kind, as the metric
// broker_retention_destroyed_total labels them.
func (r Report) Destroyed() map[string]int {
	return map[string]int{"attempt": r.Attempts, "audit_entry": r.AuditEntries,
		"outbox_delivered": r.OutboxDelivered, "outbox_dead": r.OutboxDead, "attempt_values": r.AttemptValues,
		"ticket": r.Tickets}
}

// Total is every row the run handled.
func (r Report) Total() int {
	return r.Abandoned + r.Attempts + r.AuditEntries + r.OutboxDelivered + r.OutboxDead + r.AttemptValues + r.Tickets
}

// Run does one pass: it abandons the attempts past the login time-out,
// then, tenant by tenant, destroys the attempts, the sealed values kept
// for re-checks and purges the webhook events past the tenant's periods, batch after batch until none is due.
// A tenant that fails does not stop the others; the report counts what
// was done, errors or not.
func (j *Janitor) Run(ctx context.Context) (Report, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	t0 := now().UTC()
	ttl := j.PendingTTL
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	var r Report
	err := j.batches(ctx, &r.Abandoned, func(limit int) (int, error) {
		refs, err := j.Store.AbandonAttempts(ctx, t0.Add(-ttl), t0, limit)
		return len(refs), err
	})
	if err != nil {
		return r, fmt.Errorf("retention: abandon attempts: %w", err)
	}
	tenants, err := j.Store.ListTenants(ctx)
	if err != nil {
		return r, fmt.Errorf("retention: tenants: %w", err)
	}
	var errs []error
	for _, t := range tenants {
		if err := j.tenant(ctx, t, t0, &r); err != nil {
			errs = append(errs, fmt.Errorf("retention: tenant %s: %w", t.ID, err))
		}
	}
	// Attempts of no tenant — the support console's sign-ins — are kept
	// for the default attempt period.
	err = j.batches(ctx, &r.Attempts, func(limit int) (int, error) {
		refs, audit, err := j.Store.DestroyAttempts(ctx, "", t0.AddDate(0, 0, -store.DefaultRetention().AttemptDays), limit)
		r.AuditEntries += audit
		return len(refs), err
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("retention: attempts of no tenant: %w", err))
	}
	return r, errors.Join(errs...)
}

// tenant destroys one tenant's rows past its periods.
func (j *Janitor) tenant(ctx context.Context, t store.Tenant, now time.Time, r *Report) error {
	p := t.Retention.Effective()
	err := j.batches(ctx, &r.Attempts, func(limit int) (int, error) {
		refs, audit, err := j.Store.DestroyAttempts(ctx, t.ID, now.AddDate(0, 0, -p.AttemptDays), limit)
		r.AuditEntries += audit
		return len(refs), err
	})
	if err != nil {
		return fmt.Errorf("attempts: %w", err)
	}
	err = j.batches(ctx, &r.AttemptValues, func(limit int) (int, error) {
		refs, err := j.Store.DestroyAttemptValues(ctx, t.ID, now.AddDate(0, 0, -p.RecheckDays), now, limit)
		return len(refs), err
	})
	if err != nil {
		return fmt.Errorf("attempt values: %w", err)
	}
	// Support tickets are about an attempt and go after the same period
	// (docs/consent.md), with the contact the reporter left.
	err = j.batches(ctx, &r.Tickets, func(limit int) (int, error) {
		ids, err := j.Store.DestroyTickets(ctx, t.ID, now.AddDate(0, 0, -p.AttemptDays), limit)
		return len(ids), err
	})
	if err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	for _, purge := range []struct {
		status store.EventStatus
		days   int
		count  *int
	}{{store.EventDelivered, p.OutboxDays, &r.OutboxDelivered}, {store.EventDead, p.OutboxFailedDays, &r.OutboxDead}} {
		err := j.batches(ctx, purge.count, func(limit int) (int, error) {
			ids, err := j.Store.PurgeEvents(ctx, t.ID, purge.status, now.AddDate(0, 0, -purge.days), limit)
			return len(ids), err
		})
		if err != nil {
			return fmt.Errorf("%s webhook events: %w", purge.status, err)
		}
	}
	return nil
}

// batches calls step until a batch comes back short, adding what each
// handled to *count; it stops early when ctx ends.
func (j *Janitor) batches(ctx context.Context, count *int, step func(limit int) (int, error)) error {
	limit := j.Batch
	if limit <= 0 {
		limit = DefaultBatch
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := step(limit)
		*count += n
		if err != nil || n < limit {
			return err
		}
	}
}
