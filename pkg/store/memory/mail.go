package memory

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Mail = (*Store)(nil)

// mailRow is a stored mail job and its insertion order.
type mailRow struct {
	j   store.MailJob
	seq int64
}

// EnqueueMail implements store.Mail. Inside InTx the job is undone with
// the transaction. An empty status is pending, a zero CreatedAt now, a
// zero NextAttemptAt CreatedAt.
func (s *Store) EnqueueMail(ctx context.Context, j store.MailJob) error {
	if err := store.ValidateMailJob(j); err != nil {
		return err
	}
	if j.Status == "" {
		j.Status = store.MailPending
	}
	defer s.write(ctx)()
	if err := s.checkTenant(j.TenantID, "mail job"); err != nil {
		return err
	}
	if s.mail == nil {
		s.mail = map[string]mailRow{}
	}
	if _, ok := s.mail[j.ID]; ok {
		return store.ErrAlreadyExists
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.now()
	}
	if j.NextAttemptAt.IsZero() {
		j.NextAttemptAt = j.CreatedAt
	}
	j.CreatedAt, j.NextAttemptAt, j.DoneAt = microUTC(j.CreatedAt), microUTC(j.NextAttemptAt), microUTC(j.DoneAt)
	s.mail[j.ID] = mailRow{j: j, seq: s.nextSeq()}
	s.onUndo(ctx, func() { delete(s.mail, j.ID) })
	return nil
}

// ClaimMail implements store.Mail: the oldest due jobs first;
// NextAttemptAt becomes the end of the lease.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.MailJob, error) {
	if lease <= 0 {
		return nil, fmt.Errorf("%w: a claim needs a positive lease", store.ErrInvalid)
	}
	now, limit = microUTC(now), rowLimit(limit)
	until := microUTC(now.Add(lease))
	defer s.write(ctx)()
	var due []mailRow
	for _, r := range s.mail {
		if r.j.Status == store.MailPending && !r.j.NextAttemptAt.After(now) {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, k int) bool {
		if !due[i].j.NextAttemptAt.Equal(due[k].j.NextAttemptAt) {
			return due[i].j.NextAttemptAt.Before(due[k].j.NextAttemptAt)
		}
		return due[i].seq < due[k].seq
	})
	var out []store.MailJob
	for _, old := range due[:min(len(due), limit)] {
		r := old
		r.j.NextAttemptAt = until
		s.mail[r.j.ID] = r
		s.onUndo(ctx, func() { s.mail[old.j.ID] = old })
		out = append(out, r.j)
	}
	return out, nil
}

// FinishMail implements store.Mail.
func (s *Store) FinishMail(ctx context.Context, id string, status store.MailStatus, at time.Time, reason string) error {
	if status != store.MailSent && status != store.MailSkipped && status != store.MailDead {
		return fmt.Errorf("%w: a mail job ends sent, skipped or dead, not %q", store.ErrInvalid, status)
	}
	if err := store.CheckText("last_error", reason, store.MaxTextLength); err != nil {
		return err
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.updateMail(ctx, id, func(j *store.MailJob) {
		j.Status, j.DoneAt, j.LastError = status, microUTC(at), reason
		if status != store.MailSkipped {
			j.Attempts++
		}
	})
}

// RetryMail implements store.Mail.
func (s *Store) RetryMail(ctx context.Context, id string, next time.Time, lastError string) error {
	if err := store.CheckText("last_error", lastError, store.MaxTextLength); err != nil {
		return err
	}
	return s.updateMail(ctx, id, func(j *store.MailJob) {
		j.NextAttemptAt, j.LastError = microUTC(next), lastError
		j.Attempts++
	})
}

// updateMail changes a pending job.
func (s *Store) updateMail(ctx context.Context, id string, f func(*store.MailJob)) error {
	if !store.ValidKeys(id) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.mail[id]
	if !ok {
		return store.ErrNotFound
	}
	if old.j.Status != store.MailPending {
		return store.ErrInactive
	}
	r := old
	f(&r.j)
	s.mail[id] = r
	s.onUndo(ctx, func() { s.mail[id] = old })
	return nil
}

// MailOfRequest implements store.Mail.
func (s *Store) MailOfRequest(ctx context.Context, tenantID, requestID string) ([]store.MailJob, error) {
	defer s.read(ctx)()
	var rows []mailRow
	for _, r := range s.mail {
		if r.j.TenantID == tenantID && r.j.RequestID == requestID {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, k int) bool { return rows[i].seq < rows[k].seq })
	var out []store.MailJob
	for _, r := range rows {
		out = append(out, r.j)
	}
	return out, nil
}
