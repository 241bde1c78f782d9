package memory

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

func cloneKey(k store.Key) store.Key {
	k.Sealed = append([]byte(nil), k.Sealed...)
	k.Public = append([]byte(nil), k.Public...)
	return k
}

// CreateKey implements store.Keys.
func (s *Store) CreateKey(ctx context.Context, k store.Key) error {
	if k.ID == "" || k.Kind == "" {
		return fmt.Errorf("%w: key needs an id and a kind", store.ErrInvalid)
	}
	defer s.write(ctx)()
	for _, old := range s.keys {
		if old.ID == k.ID || (old.Kind == k.Kind && old.Algorithm == k.Algorithm && old.Active()) {
			return store.ErrAlreadyExists
		}
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now().UTC()
	}
	k.RetiredAt, k.PublishUntil = time.Time{}, time.Time{}
	s.keys[k.ID] = cloneKey(k)
	s.onUndo(ctx, func() { delete(s.keys, k.ID) })
	return nil
}

// RotateKey implements store.Keys.
func (s *Store) RotateKey(ctx context.Context, k store.Key, publishUntil time.Time) error {
	if k.ID == "" || k.Kind == "" {
		return fmt.Errorf("%w: key needs an id and a kind", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if _, ok := s.keys[k.ID]; ok {
		return store.ErrAlreadyExists
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now().UTC()
	}
	for id, old := range s.keys {
		if old.Kind == k.Kind && old.Algorithm == k.Algorithm && old.Active() {
			prev := old
			old.RetiredAt = k.CreatedAt
			old.PublishUntil = publishUntil
			s.keys[id] = old
			s.onUndo(ctx, func() { s.keys[id] = prev })
		}
	}
	k.RetiredAt = time.Time{}
	s.keys[k.ID] = cloneKey(k)
	s.onUndo(ctx, func() { delete(s.keys, k.ID) })
	return nil
}

// ListKeys implements store.Keys.
func (s *Store) ListKeys(ctx context.Context, kind store.KeyKind) ([]store.Key, error) {
	defer s.read(ctx)()
	var out []store.Key
	for _, k := range s.keys {
		if k.Kind == kind {
			out = append(out, cloneKey(k))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// DeleteKey implements store.Keys.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	defer s.write(ctx)()
	old, ok := s.keys[id]
	if !ok {
		return store.ErrNotFound
	}
	delete(s.keys, id)
	s.onUndo(ctx, func() { s.keys[id] = old })
	return nil
}
