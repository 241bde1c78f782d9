package support

import (
	"github.com/google/uuid"

	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// The audit actions of the support tickets; the target is the ticket id.
const (
	AuditReadTicket    = "read_ticket"
	AuditAssignTicket  = "assign_ticket"
	AuditCommentTicket = "comment_ticket"
	AuditResolveTicket = "resolve_ticket"
)

// Errors of filing a ticket.
var (
	// ErrTicketOpen: the reference code has a ticket that is not resolved
	// yet; nothing was stored.
	ErrTicketOpen = errors.New("support: the reference code has an open ticket")
	// ErrBadContact: the contact is neither an e-mail address nor a phone
	// number.
	ErrBadContact = errors.New("support: the contact is not an e-mail address or a phone number")
	// ErrBadComment: the comment is too long or has characters a text
	// cannot have.
	ErrBadComment = errors.New("support: the comment is too long or malformed")
)

// reportable are the failures whose page offers «Сообщить о проблеме».
var reportable = map[string]bool{login.ReasonNotFound: true, login.ReasonAmbiguous: true, login.ReasonConflict: true}

// Reportable reports whether the page of a login that failed with reason
// offers to report the problem.
func Reportable(reason string) bool { return reportable[reason] }

// Desk files the tickets of the failed-login pages and lets staff work
// them in the console; every staff read and change is audited with the
// staff member's grant as the actor (StaffActor).
type Desk struct {
	Store interface {
		store.Tickets
		store.Attempts
		store.Audit
		store.Transactor
		EnqueueMail(ctx context.Context, j store.MailJob) error
		GetPerson(ctx context.Context, tenantID, externalID string) (store.Person, error)
	}
	Now func() time.Time
	// Mail, when true (the broker sends e-mail), has a resolution e-mailed
	// to the reporter who left an address: a mail job written with the
	// resolution, sent by the consent package's Notifier.
	Mail bool
	// NewID makes a mail job's id (nil: a random one).
	NewID func() string
}

func (d *Desk) newID() string {
	if d.NewID != nil {
		return d.NewID()
	}
	return uuid.NewString()
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// maxRoutedRecords bounds the records whose schools a ticket is routed to.
const maxRoutedRecords = 50

// File opens a ticket for the failed login ref (not_found, ambiguous or
// conflict; ErrNotFound for any other code) with what the reporter wrote:
// contact, an e-mail address or a phone number, and comment, both
// optional. The ticket goes to the schools of the attempt's candidate
// records, or to the tenant's queue when it named none. ErrTicketOpen when
// the code has an open ticket already.
func (d *Desk) File(ctx context.Context, ref, contact, comment string) (store.Ticket, error) {
	r, err := login.ParseRef(ref)
	if err != nil {
		return store.Ticket{}, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	contact, err = NormaliseContact(contact)
	if err != nil {
		return store.Ticket{}, err
	}
	comment = strings.TrimSpace(strings.ReplaceAll(comment, "\r\n", "\n"))
	if utf8.RuneCountInString(comment) > store.MaxTicketComment || store.CheckMultiline("comment", comment, store.MaxTicketComment) != nil {
		return store.Ticket{}, ErrBadComment
	}
	a, err := d.Store.GetAttempt(ctx, r)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("support: ticket: attempt: %w", err)
	}
	if a.TenantID == "" || !(reportable[a.Reason] || reportable[a.Outcome]) {
		return store.Ticket{}, ErrNotFound
	}
	schools, err := d.schoolsOf(ctx, a)
	if err != nil {
		return store.Ticket{}, err
	}
	reason := a.Reason
	if !reportable[reason] {
		reason = a.Outcome
	}
	t := store.Ticket{ID: "tkt-" + strings.ToLower(rand.Text()), TenantID: a.TenantID, Ref: a.Ref, Reason: reason, Schools: schools,
		Contact: contact, Comment: comment, State: store.TicketNew, CreatedAt: d.now()}
	err = d.Store.CreateTicket(ctx, t)
	if errors.Is(err, store.ErrAlreadyExists) {
		return store.Ticket{}, ErrTicketOpen
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("support: ticket: %w", err)
	}
	return t, nil
}

// schoolsOf are the schools of the records the attempt's events named
// (store.RecordsNamedIn), as the roster has them now; records gone from
// the roster are skipped. A record named only as the one the diary asked
// to link (manual_record, a login parameter the person can set) routes
// nothing: otherwise anyone could send a report to any school's queue.
func (d *Desk) schoolsOf(ctx context.Context, a store.Attempt) ([]string, error) {
	seen := map[string]bool{}
	var schools []string
	n := 0
	for _, ev := range a.Events {
		for _, id := range store.RecordsNamedIn(withoutManualRecord(ev.Detail)) {
			if seen[id] || n >= maxRoutedRecords {
				continue
			}
			seen[id] = true
			n++
			p, err := d.Store.GetPerson(ctx, a.TenantID, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("support: ticket: candidate: %w", err)
			}
			if p.School != "" && !seen["school:"+p.School] && len(schools) < store.MaxTicketSchools {
				seen["school:"+p.School] = true
				schools = append(schools, p.School)
			}
		}
	}
	return schools, nil
}

// NormaliseContact checks an optional contact: "" stays "", an e-mail
// address (one @, a dot in the domain, no spaces) is lower-cased, a phone
// number keeps its + and digits (10 to 15 of them; spaces, dashes and
// brackets go). Anything else is ErrBadContact.
func NormaliseContact(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if utf8.RuneCountInString(s) > store.MaxContactLength || store.CheckText("contact", s, store.MaxContactLength) != nil {
		return "", ErrBadContact
	}
	if local, domain, ok := strings.Cut(s, "@"); ok {
		if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
			strings.ContainsAny(s, " <>\"'(),;:\\[]") || strings.Contains(domain, "@") {
			return "", ErrBadContact
		}
		return strings.ToLower(s), nil
	}
	var b strings.Builder
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')' || unicode.Is(unicode.Zs, r):
		default:
			return "", ErrBadContact
		}
	}
	if digits < 10 || digits > 15 {
		return "", ErrBadContact
	}
	return b.String(), nil
}

