package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/diarybroker/broker/pkg/store"
)

// oauthAAD binds a sealed OAuth record to its kind and signature.
func oauthAAD(kind store.OAuthKind, sig string) []byte {
	return []byte("oauth\x00" + string(kind) + "\x00" + sig)
}

// CreateOAuthRecord implements store.OAuthRecords. The request data holds
// the claims given to the diary (names, with the profile scope), so it is
// sealed like roster personal data.
func (s *Store) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	if err := store.ValidateOAuthRecord(r); err != nil {
		return err
	}
	if r.Kind == "" || r.Signature == "" {
		return fmt.Errorf("%w: oauth record needs a kind and a signature", store.ErrInvalid)
	}
	if s.sealer == nil {
		return ErrNoSealer
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	keyID, sealed, err := s.sealer.Seal(r.Data, oauthAAD(r.Kind, r.Signature))
	if err != nil {
		return fmt.Errorf("postgres: create oauth record: %w", err)
	}
	_, err = s.q(ctx).Exec(ctx, `INSERT INTO oauth_records
		(kind, signature, request_id, client_id, tenant_id, subject, active, data, key_id, created_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.TenantID, r.Subject, r.Active, sealed, keyID, r.CreatedAt, nullTime(r.ExpiresAt))
	return wrap("create oauth record", err)
}

// GetOAuthRecord implements store.OAuthRecords.
func (s *Store) GetOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) (store.OAuthRecord, error) {
	if !store.ValidKeys(sig) {
		return store.OAuthRecord{}, store.ErrNotFound
	}
	if s.sealer == nil {
		return store.OAuthRecord{}, ErrNoSealer
	}
	r := store.OAuthRecord{Kind: kind, Signature: sig}
	var expires, rotated *time.Time
	var sealed []byte
	var keyID string
	err := s.q(ctx).QueryRow(ctx, `SELECT request_id, client_id, tenant_id, subject, active, data, key_id, created_at, expires_at,
			rotated_at, successor
		FROM oauth_records WHERE kind = $1 AND signature = $2`, string(kind), sig).
		Scan(&r.RequestID, &r.ClientID, &r.TenantID, &r.Subject, &r.Active, &sealed, &keyID, &r.CreatedAt, &expires,
			&rotated, &r.Successor)
	if err != nil {
		return store.OAuthRecord{}, wrap("get oauth record", err)
	}
	if r.Data, err = s.sealer.Open(keyID, sealed, oauthAAD(kind, sig)); err != nil {
		return store.OAuthRecord{}, fmt.Errorf("postgres: open oauth record: %w", err)
	}
	r.CreatedAt, r.ExpiresAt, r.RotatedAt = r.CreatedAt.UTC(), timeOf(expires), timeOf(rotated)
	if !r.Active {
		return r, store.ErrInactive
	}
	return r, nil
}

// DeleteOAuthRecord implements store.OAuthRecords.
func (s *Store) DeleteOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
	if !store.ValidKeys(sig) {
		return store.ErrNotFound
	}
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM oauth_records WHERE kind = $1 AND signature = $2`, string(kind), sig)
	if err != nil {
		return wrap("delete oauth record", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// DeactivateOAuthRecord implements store.OAuthRecords. The conditional
// update is atomic: a concurrent second call waits for the first's row
// lock, then finds the record inactive.
func (s *Store) DeactivateOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
	if !store.ValidKeys(sig) {
		return store.ErrNotFound
	}
	var active bool
	err := s.q(ctx).QueryRow(ctx, `WITH u AS (
			UPDATE oauth_records SET active = false WHERE kind = $1 AND signature = $2 AND active RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM u)`, string(kind), sig).Scan(&active)
	if err != nil {
		return wrap("deactivate oauth record", err)
	}
	if active {
		return nil
	}
	var exists bool
	if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM oauth_records WHERE kind = $1 AND signature = $2)`,
		string(kind), sig).Scan(&exists); err != nil {
		return wrap("deactivate oauth record", err)
	}
	if !exists {
		return store.ErrNotFound
	}
	return store.ErrInactive
}

// DeactivateOAuthRequest implements store.OAuthRecords.
func (s *Store) DeactivateOAuthRequest(ctx context.Context, kind store.OAuthKind, requestID string) error {
	if !store.ValidKeys(requestID) {
		return nil
	}
	_, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
		WHERE kind = $1 AND request_id = $2 AND active`,
		string(kind), requestID, s.now().UTC())
	return wrap("deactivate oauth request", err)
}

