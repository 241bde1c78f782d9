package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Retention = (*Store)(nil)

// AbandonAttempts implements store.Retention in one statement: the due
// attempts are claimed (index attempts_in_progress), marked and given
// their "abandoned" event. An attempt whose login writes to it meanwhile
// is skipped, or no longer in progress when its lock is granted.
func (s *Store) AbandonAttempts(ctx context.Context, before, at time.Time, limit int) ([]string, error) {
	rows, err := s.q(ctx).Query(ctx, `WITH due AS (
			SELECT ref FROM attempts WHERE outcome = $4 AND updated_at < $1
			ORDER BY updated_at, ref LIMIT $3 FOR UPDATE SKIP LOCKED),
		u AS (
			UPDATE attempts a SET outcome = $5, updated_at = $2 FROM due WHERE a.ref = due.ref RETURNING a.ref)
		INSERT INTO attempt_events (ref, step, at) SELECT ref, $5, $2 FROM u RETURNING ref`,
		before, microUTC(at), rowLimit(limit), store.OutcomeInProgress, store.OutcomeAbandoned)
	refs, err := collectStrings(rows, err)
	return refs, wrap("abandon attempts", err)
}

// DestroyAttempts implements store.Retention in one transaction: the
// attempts go first (their events and named records by ON DELETE
// CASCADE), then the audit entries of their reading, which the audit log's
// trigger lets go only once their attempt is gone and only in a
// transaction marked (broker.retention) as destroying attempts.
func (s *Store) DestroyAttempts(ctx context.Context, tenantID string, before time.Time, limit int) ([]string, int, error) {
	var refs []string
	audit := 0
	err := s.InTx(ctx, func(ctx context.Context) error {
		rows, err := s.q(ctx).Query(ctx, `WITH due AS (
				SELECT ref FROM attempts WHERE tenant_id = $1 AND created_at < $2
				ORDER BY created_at, ref LIMIT $3 FOR UPDATE SKIP LOCKED)
			DELETE FROM attempts a USING due WHERE a.ref = due.ref RETURNING a.ref`,
			tenantID, before, rowLimit(limit))
		if refs, err = collectStrings(rows, err); err != nil || len(refs) == 0 {
			return err
		}
		// The trigger that keeps audit_log append-only lets these entries
		// go only in a transaction that says it destroys attempts.
		if _, err := s.q(ctx).Exec(ctx, `SELECT set_config('broker.retention', 'destroy_attempts', true)`); err != nil {
			return err
		}
		tag, err := s.q(ctx).Exec(ctx, `DELETE FROM audit_log WHERE tenant_id = $1 AND action = $2 AND target = ANY($3)`,
			tenantID, store.AuditReadAttempt, refs)
		audit = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return nil, 0, wrap("destroy attempts", err)
	}
	return refs, audit, nil
}

// PurgeEvents implements store.Retention: one statement per status, each
// with its partial index (outbox_events_delivered, outbox_events_dead).
func (s *Store) PurgeEvents(ctx context.Context, tenantID string, status store.EventStatus, before time.Time, limit int) ([]string, error) {
	var since string
	switch status {
	case store.EventDelivered:
		since = "delivered_at"
	case store.EventDead:
		since = "next_attempt_at"
	default:
		return nil, fmt.Errorf("%w: only delivered and dead events are purged, not %q", store.ErrInvalid, status)
	}
	rows, err := s.q(ctx).Query(ctx, `WITH due AS (
			SELECT id FROM outbox_events WHERE tenant_id = $1 AND status = $2 AND `+since+` < $3
			ORDER BY `+since+`, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
		DELETE FROM outbox_events e USING due WHERE e.id = due.id RETURNING e.id`,
		tenantID, string(status), before, rowLimit(limit))
	ids, err := collectStrings(rows, err)
	return ids, wrap("purge events", err)
}

// collectStrings reads the one text column of rows (or returns err, the
// query's).
func collectStrings(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
