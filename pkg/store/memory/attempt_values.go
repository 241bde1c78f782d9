package memory

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Rechecks = (*Store)(nil)

// KeepAttemptValues implements store.Rechecks. The memory store keeps the
// values in plaintext, as it keeps the roster.
func (s *Store) KeepAttemptValues(ctx context.Context, v store.AttemptValues) error {
	if err := store.ValidateAttemptValues(v); err != nil {
		return err
	}
	defer s.write(ctx)()
	if a, ok := s.attempts[v.Ref]; !ok || a.TenantID != v.TenantID {
		return store.ErrNotFound
	}
	if v.KeptAt.IsZero() {
		v.KeptAt = s.now()
	}
	v.KeptAt, v.DestroyedAt, v.Data = microUTC(v.KeptAt), time.Time{}, slices.Clone(v.Data)
	old, had := s.values[v.Ref]
	s.values[v.Ref] = v
	s.onUndo(ctx, func() {
		if had {
			s.values[v.Ref] = old
		} else {
			delete(s.values, v.Ref)
		}
	})
	return nil
}

// GetAttemptValues implements store.Rechecks.
func (s *Store) GetAttemptValues(ctx context.Context, ref string) (store.AttemptValues, error) {
	if !store.ValidKeys(ref) {
		return store.AttemptValues{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	v, ok := s.values[ref]
	if _, live := s.attempts[ref]; !ok || !live {
		return store.AttemptValues{}, store.ErrNotFound
	}
	v.Data = slices.Clone(v.Data)
	return v, nil
}

// DestroyAttemptValues implements store.Rechecks: the oldest first.
func (s *Store) DestroyAttemptValues(ctx context.Context, tenantID string, before, at time.Time, limit int) ([]string, error) {
	defer s.write(ctx)()
	var due []store.AttemptValues
	for _, v := range s.values {
		if v.TenantID == tenantID && v.Data != nil && v.KeptAt.Before(before) {
			due = append(due, v)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].KeptAt.Equal(due[j].KeptAt) {
			return due[i].KeptAt.Before(due[j].KeptAt)
		}
		return due[i].Ref < due[j].Ref
	})
	if n := rowLimit(limit); len(due) > n {
		due = due[:n]
	}
	refs := make([]string, 0, len(due))
	for _, old := range due {
		v := old
		v.Data, v.DestroyedAt = nil, microUTC(at)
		s.values[v.Ref] = v
		s.onUndo(ctx, func() { s.values[old.Ref] = old })
		refs = append(refs, v.Ref)
	}
	return refs, nil
}