// RevokeOAuthSubject implements store.OAuthRecords.
func (s *Store) RevokeOAuthSubject(ctx context.Context, tenantID, subject string) (int, error) {
	if !store.ValidKeys(tenantID, subject) {
		return 0, nil
	}
	if subject == "" {
		return 0, nil
	}
	tag, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
		WHERE tenant_id = $1 AND subject = $2 AND active AND kind IN ('access', 'refresh')`, tenantID, subject, s.now().UTC())
	if err != nil {
		return 0, wrap("revoke subject", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredOAuth implements store.OAuthRecords. Rows are claimed with
// FOR UPDATE SKIP LOCKED (through the expiry index) so that several
// replicas can run the janitor, and counted by kind in the same statement.
func (s *Store) DeleteExpiredOAuth(ctx context.Context, before time.Time, limit int) (map[store.OAuthKind]int, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.q(ctx).Query(ctx, `WITH d AS (
			DELETE FROM oauth_records WHERE (kind, signature) IN (
				SELECT kind, signature FROM oauth_records WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING kind)
		SELECT kind, count(*) FROM d GROUP BY kind`, before, limit)
	if err != nil {
		return nil, wrap("delete expired oauth", err)
	}
	defer rows.Close()
	out := map[store.OAuthKind]int{}
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, wrap("delete expired oauth", err)
		}
		out[store.OAuthKind(kind)] = n
	}
	return out, wrap("delete expired oauth", rows.Err())
}

// GetOAuthRecordSet implements store.OAuthRecords in one query.
func (s *Store) GetOAuthRecordSet(ctx context.Context, sig string, kinds []store.OAuthKind) (map[store.OAuthKind]store.OAuthRecord, error) {
	if !store.ValidKeys(sig) {
		return map[store.OAuthKind]store.OAuthRecord{}, nil
	}
	if s.sealer == nil {
		return nil, ErrNoSealer
	}
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT kind, request_id, client_id, tenant_id, subject, active, data, key_id, created_at, expires_at,
			rotated_at, successor
		FROM oauth_records WHERE signature = $1 AND kind = ANY($2)`, sig, ks)
	if err != nil {
		return nil, wrap("get oauth records", err)
	}
	defer rows.Close()
	out := map[store.OAuthKind]store.OAuthRecord{}
	for rows.Next() {
		r := store.OAuthRecord{Signature: sig}
		var kind, keyID string
		var sealed []byte
		var expires, rotated *time.Time
		if err := rows.Scan(&kind, &r.RequestID, &r.ClientID, &r.TenantID, &r.Subject, &r.Active, &sealed, &keyID, &r.CreatedAt, &expires,
			&rotated, &r.Successor); err != nil {
			return nil, wrap("get oauth records", err)
		}
		r.Kind = store.OAuthKind(kind)
		r.CreatedAt, r.ExpiresAt, r.RotatedAt = r.CreatedAt.UTC(), timeOf(expires), timeOf(rotated)
		if r.Data, err = s.sealer.Open(keyID, sealed, oauthAAD(r.Kind, sig)); err != nil {
			return nil, fmt.Errorf("postgres: open oauth record: %w", err)
		}
		out[r.Kind] = r
	}
	return out, wrap("get oauth records", rows.Err())
}

// ApplyOAuth implements store.OAuthRecords as one pipelined batch: the
// statements travel in one round trip and run in one implicit transaction.
// The gate statement divides by the number of rows it deactivated, so an
// inactive gate aborts the whole batch (division_by_zero).
func (s *Store) ApplyOAuth(ctx context.Context, b store.OAuthBatch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	if s.sealer == nil && len(b.Create) > 0 {
		return ErrNoSealer
	}
	batch := &pgx.Batch{}
	if g := b.Gate; g != nil {
		var rotated any
		successor := ""
		if b.Rotation != nil {
			rotated, successor = b.Rotation.At, b.Rotation.Successor
		}
		batch.Queue(`WITH u AS (UPDATE oauth_records SET active = false, rotated_at = $3, successor = $4
				WHERE kind = $1 AND signature = $2 AND active RETURNING 1)
			SELECT 1 / count(*) FROM u`, string(g.Kind), g.Signature, rotated, successor)
	}
	for _, d := range b.Deactivate {
		batch.Queue(`UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
			WHERE kind = $1 AND request_id = $2 AND active`, string(d.Kind), d.RequestID, s.now().UTC())
	}
	for _, d := range b.DeleteRequests {
		batch.Queue(`DELETE FROM oauth_records WHERE kind = $1 AND request_id = $2`, string(d.Kind), d.RequestID)
	}
	for _, d := range b.Delete {
		batch.Queue(`DELETE FROM oauth_records WHERE kind = $1 AND signature = $2`, string(d.Kind), d.Signature)
	}
	for _, r := range b.Create {
		if r.Kind == "" || r.Signature == "" {
			return fmt.Errorf("%w: oauth record needs a kind and a signature", store.ErrInvalid)
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = s.now()
		}
		keyID, sealed, err := s.sealer.Seal(r.Data, oauthAAD(r.Kind, r.Signature))
		if err != nil {
			return fmt.Errorf("postgres: apply oauth batch: %w", err)
		}
		batch.Queue(`INSERT INTO oauth_records
			(kind, signature, request_id, client_id, tenant_id, subject, active, data, key_id, created_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
			string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.TenantID, r.Subject, r.Active, sealed, keyID, r.CreatedAt, nullTime(r.ExpiresAt))
	}
	err := s.q(ctx).SendBatch(ctx, batch).Close()
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if b.Gate != nil && errors.As(err, &pgErr) && pgErr.Code == "22012" {
		var exists bool
		if qerr := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM oauth_records WHERE kind = $1 AND signature = $2)`,
			string(b.Gate.Kind), b.Gate.Signature).Scan(&exists); qerr != nil {
			return wrap("apply oauth batch", qerr)
		}
		if !exists {
			return store.ErrNotFound
		}
		return store.ErrInactive
	}
	return wrap("apply oauth batch", err)
}
