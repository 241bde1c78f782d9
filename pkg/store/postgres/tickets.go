package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Tickets = (*Store)(nil)

// ticketAAD binds a ticket's sealed report to its row.
func ticketAAD(tenantID, id string) []byte {
	return []byte("ticket\x00" + tenantID + "\x00" + id)
}

// ticketNoteAAD binds a staff comment to its ticket, and
// ticketResolutionAAD a resolution to its ticket.
func ticketNoteAAD(ticketID string) []byte { return []byte("ticket_note\x00" + ticketID) }

func ticketResolutionAAD(tenantID, id string) []byte {
	return []byte("ticket_resolution\x00" + tenantID + "\x00" + id)
}

// sealText seals a staff text ("" stays unsealed, with no key).
func (s *Store) sealText(text string, aad []byte) (string, []byte, error) {
	if text == "" {
		return "", nil, nil
	}
	if s.sealer == nil {
		return "", nil, ErrNoSealer
	}
	return s.sealer.Seal([]byte(text), aad)
}

// openText opens a staff text sealed by sealText; a row of before the
// sealing (no key) holds its text in plain.
func (s *Store) openText(plain string, sealed []byte, keyID string, aad []byte) (string, error) {
	if keyID == "" {
		return plain, nil
	}
	if s.sealer == nil {
		return "", ErrNoSealer
	}
	b, err := s.sealer.Open(keyID, sealed, aad)
	return string(b), err
}

// ticketReport is what the reporter wrote, sealed as one document.
type ticketReport struct {
	Contact string `json:"contact,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// ticketScope is the condition that keeps a query within a scope: $role,
// $tenant and $schools are its parameters' placeholders.
func ticketScope(role, tenant, schools string) string {
	return `(` + role + ` = 'operator' OR t.tenant_id = ` + tenant + `) AND (` + role + ` <> 'school_admin' OR t.schools && ` + schools + `::text[])`
}

const ticketColumns = `t.id, t.tenant_id, t.ref, t.reason, t.schools, t.report, t.report_key_id, t.state, t.assigned_to,
	t.resolution, t.resolution_sealed, t.resolution_key_id, t.created_at, t.updated_at, t.resolved_at`

// CreateTicket implements store.Tickets: the contact and the comment are
// sealed (no sealer: ErrNoSealer when there is something to seal).
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	t, err := store.ValidateTicket(t)
	if err != nil {
		return err
	}
	var sealed []byte
	keyID := ""
	if t.Contact != "" || t.Comment != "" {
		if s.sealer == nil {
			return ErrNoSealer
		}
		plain, _ := json.Marshal(ticketReport{Contact: t.Contact, Comment: t.Comment})
		if keyID, sealed, err = s.sealer.Seal(plain, ticketAAD(t.TenantID, t.ID)); err != nil {
			return fmt.Errorf("postgres: create ticket: seal: %w", err)
		}
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	_, err = s.q(ctx).Exec(ctx, `INSERT INTO tickets (id, tenant_id, ref, reason, schools, report, report_key_id, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		t.ID, t.TenantID, t.Ref, t.Reason, nonNil(t.Schools), sealed, keyID, string(t.State), t.CreatedAt)
	return wrap("create ticket", err)
}

func (s *Store) scanTicket(row pgx.Row) (store.Ticket, error) {
	var t store.Ticket
	var sealed, resolution []byte
	var keyID, state, resolutionKey string
	var resolved *time.Time
	if err := row.Scan(&t.ID, &t.TenantID, &t.Ref, &t.Reason, &t.Schools, &sealed, &keyID, &state, &t.AssignedTo,
		&t.Resolution, &resolution, &resolutionKey, &t.CreatedAt, &t.UpdatedAt, &resolved); err != nil {
		return t, err
	}
	var err error
	if t.Resolution, err = s.openText(t.Resolution, resolution, resolutionKey, ticketResolutionAAD(t.TenantID, t.ID)); err != nil {
		return t, fmt.Errorf("open ticket %s: resolution: %w", t.ID, err)
	}
	t.State = store.TicketState(state)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if resolved != nil {
		t.ResolvedAt = resolved.UTC()
	}
	if len(t.Schools) == 0 {
		t.Schools = nil
	}
	if keyID != "" {
		if s.sealer == nil {
			return t, ErrNoSealer
		}
		plain, err := s.sealer.Open(keyID, sealed, ticketAAD(t.TenantID, t.ID))
		if err != nil {
			return t, fmt.Errorf("open ticket %s: %w", t.ID, err)
		}
		var r ticketReport
		if err := json.Unmarshal(plain, &r); err != nil {
			return t, fmt.Errorf("open ticket %s: %w", t.ID, err)
		}
		t.Contact, t.Comment = r.Contact, r.Comment
	}
	return t, nil
}

