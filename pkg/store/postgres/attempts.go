package postgres

import (
	"context"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// RecordAttempt implements store.Attempts in one round trip: the attempt
// row is upserted and the event appended by one statement.
func (s *Store) RecordAttempt(ctx context.Context, a store.Attempt, ev store.AttemptEvent) error {
	if a.Ref == "" {
		return fmt.Errorf("%w: attempt without a reference", store.ErrInvalid)
	}
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	created := a.CreatedAt
	if created.IsZero() {
		created = ev.At
	}
	var detail any
	if len(ev.Detail) > 0 {
		detail = string(ev.Detail)
	}
	_, err := s.q(ctx).Exec(ctx, `
		WITH a AS (
			INSERT INTO attempts AS t (ref, tenant_id, client_id, esia_oid, outcome, reason, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (ref) DO UPDATE SET
				tenant_id = CASE WHEN t.tenant_id = '' THEN EXCLUDED.tenant_id ELSE t.tenant_id END,
				client_id = CASE WHEN t.client_id = '' THEN EXCLUDED.client_id ELSE t.client_id END,
				esia_oid = CASE WHEN EXCLUDED.esia_oid <> '' THEN EXCLUDED.esia_oid ELSE t.esia_oid END,
				outcome = CASE WHEN EXCLUDED.outcome <> '' THEN EXCLUDED.outcome ELSE t.outcome END,
				reason = CASE WHEN EXCLUDED.reason <> '' THEN EXCLUDED.reason ELSE t.reason END,
				updated_at = EXCLUDED.updated_at
			RETURNING ref)
		INSERT INTO attempt_events (ref, step, at, detail)
		SELECT ref, $9, $8, $10::jsonb FROM a WHERE $9 <> ''`,
		a.Ref, a.TenantID, a.ClientID, a.ESIAOID, a.Outcome, a.Reason, created, ev.At, ev.Step, detail)
	return wrap("record attempt", err)
}

// GetAttempt implements store.Attempts.
func (s *Store) GetAttempt(ctx context.Context, ref string) (store.Attempt, error) {
	var a store.Attempt
	err := s.q(ctx).QueryRow(ctx, `SELECT ref, tenant_id, client_id, esia_oid, outcome, reason, created_at, updated_at
		FROM attempts WHERE ref = $1`, ref).Scan(&a.Ref, &a.TenantID, &a.ClientID, &a.ESIAOID, &a.Outcome, &a.Reason, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return store.Attempt{}, wrap("get attempt", err)
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	rows, err := s.q(ctx).Query(ctx, `SELECT step, at, detail FROM attempt_events WHERE ref = $1 ORDER BY id`, ref)
	if err != nil {
		return store.Attempt{}, wrap("get attempt events", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev store.AttemptEvent
		var detail []byte
		if err := rows.Scan(&ev.Step, &ev.At, &detail); err != nil {
			return store.Attempt{}, wrap("get attempt events", err)
		}
		ev.At = ev.At.UTC()
		if len(detail) > 0 {
			ev.Detail = detail
		}
		a.Events = append(a.Events, ev)
	}
	return a, wrap("get attempt events", rows.Err())
}

// AttemptsByOID implements store.Attempts.
func (s *Store) AttemptsByOID(ctx context.Context, tenantID, oid string, limit int) ([]store.Attempt, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT ref, tenant_id, client_id, esia_oid, outcome, reason, created_at, updated_at
		FROM attempts WHERE tenant_id = $1 AND esia_oid = $2 ORDER BY created_at DESC, ref DESC LIMIT $3`, tenantID, oid, limit)
	if err != nil {
		return nil, wrap("attempts by oid", err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var a store.Attempt
		if err := rows.Scan(&a.Ref, &a.TenantID, &a.ClientID, &a.ESIAOID, &a.Outcome, &a.Reason, &a.CreatedAt, &a.UpdatedAt); err != nil {
			return nil, wrap("attempts by oid", err)
		}
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		out = append(out, a)
	}
	return out, wrap("attempts by oid", rows.Err())
}
