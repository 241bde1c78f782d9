package memory

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

func cloneAttempt(a *store.Attempt, withEvents bool) store.Attempt {
	out := *a
	out.Events = nil
	if withEvents {
		for _, ev := range a.Events {
			ev.Detail = append(json.RawMessage(nil), ev.Detail...)
			out.Events = append(out.Events, ev)
		}
	}
	return out
}

// RecordAttempt implements store.Attempts.
func (s *Store) RecordAttempt(ctx context.Context, a store.Attempt, evs ...store.AttemptEvent) error {
	if err := store.ValidateAttempt(a, evs...); err != nil {
		return err
	}
	defer s.write(ctx)()
	now := s.now().UTC()
	last := now
	if len(evs) > 0 {
		if last = evs[len(evs)-1].At; last.IsZero() {
			last = now
		}
	}
	cur, ok := s.attempts[a.Ref]
	if !ok {
		a.Events = nil
		if a.CreatedAt.IsZero() {
			a.CreatedAt = now
			if len(evs) > 0 && !evs[0].At.IsZero() {
				a.CreatedAt = evs[0].At
			}
		}
		a.UpdatedAt = last
		cur = &a
		s.attempts[a.Ref] = cur
		s.onUndo(ctx, func() { delete(s.attempts, a.Ref) })
	} else {
		old := cloneAttempt(cur, true)
		s.onUndo(ctx, func() { *cur = old })
		if a.ESIAOID != "" {
			cur.ESIAOID = a.ESIAOID
		}
		if a.Outcome != "" {
			cur.Outcome = a.Outcome
		}
		if a.Reason != "" {
			cur.Reason = a.Reason
		}
		if a.TenantID != "" && cur.TenantID == "" {
			cur.TenantID = a.TenantID
		}
		if a.ClientID != "" && cur.ClientID == "" {
			cur.ClientID = a.ClientID
		}
		cur.UpdatedAt = last
	}
	for _, ev := range evs {
		if ev.At.IsZero() {
			ev.At = now
		}
		ev.Detail = append(json.RawMessage(nil), ev.Detail...)
		if ev.Step != "" {
			cur.Events = append(cur.Events, ev)
		}
		s.nameRecords(ctx, a.Ref, ev.Detail)
	}
	return nil
}

// nameRecords remembers the roster records an event's detail names.
func (s *Store) nameRecords(ctx context.Context, ref string, detail json.RawMessage) {
	for _, id := range store.RecordsNamedIn(detail) {
		named := s.attemptRecords[ref]
		if named == nil {
			named = map[string]bool{}
			s.attemptRecords[ref] = named
			s.onUndo(ctx, func() { delete(s.attemptRecords, ref) })
		}
		if !named[id] {
			named[id] = true
			s.onUndo(ctx, func() { delete(named, id) })
		}
	}
}

// GetAttempt implements store.Attempts.
func (s *Store) GetAttempt(ctx context.Context, ref string) (store.Attempt, error) {
	if !store.ValidKeys(ref) {
		return store.Attempt{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	a, ok := s.attempts[ref]
	if !ok {
		return store.Attempt{}, store.ErrNotFound
	}
	return cloneAttempt(a, true), nil
}

// AttemptsByOID implements store.Attempts.
func (s *Store) AttemptsByOID(ctx context.Context, tenantID, oid string, limit int) ([]store.Attempt, error) {
	if !store.ValidKeys(tenantID, oid) {
		return nil, nil
	}
	return s.newestAttempts(ctx, limit, func(a *store.Attempt) bool { return a.TenantID == tenantID && a.ESIAOID == oid }), nil
}

// AttemptsByRecord implements store.Attempts.
func (s *Store) AttemptsByRecord(ctx context.Context, tenantID, externalID string, limit int) ([]store.Attempt, error) {
	if !store.ValidKeys(tenantID, externalID) {
		return nil, nil
	}
	return s.newestAttempts(ctx, limit, func(a *store.Attempt) bool {
		return a.TenantID == tenantID && s.attemptRecords[a.Ref][externalID]
	}), nil
}

// newestAttempts lists the attempts that keep holds, newest first, at
// most limit of them (0: all).
func (s *Store) newestAttempts(ctx context.Context, limit int, keep func(a *store.Attempt) bool) []store.Attempt {
	defer s.read(ctx)()
	var out []store.Attempt
	for _, a := range s.attempts {
		if keep(a) {
			out = append(out, cloneAttempt(a, false))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].Ref > out[j].Ref
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
