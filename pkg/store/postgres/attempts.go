package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// RecordAttempt implements store.Attempts in one round trip: the attempt
// row is upserted, the events appended in order and the records they name
// remembered by one statement.
func (s *Store) RecordAttempt(ctx context.Context, a store.Attempt, evs ...store.AttemptEvent) error {
	if err := store.ValidateAttempt(a, evs...); err != nil {
		return err
	}
	now := s.now()
	steps := make([]string, 0, len(evs))
	ats := make([]time.Time, 0, len(evs))
	details := make([]*string, 0, len(evs))
	var named []string
	for _, ev := range evs {
		if ev.At.IsZero() {
			ev.At = now
		}
		var detail *string
		if len(ev.Detail) > 0 {
			d := string(ev.Detail)
			detail = &d
		}
		steps, ats, details = append(steps, ev.Step), append(ats, ev.At), append(details, detail)
		named = append(named, store.RecordsNamedIn(ev.Detail)...)
	}
	updated := now
	if len(ats) > 0 {
		updated = ats[len(ats)-1]
	}
	created := a.CreatedAt
	if created.IsZero() {
		created = now
		if len(ats) > 0 {
			created = ats[0]
		}
	}
	slices.Sort(named)
	named = slices.Compact(named)
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
			RETURNING ref, tenant_id, created_at
		), e AS (
			INSERT INTO attempt_events (ref, step, at, detail)
			SELECT a.ref, ev.step, ev.at, ev.detail::jsonb
			FROM a, unnest($9::text[], $10::timestamptz[], $11::text[]) WITH ORDINALITY AS ev(step, at, detail, n)
			WHERE ev.step <> '' ORDER BY ev.n
		)
		INSERT INTO attempt_records (ref, tenant_id, external_id, created_at)
		SELECT a.ref, a.tenant_id, r.id, a.created_at FROM a, unnest($12::text[]) AS r(id)
		ON CONFLICT (ref, external_id) DO NOTHING`,
		a.Ref, a.TenantID, a.ClientID, a.ESIAOID, a.Outcome, a.Reason, created, updated, steps, ats, details, named)
	return wrap("record attempt", err)
}

// GetAttempt implements store.Attempts.
func (s *Store) GetAttempt(ctx context.Context, ref string) (store.Attempt, error) {
	if !store.ValidKeys(ref) {
		return store.Attempt{}, store.ErrNotFound
	}
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
	if !store.ValidKeys(tenantID, oid) {
		return nil, nil
	}
	return s.listAttempts(ctx, "attempts by oid", `SELECT ref, tenant_id, client_id, esia_oid, outcome, reason, created_at, updated_at
		FROM attempts WHERE tenant_id = $1 AND esia_oid = $2 ORDER BY created_at DESC, ref DESC LIMIT $3`, tenantID, oid, limit)
}

// AttemptsByRecord implements store.Attempts.
func (s *Store) AttemptsByRecord(ctx context.Context, tenantID, externalID string, limit int) ([]store.Attempt, error) {
	if !store.ValidKeys(tenantID, externalID) {
		return nil, nil
	}
	return s.listAttempts(ctx, "attempts by record", `SELECT a.ref, a.tenant_id, a.client_id, a.esia_oid, a.outcome, a.reason, a.created_at, a.updated_at
		FROM attempt_records r JOIN attempts a ON a.ref = r.ref
		WHERE r.tenant_id = $1 AND r.external_id = $2 ORDER BY r.created_at DESC, r.ref DESC LIMIT $3`, tenantID, externalID, limit)
}

// listAttempts runs a query of attempts (no events) whose last argument is
// the limit (0: 100).
func (s *Store) listAttempts(ctx context.Context, op, query string, args ...any) ([]store.Attempt, error) {
	if limit, _ := args[len(args)-1].(int); limit <= 0 {
		args[len(args)-1] = 100
	}
	rows, err := s.q(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []store.Attempt
	for rows.Next() {
		var a store.Attempt
		if err := rows.Scan(&a.Ref, &a.TenantID, &a.ClientID, &a.ESIAOID, &a.Outcome, &a.Reason, &a.CreatedAt, &a.UpdatedAt); err != nil {
			return nil, wrap(op, err)
		}
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		out = append(out, a)
	}
	return out, wrap(op, rows.Err())
}
