package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Outbox = (*Store)(nil)

const eventColumns = `id, tenant_id, type, data, created_at, status, attempts, next_attempt_at, last_error, delivered_at`

func validEventStatus(st store.EventStatus) bool {
	return st == store.EventPending || st == store.EventDelivered || st == store.EventDead
}

func scanEvent(row pgx.Row) (store.OutboxEvent, error) {
	var e store.OutboxEvent
	var status string
	var data []byte
	var delivered *time.Time
	if err := row.Scan(&e.ID, &e.TenantID, &e.Type, &data, &e.CreatedAt, &status, &e.Attempts,
		&e.NextAttemptAt, &e.LastError, &delivered); err != nil {
		return store.OutboxEvent{}, err
	}
	e.Status = store.EventStatus(status)
	if len(data) > 0 {
		e.Data = data
	}
	e.CreatedAt, e.NextAttemptAt, e.DeliveredAt = e.CreatedAt.UTC(), e.NextAttemptAt.UTC(), timeOf(delivered)
	return e, nil
}

// EnqueueEvent implements store.Outbox: inside InTx the insert joins the
// transaction of the change it reports. An empty status is pending, a
// zero CreatedAt now, a zero NextAttemptAt CreatedAt (due at once). Data is
// kept as jsonb: its meaning round-trips, not its spacing.
func (s *Store) EnqueueEvent(ctx context.Context, e store.OutboxEvent) error {
	if err := store.ValidateOutboxEvent(e); err != nil {
		return err
	}
	if e.Status == "" {
		e.Status = store.EventPending
	}
	if e.ID == "" || e.TenantID == "" || e.Type == "" {
		return fmt.Errorf("%w: outbox event needs an id, a tenant and a type", store.ErrInvalid)
	}
	if !validEventStatus(e.Status) {
		return fmt.Errorf("%w: outbox event status %q", store.ErrInvalid, e.Status)
	}
	var data *string
	if len(e.Data) > 0 {
		if !json.Valid(e.Data) {
			return fmt.Errorf("%w: outbox event data is not JSON", store.ErrInvalid)
		}
		d := string(e.Data)
		data = &d
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO outbox_events (`+eventColumns+`)
		VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10)`,
		e.ID, e.TenantID, e.Type, data, e.CreatedAt, string(e.Status), e.Attempts, e.NextAttemptAt, e.LastError, nullTime(e.DeliveredAt))
	return wrap("enqueue event", err)
}

// ClaimEvents implements store.Outbox: the oldest due events first, rows
// that another replica is claiming skipped. NextAttemptAt becomes the end
// of the lease, so an event that is never marked is due again when the
// lease ends; Attempts counts the attempts that ended (MarkDelivered,
// MarkFailed), so a claim leaves it alone.
func (s *Store) ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxEvent, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("%w: a claim needs a positive lease", store.ErrInvalid)
	}
	rows, err := s.q(ctx).Query(ctx, `WITH due AS (
			SELECT id, next_attempt_at FROM outbox_events
			WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED),
		done AS (
			UPDATE outbox_events e SET next_attempt_at = $2
			FROM due WHERE e.id = due.id RETURNING e.*, due.next_attempt_at AS was_due)
		SELECT `+eventColumns+` FROM done ORDER BY was_due, seq`,
		now, microUTC(now.Add(lease)), rowLimit(limit))
	if err != nil {
		return nil, wrap("claim events", err)
	}
	defer rows.Close()
	var out []store.OutboxEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, wrap("claim events", err)
		}
		out = append(out, e)
	}
	return out, wrap("claim events", rows.Err())
}

// MarkDelivered implements store.Outbox: the attempt counts in Attempts.
// Marking a delivered event again changes nothing; a dead event that was
// delivered after all becomes delivered.
func (s *Store) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	if at.IsZero() {
		at = s.now()
	}
	var exists bool
	err := s.q(ctx).QueryRow(ctx, `WITH u AS (
			UPDATE outbox_events SET status = 'delivered', delivered_at = $2, attempts = attempts + 1
			WHERE id = $1 AND status <> 'delivered' RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM outbox_events WHERE id = $1)`, id, at).Scan(&exists)
	if err != nil {
		return wrap("mark delivered", err)
	}
	if !exists {
		return store.ErrNotFound
	}
	return nil
}

// MarkFailed implements store.Outbox: the attempt counts in Attempts. Only
// a pending event can fail (ErrInactive otherwise: another replica
// delivered it meanwhile); a zero next keeps the current schedule (the end
// of the lease).
func (s *Store) MarkFailed(ctx context.Context, id string, next time.Time, lastError string, dead bool) error {
	if err := store.CheckText("last_error", lastError, store.MaxTextLength); err != nil {
		return err
	}
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	status := store.EventPending
	if dead {
		status = store.EventDead
	}
	return s.changed(ctx, "mark failed", `WITH u AS (
			UPDATE outbox_events SET status = $2, next_attempt_at = coalesce($3, next_attempt_at), last_error = $4,
				attempts = attempts + 1
			WHERE id = $1 AND status = 'pending' RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM outbox_events WHERE id = $1)`,
		id, string(status), nullTime(next), lastError)
}

// ListEvents implements store.Outbox: newest first.
func (s *Store) ListEvents(ctx context.Context, tenantID string, status store.EventStatus, limit int) ([]store.OutboxEvent, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	if status != "" && !validEventStatus(status) {
		return nil, fmt.Errorf("%w: outbox event status %q", store.ErrInvalid, status)
	}
	// Two statements rather than one with "$2 = '' OR status = $2": each
	// has its index (outbox_events_tenant, outbox_events_tenant_status) and
	// a cached plan that fits it.
	var rows pgx.Rows
	var err error
	if status == "" {
		rows, err = s.q(ctx).Query(ctx, `SELECT `+eventColumns+` FROM outbox_events
			WHERE tenant_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2`, tenantID, rowLimit(limit))
	} else {
		rows, err = s.q(ctx).Query(ctx, `SELECT `+eventColumns+` FROM outbox_events
			WHERE tenant_id = $1 AND status = $2 ORDER BY created_at DESC, seq DESC LIMIT $3`, tenantID, string(status), rowLimit(limit))
	}
	if err != nil {
		return nil, wrap("list events", err)
	}
	defer rows.Close()
	var out []store.OutboxEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, wrap("list events", err)
		}
		out = append(out, e)
	}
	return out, wrap("list events", rows.Err())
}

// RetryEvent implements store.Outbox: the event starts over, with no
// attempts counted; its last error stays for support to see.
func (s *Store) RetryEvent(ctx context.Context, tenantID, id string, now time.Time) error {
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	if now.IsZero() {
		now = s.now()
	}
	return s.changed(ctx, "retry event", `WITH u AS (
			UPDATE outbox_events SET status = 'pending', next_attempt_at = $3, attempts = 0
			WHERE tenant_id = $1 AND id = $2 AND status = 'dead' RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM outbox_events WHERE tenant_id = $1 AND id = $2)`,
		tenantID, id, now)
}
