package store

import (
	"context"
	"time"
)

// MailKind is why someone is written to: a parent about a consent
// request, or the person who reported a failed login about its ticket.
type MailKind string

// Mail kinds.
const (
	// MailRequested: a consent request opened for the parent's child.
	MailRequested MailKind = "requested"
	// MailReminder: the request is still open and expires soon.
	MailReminder MailKind = "reminder"
	// MailTicketResolved: support resolved the ticket of a person who left
	// an e-mail address on the failed-login page. The job's RequestID is
	// the ticket's id, its AttemptRef the ticket's reference code, and it
	// names no roster record: the address is the ticket's (sealed) contact,
	// read when the job is sent.
	MailTicketResolved MailKind = "ticket_resolved"
)

// MailStatus is where a mail job is.
type MailStatus string

// Mail job states.
const (
	MailPending MailStatus = "pending"
	MailSent    MailStatus = "sent"
	// MailSkipped: nothing to send — no e-mail in the parent's record, the
	// request closed meanwhile, or the address's rate limit (LastError says
	// which).
	MailSkipped MailStatus = "skipped"
	MailDead    MailStatus = "dead" // gave up after the last attempt
)

// MailJob is one e-mail to a parent about a consent request, written in
// the transaction that opens the request and sent at least once
// afterwards (an outbox, as OutboxEvent is for webhooks). It names the
// parent's roster record, never the address: the address is read from the
// roster when the job is sent, so that none is stored twice.
type MailJob struct {
	ID           string // UUID
	TenantID     string
	RequestID    string
	ChildRecord  string // the child's roster record (external id)
	ParentRecord string // the parent's roster record (external id)
	// AttemptRef is the reference code of the child's login that opened
	// the request: support sees the outcome among its events.
	AttemptRef    string
	Kind          MailKind
	Status        MailStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     string // the last failure or the reason of a skip, never an address
	CreatedAt     time.Time
	DoneAt        time.Time
}

// Mail stores e-mail jobs until they are sent.
type Mail interface {
	// EnqueueMail adds a job; inside InTx it commits with the change.
	EnqueueMail(ctx context.Context, j MailJob) error
	// ClaimMail takes up to limit pending jobs due at now, leasing them
	// until now+lease (FOR UPDATE SKIP LOCKED in PostgreSQL).
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]MailJob, error)
	// FinishMail ends a job as sent, skipped or dead, with the reason.
	FinishMail(ctx context.Context, id string, status MailStatus, at time.Time, reason string) error
	// RetryMail records a failed attempt; the job is due again at next.
	RetryMail(ctx context.Context, id string, next time.Time, lastError string) error
	// MailOfRequest lists a request's jobs, oldest first.
	MailOfRequest(ctx context.Context, tenantID, requestID string) ([]MailJob, error)
}

// ValidMailStatus reports whether st is a mail job state.
func ValidMailStatus(st MailStatus) bool {
	return st == MailPending || st == MailSent || st == MailSkipped || st == MailDead
}

// ValidateMailJob checks what every store requires of a mail job (a
// *FieldError otherwise).
func ValidateMailJob(j MailJob) error {
	switch {
	case j.ID == "":
		return required("id")
	case j.TenantID == "":
		return required("tenant_id")
	case j.RequestID == "":
		return required("request_id")
	case j.ParentRecord == "" && j.Kind != MailTicketResolved:
		return required("parent_record")
	case j.Kind != MailRequested && j.Kind != MailReminder && j.Kind != MailTicketResolved:
		return &FieldError{Field: "kind", Problem: "is not requested, reminder or ticket_resolved"}
	case j.Status != "" && !ValidMailStatus(j.Status):
		return &FieldError{Field: "status", Problem: "is not a mail job state"}
	}
	return check(
		CheckID("id", j.ID), CheckID("tenant_id", j.TenantID), CheckID("request_id", j.RequestID),
		CheckID("child_record", j.ChildRecord), CheckID("parent_record", j.ParentRecord),
		CheckText("attempt_ref", j.AttemptRef, MaxWordLength),
		CheckText("last_error", j.LastError, MaxTextLength),
	)
}
