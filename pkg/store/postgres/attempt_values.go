package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Rechecks = (*Store)(nil)

// attemptValuesAAD binds sealed attempt values to their attempt.
func attemptValuesAAD(tenantID, ref string) []byte {
	return []byte("attempt_values\x00" + tenantID + "\x00" + ref)
}

// KeepAttemptValues implements store.Rechecks: the values are sealed and
// written only when the attempt exists in the tenant (one statement).
func (s *Store) KeepAttemptValues(ctx context.Context, v store.AttemptValues) error {
	if err := store.ValidateAttemptValues(v); err != nil {
		return err
	}
	if s.sealer == nil {
		return ErrNoSealer
	}
	keyID, sealed, err := s.sealer.Seal(v.Data, attemptValuesAAD(v.TenantID, v.Ref))
	if err != nil {
		return fmt.Errorf("postgres: keep attempt values: %w", err)
	}
	at := v.KeptAt
	if at.IsZero() {
		at = s.now()
	}
	tag, err := s.q(ctx).Exec(ctx, `INSERT INTO attempt_values (ref, tenant_id, kept_at, data, key_id)
		SELECT ref, tenant_id, $3, $4, $5 FROM attempts WHERE ref = $1 AND tenant_id = $2
		ON CONFLICT (ref) DO UPDATE SET kept_at = EXCLUDED.kept_at, data = EXCLUDED.data,
			key_id = EXCLUDED.key_id, destroyed_at = NULL`,
		v.Ref, v.TenantID, microUTC(at), sealed, keyID)
	if err != nil {
		return wrap("keep attempt values", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// GetAttemptValues implements store.Rechecks.
func (s *Store) GetAttemptValues(ctx context.Context, ref string) (store.AttemptValues, error) {
	if !store.ValidKeys(ref) {
		return store.AttemptValues{}, store.ErrNotFound
	}
	v := store.AttemptValues{Ref: ref}
	var sealed []byte
	var keyID string
	var destroyed *time.Time
	err := s.q(ctx).QueryRow(ctx, `SELECT tenant_id, kept_at, data, key_id, destroyed_at FROM attempt_values WHERE ref = $1`, ref).
		Scan(&v.TenantID, &v.KeptAt, &sealed, &keyID, &destroyed)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AttemptValues{}, store.ErrNotFound
	}
	if err != nil {
		return store.AttemptValues{}, wrap("get attempt values", err)
	}
	v.KeptAt, v.DestroyedAt = v.KeptAt.UTC(), timeOf(destroyed)
	if sealed != nil {
		if s.sealer == nil {
			return store.AttemptValues{}, ErrNoSealer
		}
		if v.Data, err = s.sealer.Open(keyID, sealed, attemptValuesAAD(v.TenantID, ref)); err != nil {
			return store.AttemptValues{}, fmt.Errorf("postgres: open attempt values: %w", err)
		}
	}
	return v, nil
}

// DestroyAttemptValues implements store.Rechecks: one statement claims
// the due rows with their partial index and clears their data.
func (s *Store) DestroyAttemptValues(ctx context.Context, tenantID string, before, at time.Time, limit int) ([]string, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `WITH due AS (
			SELECT ref FROM attempt_values WHERE tenant_id = $1 AND data IS NOT NULL AND kept_at < $2
			ORDER BY kept_at, ref LIMIT $3 FOR UPDATE SKIP LOCKED)
		UPDATE attempt_values v SET data = NULL, key_id = '', destroyed_at = $4
		FROM due WHERE v.ref = due.ref RETURNING v.ref`,
		tenantID, before, rowLimit(limit), microUTC(at))
	refs, err := collectStrings(rows, err)
	return refs, wrap("destroy attempt values", err)
}
