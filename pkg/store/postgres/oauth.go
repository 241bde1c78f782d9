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

// oauthGrantAAD binds a sealed grant to its request id.
func oauthGrantAAD(requestID string) []byte {
	return []byte("oauth-grant\x00" + requestID)
}

// sealOAuth seals a record's data; a record without data (a token that
// reads its grant's) stores none.
func (s *Store) sealOAuth(r store.OAuthRecord) (string, []byte, error) {
	if len(r.Data) == 0 {
		return "", []byte{}, nil
	}
	return s.sealer.Seal(r.Data, oauthAAD(r.Kind, r.Signature))
}

// openOAuth opens a record's data, or its grant's when it has none.
func (s *Store) openOAuth(r *store.OAuthRecord, keyID string, sealed []byte, grantKey *string, grantSealed []byte) error {
	var err error
	switch {
	case len(sealed) > 0:
		r.Data, err = s.sealer.Open(keyID, sealed, oauthAAD(r.Kind, r.Signature))
	case grantKey != nil:
		r.Data, err = s.sealer.Open(*grantKey, grantSealed, oauthGrantAAD(r.RequestID))
		r.FromGrant = true
	}
	if err != nil {
		return fmt.Errorf("postgres: open oauth record: %w", err)
	}
	return nil
}

// oauthColumns are what GetOAuthRecord and GetOAuthRecordSet read of a
// record r and its grant g (joined only for a record without data).
const oauthColumns = `r.request_id, r.client_id, r.tenant_id, COALESCE(NULLIF(r.subject, ''), g.subject, ''), r.active AND g.revoked_at IS NULL, r.data, r.key_id, r.created_at, r.expires_at,
	r.rotated_at, r.successor, g.key_id, g.data`

// oauthFrom joins a record without data to its grant.
const oauthFrom = `oauth_records r LEFT JOIN oauth_grants g ON r.data = '' AND g.request_id = r.request_id`

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
	keyID, sealed, err := s.sealOAuth(r)
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
	var sealed, grantSealed []byte
	var keyID string
	var grantKey *string
	err := s.q(ctx).QueryRow(ctx, `SELECT `+oauthColumns+`
		FROM `+oauthFrom+` WHERE r.kind = $1 AND r.signature = $2`, string(kind), sig).
		Scan(&r.RequestID, &r.ClientID, &r.TenantID, &r.Subject, &r.Active, &sealed, &keyID, &r.CreatedAt, &expires,
			&rotated, &r.Successor, &grantKey, &grantSealed)
	if err != nil {
		return store.OAuthRecord{}, wrap("get oauth record", err)
	}
	if err := s.openOAuth(&r, keyID, sealed, grantKey, grantSealed); err != nil {
		return store.OAuthRecord{}, err
	}
	r.CreatedAt, r.ExpiresAt, r.RotatedAt = r.CreatedAt.UTC(), timeOf(expires), timeOf(rotated)
	if !r.Active {
		return r, store.ErrInactive
	}
	return r, nil
}

