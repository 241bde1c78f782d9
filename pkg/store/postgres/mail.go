package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Mail = (*Store)(nil)

const mailColumns = `id, tenant_id, request_id, child_record, parent_record, attempt_ref, kind, status, attempts,
	next_attempt_at, last_error, created_at, done_at`

func scanMail(row pgx.Row) (store.MailJob, error) {
	var j store.MailJob
	var kind, status string
	var done *time.Time
	if err := row.Scan(&j.ID, &j.TenantID, &j.RequestID, &j.ChildRecord, &j.ParentRecord, &j.AttemptRef, &kind, &status,
		&j.Attempts, &j.NextAttemptAt, &j.LastError, &j.CreatedAt, &done); err != nil {
		return store.MailJob{}, err
	}
	j.Kind, j.Status = store.MailKind(kind), store.MailStatus(status)
	j.NextAttemptAt, j.CreatedAt, j.DoneAt = j.NextAttemptAt.UTC(), j.CreatedAt.UTC(), timeOf(done)
	return j, nil
}

// EnqueueMail implements store.Mail: inside InTx the insert joins the
// transaction that opens the request. An empty status is pending, a zero
// CreatedAt now, a zero NextAttemptAt CreatedAt.
func (s *Store) EnqueueMail(ctx context.Context, j store.MailJob) error {
	if err := store.ValidateMailJob(j); err != nil {
		return err
	}
	if j.Status == "" {
		j.Status = store.MailPending
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.now()
	}
	if j.NextAttemptAt.IsZero() {
		j.NextAttemptAt = j.CreatedAt
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO mail_jobs (`+mailColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		j.ID, j.TenantID, j.RequestID, j.ChildRecord, j.ParentRecord, j.AttemptRef, string(j.Kind), string(j.Status), j.Attempts,
		microUTC(j.NextAttemptAt), j.LastError, microUTC(j.CreatedAt), nullTime(j.DoneAt))
	return wrap("enqueue mail", err)
}

// ClaimMail implements store.Mail: the oldest due jobs first, rows another
// replica is claiming skipped; NextAttemptAt becomes the end of the lease.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.MailJob, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("%w: a claim needs a positive lease", store.ErrInvalid)
	}
	rows, err := s.q(ctx).Query(ctx, `WITH due AS (
			SELECT id, next_attempt_at FROM mail_jobs
			WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, seq LIMIT $3 FOR UPDATE SKIP LOCKED),
		done AS (
			UPDATE mail_jobs m SET next_attempt_at = $2
			FROM due WHERE m.id = due.id RETURNING m.*, due.next_attempt_at AS was_due)
		SELECT `+mailColumns+` FROM done ORDER BY was_due, seq`,
		now, microUTC(now.Add(lease)), rowLimit(limit))
	if err != nil {
		return nil, wrap("claim mail", err)
	}
	defer rows.Close()
	var out []store.MailJob
	for rows.Next() {
		j, err := scanMail(rows)
		if err != nil {
			return nil, wrap("claim mail", err)
		}
		out = append(out, j)
	}
	return out, wrap("claim mail", rows.Err())
}

// FinishMail implements store.Mail: a pending job ends (ErrInactive when
// it ended already, ErrNotFound when there is none).
func (s *Store) FinishMail(ctx context.Context, id string, status store.MailStatus, at time.Time, reason string) error {
	if status != store.MailSent && status != store.MailSkipped && status != store.MailDead {
		return fmt.Errorf("%w: a mail job ends sent, skipped or dead, not %q", store.ErrInvalid, status)
	}
	if err := store.CheckText("last_error", reason, store.MaxTextLength); err != nil {
		return err
	}
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.endMail(ctx, "finish mail", `UPDATE mail_jobs SET status = $2, done_at = $3, last_error = $4, attempts = attempts + $5
		WHERE id = $1 AND status = 'pending'`, id, string(status), microUTC(at), reason, map[bool]int{true: 1}[status != store.MailSkipped])
}

// RetryMail implements store.Mail: the attempt counts in Attempts.
func (s *Store) RetryMail(ctx context.Context, id string, next time.Time, lastError string) error {
	if err := store.CheckText("last_error", lastError, store.MaxTextLength); err != nil {
		return err
	}
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	return s.endMail(ctx, "retry mail", `UPDATE mail_jobs SET next_attempt_at = $2, last_error = $3, attempts = attempts + 1
		WHERE id = $1 AND status = 'pending'`, id, microUTC(next), lastError)
}

// endMail runs an update of a pending job and tells a missing job from
// one that is not pending.
func (s *Store) endMail(ctx context.Context, what, sql string, args ...any) error {
	tag, err := s.q(ctx).Exec(ctx, sql, args...)
	if err != nil {
		return wrap(what, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mail_jobs WHERE id = $1)`, args[0]).Scan(&exists); err != nil {
		return wrap(what, err)
	}
	if !exists {
		return store.ErrNotFound
	}
	return store.ErrInactive
}

// MailOfRequest implements store.Mail.
func (s *Store) MailOfRequest(ctx context.Context, tenantID, requestID string) ([]store.MailJob, error) {
	if !store.ValidKeys(tenantID, requestID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+mailColumns+` FROM mail_jobs WHERE tenant_id = $1 AND request_id = $2 ORDER BY seq`,
		tenantID, requestID)
	if err != nil {
		return nil, wrap("mail of request", err)
	}
	defer rows.Close()
	var out []store.MailJob
	for rows.Next() {
		j, err := scanMail(rows)
		if err != nil {
			return nil, wrap("mail of request", err)
		}
		out = append(out, j)
	}
	return out, wrap("mail of request", rows.Err())
}
