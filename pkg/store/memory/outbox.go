package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Outbox = (*Store)(nil)

// eventRow is a stored outbox event and its insertion order.
type eventRow struct {
	e   store.OutboxEvent
	seq int64
}

func cloneEvent(e store.OutboxEvent) store.OutboxEvent {
	if len(e.Data) == 0 {
		e.Data = nil
	} else {
		e.Data = append(json.RawMessage(nil), e.Data...)
	}
	return e
}

func validEventStatus(st store.EventStatus) bool {
	return st == store.EventPending || st == store.EventDelivered || st == store.EventDead
}

// EnqueueEvent implements store.Outbox. Inside InTx the event is undone
// with the transaction. An empty status is pending, a zero CreatedAt now,
// a zero NextAttemptAt CreatedAt (due at once).
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
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return fmt.Errorf("%w: outbox event data is not JSON", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if err := s.checkTenant(e.TenantID, "outbox event"); err != nil {
		return err
	}
	if _, ok := s.events[e.ID]; ok {
		return store.ErrAlreadyExists
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	if e.NextAttemptAt.IsZero() {
		e.NextAttemptAt = e.CreatedAt
	}
	e = cloneEvent(e)
	e.CreatedAt, e.NextAttemptAt, e.DeliveredAt = microUTC(e.CreatedAt), microUTC(e.NextAttemptAt), microUTC(e.DeliveredAt)
	s.events[e.ID] = eventRow{e: e, seq: s.nextSeq()}
	s.onUndo(ctx, func() { delete(s.events, e.ID) })
	return nil
}

// ClaimEvents implements store.Outbox: the oldest due events first.
// NextAttemptAt becomes the end of the lease; Attempts counts the attempts
// that ended (MarkDelivered, MarkFailed), so a claim leaves it alone.
func (s *Store) ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.OutboxEvent, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("%w: a claim needs a positive lease", store.ErrInvalid)
	}
	now, limit = microUTC(now), rowLimit(limit)
	until := microUTC(now.Add(lease))
	defer s.write(ctx)()
	var due []eventRow
	for _, r := range s.events {
		if r.e.Status == store.EventPending && !r.e.NextAttemptAt.After(now) {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].e.NextAttemptAt.Equal(due[j].e.NextAttemptAt) {
			return due[i].e.NextAttemptAt.Before(due[j].e.NextAttemptAt)
		}
		return due[i].seq < due[j].seq
	})
	var out []store.OutboxEvent
	for _, old := range due[:min(len(due), limit)] {
		r := old
		r.e.NextAttemptAt = until
		s.events[r.e.ID] = r
		s.onUndo(ctx, func() { s.events[old.e.ID] = old })
		out = append(out, cloneEvent(r.e))
	}
	return out, nil
}

// MarkDelivered implements store.Outbox: the attempt counts in Attempts.
// Marking a delivered event again changes nothing; a dead event that was
// delivered after all becomes delivered.
func (s *Store) MarkDelivered(ctx context.Context, id string, at time.Time) error {
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.events[id]
	if !ok {
		return store.ErrNotFound
	}
	if old.e.Status == store.EventDelivered {
		return nil
	}
	if at.IsZero() {
		at = s.now()
	}
	r := old
	r.e.Status, r.e.DeliveredAt, r.e.Attempts = store.EventDelivered, microUTC(at), old.e.Attempts+1
	s.events[id] = r
	s.onUndo(ctx, func() { s.events[id] = old })
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
	defer s.write(ctx)()
	old, ok := s.events[id]
	if !ok {
		return store.ErrNotFound
	}
	if old.e.Status != store.EventPending {
		return store.ErrInactive
	}
	r := old
	r.e.LastError, r.e.Attempts = lastError, old.e.Attempts+1
	if !next.IsZero() {
		r.e.NextAttemptAt = microUTC(next)
	}
	if dead {
		r.e.Status = store.EventDead
	}
	s.events[id] = r
	s.onUndo(ctx, func() { s.events[id] = old })
	return nil
}

// ListEvents implements store.Outbox: newest first.
func (s *Store) ListEvents(ctx context.Context, tenantID string, status store.EventStatus, limit int) ([]store.OutboxEvent, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	if status != "" && !validEventStatus(status) {
		return nil, fmt.Errorf("%w: outbox event status %q", store.ErrInvalid, status)
	}
	limit = rowLimit(limit)
	defer s.read(ctx)()
	var rows []eventRow
	for _, r := range s.events {
		if r.e.TenantID == tenantID && (status == "" || r.e.Status == status) {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].e.CreatedAt.Equal(rows[j].e.CreatedAt) {
			return rows[i].e.CreatedAt.After(rows[j].e.CreatedAt)
		}
		return rows[i].seq > rows[j].seq
	})
	var out []store.OutboxEvent
	for _, r := range rows[:min(len(rows), limit)] {
		out = append(out, cloneEvent(r.e))
	}
	return out, nil
}

// RetryEvent implements store.Outbox: the event starts over, with no
// attempts counted; its last error stays for support to see.
func (s *Store) RetryEvent(ctx context.Context, tenantID, id string, now time.Time) error {
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.events[id]
	if !ok || old.e.TenantID != tenantID {
		return store.ErrNotFound
	}
	if old.e.Status != store.EventDead {
		return store.ErrInactive
	}
	if now.IsZero() {
		now = s.now()
	}
	r := old
	r.e.Status, r.e.NextAttemptAt, r.e.Attempts = store.EventPending, microUTC(now), 0
	s.events[id] = r
	s.onUndo(ctx, func() { s.events[id] = old })
	return nil
}
