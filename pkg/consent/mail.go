package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// reminderBefore is how long before a request expires the parents are
// reminded; a request shorter than twice that is reminded half-way.
const reminderBefore = 3 * 24 * time.Hour

// enqueueMail writes, in the transaction that opens request r, a mail job
// per parent the request is addressed to — now, and a reminder before it
// expires — when e-mail is on. Whether a parent has an address is decided
// when the job is sent.
func (s *Service) enqueueMail(ctx context.Context, r store.ConsentRequest, ref string) error {
	if !s.Mail {
		return nil
	}
	remind := r.ExpiresAt.Add(-reminderBefore)
	if life := r.ExpiresAt.Sub(r.CreatedAt); life < 2*reminderBefore {
		remind = r.CreatedAt.Add(life / 2)
	}
	for _, p := range r.Parents {
		for _, j := range []store.MailJob{
			{Kind: store.MailRequested, NextAttemptAt: r.CreatedAt},
			{Kind: store.MailReminder, NextAttemptAt: remind},
		} {
			j.ID, j.TenantID, j.RequestID, j.ChildRecord, j.ParentRecord, j.AttemptRef, j.CreatedAt =
				newID(), r.TenantID, r.ID, r.PersonID, p, ref, r.CreatedAt
			if err := s.Store.EnqueueMail(ctx, j); err != nil {
				return fmt.Errorf("consent: mail job: %w", err)
			}
		}
	}
	return nil
}

// MailStore is what the Notifier reads and updates.
type MailStore interface {
	store.Mail
	store.Tenants
	GetPerson(ctx context.Context, tenantID, externalID string) (store.Person, error)
	GetRequest(ctx context.Context, tenantID, id string) (store.ConsentRequest, error)
	// TicketInScope reads a support ticket (for MailTicketResolved).
	TicketInScope(ctx context.Context, sc store.Scope, id string) (store.Ticket, error)
}

// Mailer sends one plain-text e-mail in Russian.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Notifier sends the mail jobs: the parent's address is read from the
// roster, the text names nothing personal but the child's first name, a
// request closed meanwhile (granted, expired) sends nothing, and each
// address gets at most PerAddress e-mails a day. Safe on every replica.
type Notifier struct {
	Store  MailStore
	Mailer Mailer
	// ParentURL is the full address of a tenant's parent page.
	ParentURL func(tenantID string) string
	// Allow counts one e-mail to the address key (a hash, never the
	// address) and reports whether it is within the limit.
	Allow func(ctx context.Context, key string) (bool, error)
	// Observe counts an outcome: sent, no_address, closed, rate_limited,
	// failed (retried), dead.
	Observe func(kind store.MailKind, outcome string)
	// Record notes an outcome among the events of the login attempt ref,
	// for support (no address).
	Record func(ctx context.Context, ref string, detail map[string]any)
	Now    func() time.Time
	Logger *slog.Logger
}

// mailAttempts is how many times a job is tried before it is dead.
const mailAttempts = 6

// RunOnce sends the due jobs, up to a batch, and returns how many it
// handled.
func (n *Notifier) RunOnce(ctx context.Context) (int, error) {
	now := n.Now().UTC()
	jobs, err := n.Store.ClaimMail(ctx, now, 5*time.Minute, 50)
	if err != nil {
		return 0, fmt.Errorf("consent: claim mail: %w", err)
	}
	for _, j := range jobs {
		n.send(ctx, j, now)
	}
	return len(jobs), nil
}

func (n *Notifier) send(ctx context.Context, j store.MailJob, now time.Time) {
	outcome, reason := n.deliver(ctx, j, now)
	var err error
	switch outcome {
	case "sent":
		err = n.Store.FinishMail(ctx, j.ID, store.MailSent, now, "")
	case "failed":
		if j.Attempts+1 >= mailAttempts {
			outcome = "dead"
			err = n.Store.FinishMail(ctx, j.ID, store.MailDead, now, reason)
		} else {
			err = n.Store.RetryMail(ctx, j.ID, now.Add(time.Duration(1<<j.Attempts)*5*time.Minute), reason)
		}
	default:
		err = n.Store.FinishMail(ctx, j.ID, store.MailSkipped, now, outcome)
	}
	if err != nil {
		n.Logger.ErrorContext(ctx, "mail job not updated", "job", j.ID, "error", err)
	}
	if n.Observe != nil {
		n.Observe(j.Kind, outcome)
	}
	if n.Record != nil && j.AttemptRef != "" {
		detail := map[string]any{"kind": j.Kind, "parent": j.ParentRecord, "request_id": j.RequestID, "outcome": outcome}
		if reason != "" {
			detail["error"] = reason
		}
		n.Record(ctx, j.AttemptRef, detail)
	}
	n.Logger.InfoContext(ctx, "mail to a parent", "job", j.ID, "kind", j.Kind, "outcome", outcome, "ref", j.AttemptRef)
}

