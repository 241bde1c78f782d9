package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Retention = (*Store)(nil)

// AbandonAttempts implements store.Retention: the attempts in progress
// whose last event is oldest go first.
func (s *Store) AbandonAttempts(ctx context.Context, before, at time.Time, limit int) ([]string, error) {
	at = microUTC(at)
	defer s.write(ctx)()
	due := s.oldestAttempts(limit, func(a *store.Attempt) (time.Time, bool) {
		return a.UpdatedAt, a.Outcome == store.OutcomeInProgress && a.UpdatedAt.Before(before)
	})
	refs := make([]string, 0, len(due))
	for _, a := range due {
		old := cloneAttempt(a, true)
		s.onUndo(ctx, func() { *a = old })
		a.Outcome, a.UpdatedAt = store.OutcomeAbandoned, at
		a.Events = append(a.Events, store.AttemptEvent{Step: store.OutcomeAbandoned, At: at})
		refs = append(refs, a.Ref)
	}
	return refs, nil
}

// DestroyAttempts implements store.Retention: the oldest attempts of the
// tenant go first, with the records they named and the audit entries of
// their reading.
func (s *Store) DestroyAttempts(ctx context.Context, tenantID string, before time.Time, limit int) ([]string, int, error) {
	defer s.write(ctx)()
	due := s.oldestAttempts(limit, func(a *store.Attempt) (time.Time, bool) {
		return a.CreatedAt, a.TenantID == tenantID && a.CreatedAt.Before(before)
	})
	gone := map[string]bool{}
	refs := make([]string, 0, len(due))
	for _, a := range due {
		ref, named := a.Ref, s.attemptRecords[a.Ref]
		values, kept := s.values[ref]
		delete(s.attempts, ref)
		delete(s.attemptRecords, ref)
		delete(s.values, ref)
		s.onUndo(ctx, func() {
			s.attempts[ref] = a
			if named != nil {
				s.attemptRecords[ref] = named
			}
			if kept {
				s.values[ref] = values
			}
		})
		gone[ref] = true
		refs = append(refs, ref)
	}
	old := s.audit
	kept := slices.DeleteFunc(slices.Clone(old), func(e store.AuditEntry) bool {
		return e.TenantID == tenantID && e.Action == store.AuditReadAttempt && gone[e.Target]
	})
	if len(kept) != len(old) {
		s.audit = kept
		s.onUndo(ctx, func() { s.audit = old })
	}
	return refs, len(old) - len(kept), nil
}

// oldestAttempts returns up to limit (0: 100) attempts that due keeps,
// ordered by the time it returns, then by reference. The caller holds the
// write lock.
func (s *Store) oldestAttempts(limit int, due func(a *store.Attempt) (time.Time, bool)) []*store.Attempt {
	type row struct {
		a  *store.Attempt
		at time.Time
	}
	var rows []row
	for _, a := range s.attempts {
		if at, ok := due(a); ok {
			rows = append(rows, row{a, at})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].at.Equal(rows[j].at) {
			return rows[i].at.Before(rows[j].at)
		}
		return rows[i].a.Ref < rows[j].a.Ref
	})
	out := make([]*store.Attempt, 0, min(len(rows), rowLimit(limit)))
	for _, r := range rows[:min(len(rows), rowLimit(limit))] {
		out = append(out, r.a)
	}
	return out
}

// PurgeEvents implements store.Retention: the events delivered (or given
// up) longest ago go first.
func (s *Store) PurgeEvents(ctx context.Context, tenantID string, status store.EventStatus, before time.Time, limit int) ([]string, error) {
	var since func(e store.OutboxEvent) time.Time
	switch status {
	case store.EventDelivered:
		since = func(e store.OutboxEvent) time.Time { return e.DeliveredAt }
	case store.EventDead:
		since = func(e store.OutboxEvent) time.Time { return e.NextAttemptAt }
	default:
		return nil, fmt.Errorf("%w: only delivered and dead events are purged, not %q", store.ErrInvalid, status)
	}
	defer s.write(ctx)()
	var due []eventRow
	for _, r := range s.events {
		if r.e.TenantID == tenantID && r.e.Status == status && since(r.e).Before(before) {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if a, b := since(due[i].e), since(due[j].e); !a.Equal(b) {
			return a.Before(b)
		}
		return due[i].seq < due[j].seq
	})
	var ids []string
	for _, r := range due[:min(len(due), rowLimit(limit))] {
		delete(s.events, r.e.ID)
		s.onUndo(ctx, func() { s.events[r.e.ID] = r })
		ids = append(ids, r.e.ID)
	}
	return ids, nil
}