// GetOAuthGrant implements store.OAuthRecords.
func (s *Store) GetOAuthGrant(ctx context.Context, requestID string) (store.OAuthGrant, error) {
	if !store.ValidKeys(requestID) || requestID == "" {
		return store.OAuthGrant{}, store.ErrNotFound
	}
	if s.sealer == nil {
		return store.OAuthGrant{}, ErrNoSealer
	}
	g := store.OAuthGrant{RequestID: requestID}
	var expires, refreshAt, refreshExpires, revoked *time.Time
	var sealed []byte
	var keyID string
	err := s.q(ctx).QueryRow(ctx, `SELECT client_id, tenant_id, subject, data, key_id, created_at, expires_at, access,
			refresh, refresh_at, refresh_expires_at, revoked_at
		FROM oauth_grants WHERE request_id = $1`, requestID).
		Scan(&g.ClientID, &g.TenantID, &g.Subject, &sealed, &keyID, &g.CreatedAt, &expires, &g.Access,
			&g.Refresh, &refreshAt, &refreshExpires, &revoked)
	if err != nil {
		return store.OAuthGrant{}, wrap("get oauth grant", err)
	}
	if g.Data, err = s.sealer.Open(keyID, sealed, oauthGrantAAD(requestID)); err != nil {
		return store.OAuthGrant{}, fmt.Errorf("postgres: open oauth grant: %w", err)
	}
	g.CreatedAt, g.ExpiresAt = g.CreatedAt.UTC(), timeOf(expires)
	g.RefreshAt, g.RefreshExpiresAt, g.RevokedAt = timeOf(refreshAt), timeOf(refreshExpires), timeOf(revoked)
	return g, nil
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
	if kind == store.OAuthRefresh {
		// The grant first: it waits for a rotation under way, whose new
		// refresh token the next statement then sees (revokeGrant).
		if _, err := s.q(ctx).Exec(ctx, revokeGrant, requestID, s.now().UTC()); err != nil {
			return wrap("deactivate oauth request", err)
		}
	}
	_, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
		WHERE kind = $1 AND request_id = $2 AND active`,
		string(kind), requestID, s.now().UTC())
	return wrap("deactivate oauth request", err)
}

// revokeGrant marks a grant revoked and brings its expiry forward to now
// (the janitor removes it then). It takes the grant's row lock, which a
// rotation takes first too (grantRotation): a rotation under way ends before
// it, so the revocation's next statement sees the new refresh token; a
// later one finds the grant revoked and fails.
const revokeGrant = `UPDATE oauth_grants SET revoked_at = COALESCE(revoked_at, $2), expires_at = LEAST(COALESCE(expires_at, $2), $2)
	WHERE request_id = $1`

// grantRotation, the first statement of a rotation's batch, moves the
// grant on (its expiry, and its new access token's nonce when it has
// one): the update takes the grant's row lock before the refresh token's
// gate, and aborts the batch (division by zero, as an inactive gate does)
// when the grant was revoked or is gone. One statement where a locking
// SELECT and an UPDATE were two.
const grantRotation = `WITH u AS (UPDATE oauth_grants SET
		expires_at = CASE WHEN $3 <> '' THEN GREATEST(expires_at, $2) WHEN expires_at < $2 THEN $2 ELSE expires_at END,
		access = CASE WHEN $3 <> '' THEN $3 ELSE access END
	WHERE request_id = $1 AND revoked_at IS NULL RETURNING 1)
	SELECT 1 / count(*) FROM u`

// grantRefreshRotation is a batch's OAuthGrantRotation, its first
// statement: the grant's live refresh token becomes the new one only while
// it is the presented one and the grant is not revoked — the gate folded
// into the update, which takes the grant's row lock (a concurrent rotation
// of the same token waits, then finds another key and fails; revokeGrant
// says why revocation takes it too). Zero rows abort the batch (division
// by zero), as an inactive gate does. The indexed expires_at moves only
// when the grant's last token now outlives it, so that most rotations
// change no indexed column and can be HOT updates.
const grantRefreshRotation = `WITH u AS (UPDATE oauth_grants SET
		refresh = $3, refresh_at = $4, refresh_expires_at = $5,
		access = CASE WHEN $6 <> '' THEN $6 ELSE access END,
		expires_at = CASE WHEN expires_at < $7 THEN GREATEST($8, $7) ELSE expires_at END
	WHERE request_id = $1 AND refresh = $2 AND revoked_at IS NULL RETURNING 1)
	SELECT 1 / count(*) FROM u`

// RevokeOAuthSubject implements store.OAuthRecords.
func (s *Store) RevokeOAuthSubject(ctx context.Context, tenantID, subject string) (int, error) {
	if !store.ValidKeys(tenantID, subject) {
		return 0, nil
	}
	if subject == "" {
		return 0, nil
	}
	// The codes first (below), then the grants (revokeGrant says why),
	// then the tokens. A slim token row names no subject: its grant does
	// (subject <> '' lets the partial index oauth_records_subject_named
	// answer, migration 00110).
	// A grant revoked already is left as it is (its expiry is no later
	// than its revocation); the live refresh tokens the others kept count
	// as revoked tokens.
	now := s.now().UTC()
	// Codes in flight before all else: a code issued a moment before must
	// not become a grant after. Its exchange either loses here (the code
	// is inactive: invalid_grant, as a used code) or holds the code's row
	// until it commits, and then the grant statement below, which reads
	// after this one, sees the grant the exchange wrote. Codes are not
	// counted: they are not tokens yet.
	if _, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
		WHERE active AND kind = 'code' AND tenant_id = $1 AND subject = $2 AND subject <> ''`, tenantID, subject, now); err != nil {
		return 0, wrap("revoke subject", err)
	}
	var kept int64
	if err := s.q(ctx).QueryRow(ctx, `WITH u AS (UPDATE oauth_grants SET revoked_at = $3, expires_at = LEAST(COALESCE(expires_at, $3), $3)
			WHERE tenant_id = $1 AND subject = $2 AND revoked_at IS NULL RETURNING refresh, refresh_expires_at)
		SELECT count(*) FILTER (WHERE refresh <> '' AND refresh_expires_at > $3) FROM u`, tenantID, subject, now).Scan(&kept); err != nil {
		return 0, wrap("revoke subject", err)
	}
	// Two statements, each through its index: one UPDATE with an OR of the
	// two ways read the whole table.
	named, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
		WHERE active AND kind IN ('access', 'refresh') AND tenant_id = $1 AND subject = $2 AND subject <> ''`, tenantID, subject, now)
	if err != nil {
		return 0, wrap("revoke subject", err)
	}
	slim, err := s.q(ctx).Exec(ctx, `UPDATE oauth_records SET active = false, expires_at = LEAST(COALESCE(expires_at, $3), $3)
		WHERE active AND kind IN ('access', 'refresh')
			AND request_id IN (SELECT request_id FROM oauth_grants WHERE tenant_id = $1 AND subject = $2)`, tenantID, subject, now)
	if err != nil {
		return 0, wrap("revoke subject", err)
	}
	return int(kept + named.RowsAffected() + slim.RowsAffected()), nil
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
	if err := rows.Err(); err != nil {
		return nil, wrap("delete expired oauth", err)
	}
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM oauth_grants WHERE request_id IN (
		SELECT request_id FROM oauth_grants WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, limit)
	if err != nil {
		return out, wrap("delete expired oauth grants", err)
	}
	if n := int(tag.RowsAffected()); n > 0 {
		out[store.OAuthGrantKind] = n
	}
	return out, nil
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
	rows, err := s.q(ctx).Query(ctx, `SELECT r.kind, `+oauthColumns+`
		FROM `+oauthFrom+` WHERE r.signature = $1 AND r.kind = ANY($2)`, sig, ks)
	if err != nil {
		return nil, wrap("get oauth records", err)
	}
	defer rows.Close()
	out := map[store.OAuthKind]store.OAuthRecord{}
	for rows.Next() {
		r := store.OAuthRecord{Signature: sig}
		var kind, keyID string
		var sealed, grantSealed []byte
		var grantKey *string
		var expires, rotated *time.Time
		if err := rows.Scan(&kind, &r.RequestID, &r.ClientID, &r.TenantID, &r.Subject, &r.Active, &sealed, &keyID, &r.CreatedAt, &expires,
			&rotated, &r.Successor, &grantKey, &grantSealed); err != nil {
			return nil, wrap("get oauth records", err)
		}
		r.Kind = store.OAuthKind(kind)
		r.CreatedAt, r.ExpiresAt, r.RotatedAt = r.CreatedAt.UTC(), timeOf(expires), timeOf(rotated)
		if err := s.openOAuth(&r, keyID, sealed, grantKey, grantSealed); err != nil {
			return nil, err
		}
		out[r.Kind] = r
	}
	return out, wrap("get oauth records", rows.Err())
}

// asyncCommit makes the rest of its transaction commit without waiting
// for the WAL to reach the disk (WithAsyncTokenCommit); it is local to
// the transaction, and a pipelined batch is one implicit transaction.
const asyncCommit = `SELECT set_config('synchronous_commit', 'off', true)`

// commitsAsync reports whether ApplyOAuth commits b asynchronously: the
// store was asked to, b takes nothing away (store.OAuthBatch.Revokes),
// and b is its own transaction — inside a caller's, the setting would
// reach the caller's other writes.
func (s *Store) commitsAsync(ctx context.Context, b store.OAuthBatch) bool {
	return s.asyncTokens && !b.Revokes() && s.txOf(ctx) == nil
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
	if s.sealer == nil && (len(b.Create) > 0 || b.Grant != nil) {
		return ErrNoSealer
	}
	batch, err := s.oauthBatch(ctx, b)
	if err != nil {
		return err
	}
	err = s.q(ctx).SendBatch(ctx, batch).Close()
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "2201E" && b.Require != nil {
		return store.ErrUnmet // oauthRequirement's logarithm of zero rows
	}
	if !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		return wrap("apply oauth batch", err)
	}
	if r := b.GrantRotation; r != nil {
		// The grant's gate first, as its statement ran first.
		var refresh string
		var revoked bool
		qerr := s.q(ctx).QueryRow(ctx, `SELECT refresh, revoked_at IS NOT NULL FROM oauth_grants WHERE request_id = $1`, r.RequestID).
			Scan(&refresh, &revoked)
		if errors.Is(qerr, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if qerr != nil {
			return wrap("apply oauth batch", qerr)
		}
		if refresh != r.Presented || revoked || b.Gate == nil {
			return store.ErrInactive
		}
	}
	if b.Gate != nil {
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

// oauthRequirement holds a batch's requirement (store.OAuthRequirement):
// the link, active, and the consent, granted and not past its term ($5,
// the store's now), both locked FOR SHARE until the batch commits. A row
// that a concurrent transaction changes is waited for and read again as
// committed. When either is missing the count is 0,
// whose logarithm fails the batch with SQLSTATE 2201E — an error of its
// own, so that ApplyOAuth tells it from the gate's division by zero.
const oauthRequirement = `SELECT ln(count(*)) FROM (
	SELECT 1 FROM links l JOIN consents c ON c.tenant_id = l.tenant_id AND c.person_id = l.external_id
	WHERE l.tenant_id = $1 AND l.esia_oid = $2 AND l.external_id = $3 AND l.status = 'active'
		AND c.id = $4 AND c.status = 'granted' AND (c.expires_at IS NULL OR c.expires_at > $5)
	FOR SHARE OF l, c) held`

// oauthBatch queues b's statements (ApplyOAuth sends them as one
// pipelined batch, one implicit transaction), sealing what they write.
func (s *Store) oauthBatch(ctx context.Context, b store.OAuthBatch) (*pgx.Batch, error) {
	batch := &pgx.Batch{}
	if s.commitsAsync(ctx, b) {
		batch.Queue(asyncCommit)
	}
	if r := b.Require; r != nil {
		// Before the gate: a withdrawal, unlinking or suspension locks the
		// consent or link row first and the subject's codes after it, so
		// the exchange takes them in the same order (the other would
		// deadlock with it).
		batch.Queue(oauthRequirement, r.TenantID, r.ESIAOID, r.PersonID, r.ConsentID, s.now().UTC())
	}
	if r := b.GrantRotation; r != nil {
		batch.Queue(grantRefreshRotation, r.RequestID, r.Presented, r.Refresh, r.At.UTC(), nullTime(r.RefreshExpiresAt),
			r.Access, r.LastExpiry.UTC(), nullTime(r.ExpiresAt))
	}
	rotation := b.Gate != nil && b.GrantExpiry != nil && b.Grant == nil
	if rotation {
		// A rotation of a grant's token: the grant's lock first, and no
		// rotation of a revoked grant (revokeGrant).
		g := b.GrantExpiry
		batch.Queue(grantRotation, g.RequestID, g.At, g.Access)
	}
	for _, d := range b.Deactivate {
		if d.Kind == store.OAuthRefresh {
			batch.Queue(revokeGrant, d.RequestID, s.now().UTC())
		}
	}
	if g := b.Gate; g != nil {
		var rotated any
		successor := ""
		if b.Rotation != nil {
			rotated, successor = b.Rotation.At, b.Rotation.Successor
		}
		if b.Rotation != nil && b.Rotation.Remove {
			// A token that names its grant: its row goes (a DELETE
			// writes less WAL than the update that kept it).
			batch.Queue(`WITH u AS (DELETE FROM oauth_records WHERE kind = $1 AND signature = $2 AND active RETURNING 1)
				SELECT 1 / count(*) FROM u`, string(g.Kind), g.Signature)
		} else {
			// A code exchanged in the batch that writes its grant drops
			// its sealed request ($5, the grant's request id; NULL
			// otherwise): the new row version is small enough for a HOT
			// update on the code's page, and a used code reads its grant.
			var slimFor any
			if g.Kind == store.OAuthCode && b.Grant != nil {
				slimFor = b.Grant.RequestID
			}
			batch.Queue(`WITH u AS (UPDATE oauth_records SET active = false, rotated_at = $3, successor = $4,
						data = CASE WHEN request_id = $5 THEN ''::bytea ELSE data END,
						key_id = CASE WHEN request_id = $5 THEN '' ELSE key_id END
					WHERE kind = $1 AND signature = $2 AND active RETURNING 1)
				SELECT 1 / count(*) FROM u`, string(g.Kind), g.Signature, rotated, successor, slimFor)
		}
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
	if g := b.Grant; g != nil {
		created := g.CreatedAt
		if created.IsZero() {
			created = s.now()
		}
		keyID, sealed, err := s.sealer.Seal(g.Data, oauthGrantAAD(g.RequestID))
		if err != nil {
			return nil, fmt.Errorf("postgres: apply oauth batch: %w", err)
		}
		batch.Queue(`INSERT INTO oauth_grants (request_id, client_id, tenant_id, subject, data, key_id, created_at, expires_at, access,
				refresh, refresh_at, refresh_expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`, g.RequestID, g.ClientID, g.TenantID, g.Subject, sealed, keyID, created,
			nullTime(g.ExpiresAt), g.Access, g.Refresh, nullTime(g.RefreshAt), nullTime(g.RefreshExpiresAt))
	}
	if g := b.GrantExpiry; g != nil && !rotation {
		if g.Access != "" {
			batch.Queue(`UPDATE oauth_grants SET expires_at = GREATEST(expires_at, $2), access = $3 WHERE request_id = $1 AND revoked_at IS NULL`,
				g.RequestID, g.At, g.Access)
		} else {
			batch.Queue(`UPDATE oauth_grants SET expires_at = $2 WHERE request_id = $1 AND expires_at < $2 AND revoked_at IS NULL`, g.RequestID, g.At)
		}
	}
	for _, r := range b.Create {
		if r.Kind == "" || r.Signature == "" {
			return nil, fmt.Errorf("%w: oauth record needs a kind and a signature", store.ErrInvalid)
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = s.now()
		}
		keyID, sealed, err := s.sealOAuth(r)
		if err != nil {
			return nil, fmt.Errorf("postgres: apply oauth batch: %w", err)
		}
		batch.Queue(`INSERT INTO oauth_records
			(kind, signature, request_id, client_id, tenant_id, subject, active, data, key_id, created_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
			string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.TenantID, r.Subject, r.Active, sealed, keyID, r.CreatedAt, nullTime(r.ExpiresAt))
	}
	return batch, nil
}
