package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreateKey implements store.Keys; the partial unique index keys_one_active
// (kind, algorithm) makes a concurrent second creation fail.
func (s *Store) CreateKey(ctx context.Context, k store.Key) error {
	if k.ID == "" || k.Kind == "" {
		return fmt.Errorf("%w: key needs an id and a kind", store.ErrInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO keys (id, kind, algorithm, sealed, public, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, string(k.Kind), k.Algorithm, k.Sealed, k.Public, k.CreatedAt)
	return wrap("create key", err)
}

// RotateKey implements store.Keys in one transaction.
func (s *Store) RotateKey(ctx context.Context, k store.Key, publishUntil time.Time) error {
	if k.ID == "" || k.Kind == "" {
		return fmt.Errorf("%w: key needs an id and a kind", store.ErrInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.q(ctx).Exec(ctx, `UPDATE keys SET retired_at = $2, publish_until = $3
			WHERE kind = $1 AND algorithm = $4 AND retired_at IS NULL`, string(k.Kind), k.CreatedAt, nullTime(publishUntil), k.Algorithm); err != nil {
			return wrap("retire key", err)
		}
		_, err := s.q(ctx).Exec(ctx, `INSERT INTO keys (id, kind, algorithm, sealed, public, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, string(k.Kind), k.Algorithm, k.Sealed, k.Public, k.CreatedAt)
		return wrap("insert key", err)
	})
}

// ListKeys implements store.Keys.
func (s *Store) ListKeys(ctx context.Context, kind store.KeyKind) ([]store.Key, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, kind, algorithm, sealed, public, created_at, retired_at, publish_until
		FROM keys WHERE kind = $1 ORDER BY created_at DESC, id DESC`, string(kind))
	if err != nil {
		return nil, wrap("list keys", err)
	}
	defer rows.Close()
	var out []store.Key
	for rows.Next() {
		var k store.Key
		var kindS string
		var retired, until *time.Time
		if err := rows.Scan(&k.ID, &kindS, &k.Algorithm, &k.Sealed, &k.Public, &k.CreatedAt, &retired, &until); err != nil {
			return nil, wrap("list keys", err)
		}
		k.Kind = store.KeyKind(kindS)
		k.CreatedAt = k.CreatedAt.UTC()
		if retired != nil {
			k.RetiredAt = retired.UTC()
		}
		if until != nil {
			k.PublishUntil = until.UTC()
		}
		if len(k.Public) == 0 {
			k.Public = nil
		}
		out = append(out, k)
	}
	return out, wrap("list keys", rows.Err())
}

// DeleteKey implements store.Keys.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM keys WHERE id = $1`, id)
	if err != nil {
		return wrap("delete key", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}