// TicketsInScope implements store.Tickets.
func (s *Store) TicketsInScope(ctx context.Context, sc store.Scope, state store.TicketState, limit int) ([]store.Ticket, error) {
	if !store.ValidScope(sc) || (state != "" && !state.Valid()) {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+ticketColumns+` FROM tickets t
		WHERE `+ticketScope("$1", "$2", "$3")+` AND ($4 = '' OR t.state = $4)
		ORDER BY t.created_at DESC, t.id DESC LIMIT $5`, string(sc.Role), sc.TenantID, nonNil(sc.Schools), string(state), limit)
	if err != nil {
		return nil, wrap("tickets in scope", err)
	}
	defer rows.Close()
	var out []store.Ticket
	for rows.Next() {
		t, err := s.scanTicket(rows)
		if err != nil {
			return nil, wrap("tickets in scope", err)
		}
		out = append(out, t)
	}
	return out, wrap("tickets in scope", rows.Err())
}

// TicketInScope implements store.Tickets.
func (s *Store) TicketInScope(ctx context.Context, sc store.Scope, id string) (store.Ticket, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(id) {
		return store.Ticket{}, store.ErrNotFound
	}
	return s.ticketInScope(ctx, sc, id, "")
}

func (s *Store) ticketInScope(ctx context.Context, sc store.Scope, id, lock string) (store.Ticket, error) {
	t, err := s.scanTicket(s.q(ctx).QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets t
		WHERE t.id = $4 AND `+ticketScope("$1", "$2", "$3")+lock, string(sc.Role), sc.TenantID, nonNil(sc.Schools), id))
	if err != nil {
		return t, wrap("ticket in scope", err)
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT at, author, body, sealed, key_id FROM ticket_notes WHERE ticket_id = $1 ORDER BY id`, id)
	if err != nil {
		return t, wrap("ticket notes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n store.TicketNote
		var sealed []byte
		var keyID string
		if err := rows.Scan(&n.At, &n.Author, &n.Text, &sealed, &keyID); err != nil {
			return t, wrap("ticket notes", err)
		}
		if n.Text, err = s.openText(n.Text, sealed, keyID, ticketNoteAAD(id)); err != nil {
			return t, fmt.Errorf("postgres: ticket %s: note: %w", id, err)
		}
		n.At = n.At.UTC()
		t.Notes = append(t.Notes, n)
	}
	return t, wrap("ticket notes", rows.Err())
}

// ChangeTicket implements store.Tickets: the ticket is read in scope and
// locked, changed and given its note in one transaction.
func (s *Store) ChangeTicket(ctx context.Context, sc store.Scope, id string, ch store.TicketChange) (store.Ticket, error) {
	if err := store.ValidateTicketChange(ch); err != nil {
		return store.Ticket{}, err
	}
	if !store.ValidScope(sc) || !store.ValidKeys(id) {
		return store.Ticket{}, store.ErrNotFound
	}
	if ch.At.IsZero() {
		ch.At = s.now()
	}
	var out store.Ticket
	err := s.InTx(ctx, func(ctx context.Context) error {
		t, err := s.ticketInScope(ctx, sc, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if t.State == store.TicketResolved {
			return fmt.Errorf("%w: the ticket is resolved", store.ErrInvalid)
		}
		t = store.ApplyTicketChange(t, ch)
		var resolved *time.Time
		if !t.ResolvedAt.IsZero() {
			resolved = &t.ResolvedAt
		}
		resKey, resSealed, err := s.sealText(t.Resolution, ticketResolutionAAD(t.TenantID, t.ID))
		if err != nil {
			return fmt.Errorf("postgres: change ticket: seal: %w", err)
		}
		if _, err := s.q(ctx).Exec(ctx, `UPDATE tickets SET state = $2, assigned_to = $3, resolution = '', resolution_sealed = $4,
			resolution_key_id = $5, resolved_at = $6, updated_at = $7
			WHERE id = $1`, id, string(t.State), t.AssignedTo, resSealed, resKey, resolved, t.UpdatedAt); err != nil {
			return wrap("change ticket", err)
		}
		if ch.Note != "" {
			noteKey, noteSealed, err := s.sealText(ch.Note, ticketNoteAAD(id))
			if err != nil {
				return fmt.Errorf("postgres: ticket note: seal: %w", err)
			}
			if _, err := s.q(ctx).Exec(ctx, `INSERT INTO ticket_notes (ticket_id, at, author, body, sealed, key_id) VALUES ($1, $2, $3, '', $4, $5)`,
				id, ch.At, ch.Author, noteSealed, noteKey); err != nil {
				return wrap("ticket note", err)
			}
			t.Notes = append(t.Notes, store.TicketNote{At: ch.At.UTC(), Author: ch.Author, Text: ch.Note})
		}
		out = t
		return nil
	})
	if err != nil {
		return store.Ticket{}, err
	}
	return out, nil
}

// DestroyTickets implements store.Tickets in one statement: the due
// tickets are claimed and deleted, their notes by ON DELETE CASCADE.
func (s *Store) DestroyTickets(ctx context.Context, tenantID string, before time.Time, limit int) ([]string, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	ids, err := collectStrings(s.q(ctx).Query(ctx, `WITH due AS (
			SELECT id FROM tickets WHERE tenant_id = $1 AND created_at < $2
			ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		DELETE FROM tickets t USING due WHERE t.id = due.id RETURNING t.id`, tenantID, before, limit))
	return ids, wrap("destroy tickets", err)
}
