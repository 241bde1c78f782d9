package memory

import (
	"context"
	"encoding/json"
	"fmt"
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
func (s *Store) RecordAttempt(ctx context.Context, a store.Attempt, ev store.AttemptEvent) error {
	if err := store.ValidateAttempt(a, ev); err != nil {
		return err
	}
	if a.Ref == "" {
		return fmt.Errorf("%w: attempt without a reference", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if ev.At.IsZero() {
		ev.At = s.now().UTC()
	}
	ev.Detail = append(json.RawMessage(nil), ev.Detail...)
	cur, ok := s.attempts[a.Ref]
	if !ok {
		a.Events = nil
		if a.CreatedAt.IsZero() {
			a.CreatedAt = ev.At
		}
		a.UpdatedAt = ev.At
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
		cur.UpdatedAt = ev.At
	}
	if ev.Step != "" {
		cur.Events = append(cur.Events, ev)
	}
	for _, id := range store.RecordsNamedIn(ev.Detail) {
		named := s.attemptRecords[a.Ref]
		if named == nil {
			named = map[string]bool{}
			s.attemptRecords[a.Ref] = named
			s.onUndo(ctx, func() { delete(s.attemptRecords, a.Ref) })
		}
		if !named[id] {
			named[id] = true
			s.onUndo(ctx, func() { delete(named, id) })
		}
	}
	return nil
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