// deliver sends one job and says how it went (reason: a failure's, never
// an address).
func (n *Notifier) deliver(ctx context.Context, j store.MailJob, now time.Time) (outcome, reason string) {
	if j.Kind == store.MailTicketResolved {
		return n.deliverTicket(ctx, j)
	}
	req, err := n.Store.GetRequest(ctx, j.TenantID, j.RequestID)
	if errors.Is(err, store.ErrNotFound) {
		return "closed", ""
	}
	if err != nil {
		return "failed", "request unavailable"
	}
	if req.Status != store.RequestOpen || pastTime(req, now) {
		return "closed", ""
	}
	parent, err := n.Store.GetPerson(ctx, j.TenantID, j.ParentRecord)
	if errors.Is(err, store.ErrNotFound) {
		return "no_address", ""
	}
	if err != nil {
		return "failed", "parent record unavailable"
	}
	to := EmailOf(parent)
	if to == "" {
		return "no_address", ""
	}
	if outcome, reason := n.allow(ctx, to); outcome != "" {
		return outcome, reason
	}
	t, err := n.Store.GetTenant(ctx, j.TenantID)
	if err != nil {
		return "failed", "tenant unavailable"
	}
	child := ""
	if c, err := n.Store.GetPerson(ctx, j.TenantID, req.PersonID); err == nil {
		child = strings.TrimSpace(c.FirstName)
	}
	subject, body := mailText(j.Kind, t, child, n.ParentURL(t.ID), req.ExpiresAt)
	if err := n.Mailer.Send(ctx, to, subject, body); err != nil {
		return "failed", mailError(err, to)
	}
	return "sent", ""
}

// allow counts one e-mail to the address against its daily limit: "" when
// it may go, else the outcome (rate_limited, or failed with its reason).
func (n *Notifier) allow(ctx context.Context, to string) (outcome, reason string) {
	if n.Allow == nil {
		return "", ""
	}
	ok, err := n.Allow(ctx, addressKey(to))
	switch {
	case err != nil:
		return "failed", "rate limit unavailable"
	case !ok:
		return "rate_limited", ""
	}
	return "", ""
}

// EmailOf is the first e-mail contact of a roster record, "" without one.
func EmailOf(p store.Person) string {
	for _, c := range p.Contacts {
		if strings.EqualFold(c.Type, "email") && strings.Contains(c.Value, "@") {
			return strings.TrimSpace(c.Value)
		}
	}
	return ""
}

// addressKey is the rate limit's key of an address: a hash, so that the
// sessions store keeps no address.
func addressKey(addr string) string {
	sum := sha256.Sum256([]byte("broker mail\x00" + strings.ToLower(addr)))
	return "mail-rate:" + hex.EncodeToString(sum[:12])
}

// mailError is a sending failure without the address (SMTP servers quote
// it in their answers).
func mailError(err error, to string) string {
	msg := strings.ReplaceAll(err.Error(), to, "<адрес>")
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// mailText is the e-mail: the child's first name, the diary's name, the
// link and the date — nothing else personal.
func mailText(kind store.MailKind, t store.Tenant, child, link string, expires time.Time) (subject, body string) {
	who := "Ваш ребёнок"
	if child != "" {
		who = child
	}
	until := expires.In(t.Location()).Format("02.01.2006")
	subject = "Нужно ваше согласие: " + who + " входит в электронный дневник"
	first := fmt.Sprintf("%s хочет входить в электронный дневник «%s». Для этого нужно согласие одного из родителей на обработку персональных данных ребёнка.", who, t.DisplayName)
	if kind == store.MailReminder {
		subject = "Напоминание: " + subject
		first = fmt.Sprintf("Напоминаем: %s всё ещё ждёт согласия одного из родителей, чтобы входить в электронный дневник «%s».", who, t.DisplayName)
	}
	body = strings.Join([]string{
		"Здравствуйте!",
		"",
		first,
		"",
		"Откройте страницу согласий, войдите через Госуслуги и нажмите «Дать согласие» (или «Отказать»):",
		link,
		"",
		"Просьба действует до " + until + ". Если согласие уже дал другой родитель, ничего делать не нужно.",
		"",
		"Это письмо отправлено автоматически, отвечать на него не нужно. Адрес электронной почты взят из электронного дневника школы.",
	}, "\r\n")
	return subject, body
}
