package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TicketState is where a support ticket is in its queue.
type TicketState string

// The states of a ticket.
const (
	TicketNew        TicketState = "new"         // filed, nobody took it yet
	TicketInProgress TicketState = "in_progress" // a staff member took it
	TicketResolved   TicketState = "resolved"    // closed with a resolution
)

// Valid reports whether st is one of the ticket states.
func (st TicketState) Valid() bool {
	switch st {
	case TicketNew, TicketInProgress, TicketResolved:
		return true
	}
	return false
}

// Limits of a ticket beyond those of fields.go. A ticket is filed by an
// anonymous person, so what one request stores is bounded: a contact of
// MaxContactLength and a comment of MaxTicketComment characters (at most
// about 5 KiB in UTF-8 with the rest of the row).
const (
	// MaxTicketComment bounds the reporter's comment and a staff note.
	MaxTicketComment = 1000
	// MaxTicketSchools bounds the schools a ticket is routed to.
	MaxTicketSchools = 20
)

// Ticket is a «Сообщить о проблеме» report about a failed login, bound to
// its attempt's reference code and routed to the schools of the attempt's
// candidate records — or, without candidates, to the tenant's queue
// (Schools empty), which only tenant_support and operators see.
type Ticket struct {
	ID       string
	TenantID string
	Ref      string // the attempt's reference code (unformatted)
	Reason   string // the attempt's failure reason: not_found, ambiguous, conflict
	// Schools are the schools the ticket is routed to, as the roster spells
	// them; empty for the tenant's queue.
	Schools []string
	// Contact (an e-mail address or a phone number) and Comment are what
	// the reporter wrote, both optional; stores that persist them seal
	// them with the personal-data key.
	Contact string
	Comment string
	State   TicketState
	// AssignedTo is the audit actor (support.StaffActor) of the staff
	// member who took the ticket; "" until then.
	AssignedTo string
	Resolution string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time // zero until resolved
	// Notes are the staff's comments, oldest first; filled by
	// TicketInScope only.
	Notes []TicketNote
}

// TicketNote is a staff member's comment on a ticket.
type TicketNote struct {
	At     time.Time
	Author string // the audit actor
	Text   string
}

// TicketChange is one change of a ticket by a staff member: a note, an
// assignment (to the author) or a resolution, or several at once.
type TicketChange struct {
	At     time.Time
	Author string // the audit actor (support.StaffActor)
	// Assign gives the ticket to Author; a new ticket becomes in progress.
	Assign bool
	// Note, when not empty, is added as a TicketNote of Author.
	Note string
	// Resolve closes the ticket with Resolution (required then).
	Resolve    bool
	Resolution string
}

// Tickets stores the support tickets. Every staff-side method takes the
// staff member's Scope and filters in the query: a school_admin reaches the
// tickets routed to one of their schools, tenant_support their tenant's
// (with its queue), an operator every ticket. A ticket outside the scope is
// ErrNotFound exactly like one that does not exist.
type Tickets interface {
	// CreateTicket files t (ID, TenantID, Ref and State new required).
	// ErrAlreadyExists when the reference code has a ticket that is not
	// resolved: one open ticket per reference code.
	CreateTicket(ctx context.Context, t Ticket) error
	// TicketsInScope lists the tickets in sc, of state (all when ""),
	// newest first, at most limit (0: 100), without notes.
	TicketsInScope(ctx context.Context, sc Scope, state TicketState, limit int) ([]Ticket, error)
	// TicketInScope returns the ticket id with its notes when it is in sc.
	TicketInScope(ctx context.Context, sc Scope, id string) (Ticket, error)
	// ChangeTicket applies ch to the ticket id when it is in sc and
	// returns it as changed; ErrInvalid when it is resolved already.
	ChangeTicket(ctx context.Context, sc Scope, id string, ch TicketChange) (Ticket, error)
	// DestroyTickets deletes up to limit (0: 100) of a tenant's tickets
	// filed before before, oldest first, with their contacts and notes,
	// and returns their ids (the retention janitor; claimed with FOR
	// UPDATE SKIP LOCKED in PostgreSQL).
	DestroyTickets(ctx context.Context, tenantID string, before time.Time, limit int) ([]string, error)
}

// ValidateTicket checks what every store requires of a new ticket: an id,
// a tenant, a reference code, the state new, and strings as fields.go has
// them (*FieldError naming the field). It returns the ticket with its
// schools trimmed, sorted and without repeats.
func ValidateTicket(t Ticket) (Ticket, error) {
	if err := check(CheckID("id", t.ID), CheckID("tenant_id", t.TenantID), CheckID("ref", t.Ref),
		CheckText("reason", t.Reason, MaxWordLength), checkList("schools", t.Schools, MaxSchoolLength, MaxTicketSchools),
		CheckText("contact", t.Contact, MaxContactLength), CheckMultiline("comment", t.Comment, MaxTicketComment),
		CheckID("assigned_to", t.AssignedTo), CheckMultiline("resolution", t.Resolution, MaxTicketComment)); err != nil {
		return t, err
	}
	for field, v := range map[string]string{"id": t.ID, "tenant_id": t.TenantID, "ref": t.Ref} {
		if v == "" {
			return t, required(field)
		}
	}
	if t.State != TicketNew {
		return t, &FieldError{Field: "state", Problem: "must be new for a new ticket"}
	}
	var schools []string
	for _, s := range t.Schools {
		if s = strings.TrimSpace(s); s != "" {
			schools = append(schools, s)
		}
	}
	slices.Sort(schools)
	t.Schools = slices.Compact(schools)
	return t, nil
}

// ValidateTicketChange checks a change: an author, a note and a
// resolution a store can keep, a resolution when resolving, and at least
// one thing to do.
func ValidateTicketChange(ch TicketChange) error {
	if err := check(CheckID("author", ch.Author), CheckMultiline("note", ch.Note, MaxTicketComment),
		CheckMultiline("resolution", ch.Resolution, MaxTicketComment)); err != nil {
		return err
	}
	if ch.Author == "" {
		return required("author")
	}
	if ch.Resolve && strings.TrimSpace(ch.Resolution) == "" {
		return required("resolution")
	}
	if !ch.Assign && !ch.Resolve && strings.TrimSpace(ch.Note) == "" {
		return fmt.Errorf("%w: a ticket change changes nothing", ErrInvalid)
	}
	return nil
}

// ApplyTicketChange is ch applied to t (already checked with
// ValidateTicketChange, t not resolved): what every store does.
func ApplyTicketChange(t Ticket, ch TicketChange) Ticket {
	if ch.Assign {
		t.AssignedTo = ch.Author
		if t.State == TicketNew {
			t.State = TicketInProgress
		}
	}
	if ch.Resolve {
		t.State, t.Resolution, t.ResolvedAt = TicketResolved, ch.Resolution, ch.At
	}
	t.UpdatedAt = ch.At
	return t
}

// TicketCovered reports whether the ticket t is in sc: every store's rule,
// for stores that filter in Go.
func TicketCovered(sc Scope, t Ticket) bool {
	if !sc.CoversTenant(t.TenantID) {
		return false
	}
	if sc.Role != StaffSchoolAdmin {
		return true
	}
	for _, s := range t.Schools {
		if slices.Contains(sc.Schools, s) {
			return true
		}
	}
	return false
}
