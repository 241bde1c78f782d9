package postgres

import (
	"context"
	"fmt"
	"time"

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
	if s.sealer == nil {
		return store.OAuthRecord{}, ErrNoSealer
	}
	r := store.OAuthRecord{Kind: kind, Signature: sig}
	var expires *time.Time
	var sealed []byte
	var keyID string
	err := s.q(ctx).QueryRow(ctx, `SELECT request_id, client_id, tenant_id, subject, active, data, key_id, created_at, expires_at
		FROM oauth_records WHERE kind = $1 AND signature = $2`, string(kind), sig).
		Scan(&r.RequestID, &r.ClientID, &r.TenantID, &r.Subject, &r.Active, &sealed, &keyID, &r.CreatedAt, &expires)
	if err != nil {
		return store.OAuthRecord{}, wrap("get oauth record", err)
	}
	if r.Data, err = s.sealer.Open(keyID, sealed, oauthAAD(kind, sig)); err != nil {
		return store.OAuthRecord{}, fmt.Errorf("postgres: open oauth record: %w", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	if expires != nil {
		r.ExpiresAt = expires.UTC()
	}
	if !r.Active {
		return r, store.ErrInactive
	}
	return r, nil
}

// DeleteOAuthRecord implements store.OAuthRecords.
func (s *Store) DeleteOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
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
	_, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false WHERE kind = $1 AND request_id = $2 AND active`,
		string(kind), requestID)
	return wrap("deactivate oauth request", err)
}

// RevokeOAuthSubject implements store.OAuthRecords.
func (s *Store) RevokeOAuthSubject(ctx context.Context, tenantID, subject string) (int, error) {
	if subject == "" {
		return 0, nil
	}
	tag, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false
		WHERE tenant_id = $1 AND subject = $2 AND active AND kind IN ('access', 'refresh')`, tenantID, subject)
	if err != nil {
		return 0, wrap("revoke subject", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredOAuth implements store.OAuthRecords. Rows are claimed with
// FOR UPDATE SKIP LOCKED so that several replicas can run the janitor.
func (s *Store) DeleteExpiredOAuth(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM oauth_records WHERE (kind, signature) IN (
		SELECT kind, signature FROM oauth_records WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, limit)
	if err != nil {
		return 0, wrap("delete expired oauth", err)
	}
	return int(tag.RowsAffected()), nil
}