// MaskContact masks a contact for the console's pages: an e-mail address
// keeps the first character of its local part and its domain
// («m***@example.ru»), a phone number its last two digits
// («+7 *** ***-**-67»).
func MaskContact(s string) string {
	if s == "" {
		return ""
	}
	if local, domain, ok := strings.Cut(s, "@"); ok {
		first, _ := utf8.DecodeRuneInString(local)
		return string(first) + "***@" + domain
	}
	if len(s) < 4 {
		return "***"
	}
	prefix := ""
	if strings.HasPrefix(s, "+") {
		prefix = "+… "
	}
	return prefix + "***-**-" + s[len(s)-2:]
}

// Queue lists the tickets in sc, of state ("" for all), newest first.
func (d *Desk) Queue(ctx context.Context, sc store.Scope, state store.TicketState, limit int) ([]store.Ticket, error) {
	list, err := d.Store.TicketsInScope(ctx, sc, state, limit)
	if err != nil {
		return nil, fmt.Errorf("support: tickets: %w", err)
	}
	return list, nil
}

// Ticket returns the ticket id when it is in sc, with an audit entry of
// the read; ErrNotFound when it does not exist or is outside sc.
func (d *Desk) Ticket(ctx context.Context, sc store.Scope, grantID, id string) (store.Ticket, error) {
	t, err := d.Store.TicketInScope(ctx, sc, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("support: ticket: %w", err)
	}
	if err := d.audit(ctx, t, grantID, AuditReadTicket); err != nil {
		return t, err
	}
	return t, nil
}

// TicketAction is what a staff member does to a ticket from its page.
type TicketAction string

// The staff actions on a ticket.
const (
	TicketAssign  TicketAction = "assign"  // take it
	TicketComment TicketAction = "comment" // add a note
	TicketResolve TicketAction = "resolve" // close it with a resolution
)

// Change does action to the ticket id, in sc, as grantID, with its audit
// entry in the same transaction (the text itself is not in the entry: it
// may name people). ErrNotFound outside sc; ErrBadQuery for an empty note
// or resolution, an unknown action or a resolved ticket.
func (d *Desk) Change(ctx context.Context, sc store.Scope, grantID, id string, action TicketAction, text string) (store.Ticket, error) {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	ch := store.TicketChange{At: d.now(), Author: StaffActor(grantID)}
	var auditAction string
	switch action {
	case TicketAssign:
		ch.Assign, auditAction = true, AuditAssignTicket
	case TicketComment:
		ch.Note, auditAction = text, AuditCommentTicket
	case TicketResolve:
		ch.Resolve, ch.Resolution, auditAction = true, text, AuditResolveTicket
	default:
		return store.Ticket{}, fmt.Errorf("%w: unknown action", ErrBadQuery)
	}
	var out store.Ticket
	err := d.Store.InTx(ctx, func(ctx context.Context) error {
		t, err := d.Store.ChangeTicket(ctx, sc, id, ch)
		if err != nil {
			return err
		}
		out = t
		if ch.Resolve && d.Mail && strings.Contains(t.Contact, "@") {
			if err := d.Store.EnqueueMail(ctx, store.MailJob{ID: d.newID(), TenantID: t.TenantID, RequestID: t.ID,
				AttemptRef: t.Ref, Kind: store.MailTicketResolved, NextAttemptAt: ch.At, CreatedAt: ch.At}); err != nil {
				return fmt.Errorf("mail job: %w", err)
			}
		}
		return d.audit(ctx, t, grantID, auditAction)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Ticket{}, ErrNotFound
	case errors.Is(err, store.ErrInvalid):
		return store.Ticket{}, fmt.Errorf("%w: %v", ErrBadQuery, err)
	case err != nil:
		return store.Ticket{}, fmt.Errorf("support: ticket: %w", err)
	}
	return out, nil
}

func (d *Desk) audit(ctx context.Context, t store.Ticket, grantID, action string) error {
	detail, _ := json.Marshal(map[string]any{"ref": t.Ref, "state": t.State})
	if err := d.Store.AppendAudit(ctx, store.AuditEntry{At: d.now(), TenantID: t.TenantID, Actor: StaffActor(grantID),
		Action: action, Target: t.ID, Detail: detail}); err != nil {
		return fmt.Errorf("support: audit: %w", err)
	}
	return nil
}

// withoutManualRecord is an event's detail without its manual_record.
func withoutManualRecord(detail json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if len(detail) == 0 || json.Unmarshal(detail, &m) != nil {
		return detail
	}
	if _, ok := m["manual_record"]; !ok {
		return detail
	}
	delete(m, "manual_record")
	out, err := json.Marshal(m)
	if err != nil {
		return detail
	}
	return out
}
