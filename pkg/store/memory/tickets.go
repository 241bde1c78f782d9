package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

func cloneTicket(t store.Ticket, notes bool) store.Ticket {
	t.Schools = cloneStrings(t.Schools)
	if notes {
		t.Notes = slices.Clone(t.Notes)
	} else {
		t.Notes = nil
	}
	return t
}

// CreateTicket implements store.Tickets.
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	t, err := store.ValidateTicket(t)
	if err != nil {
		return err
	}
	defer s.write(ctx)()
	if _, ok := s.tenants[t.TenantID]; !ok {
		return fmt.Errorf("%w: unknown tenant", store.ErrInvalid)
	}
	if _, ok := s.tickets[t.ID]; ok {
		return store.ErrAlreadyExists
	}
	for _, o := range s.tickets {
		if o.TenantID == t.TenantID && o.Ref == t.Ref && o.State != store.TicketResolved {
			return store.ErrAlreadyExists
		}
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now().UTC()
	}
	t.UpdatedAt, t.ResolvedAt, t.Notes = t.CreatedAt, time.Time{}, nil
	s.tickets[t.ID] = cloneTicket(t, false)
	s.onUndo(ctx, func() { delete(s.tickets, t.ID) })
	return nil
}

// TicketsInScope implements store.Tickets.
func (s *Store) TicketsInScope(ctx context.Context, sc store.Scope, state store.TicketState, limit int) ([]store.Ticket, error) {
	if !store.ValidScope(sc) || (state != "" && !state.Valid()) {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	defer s.read(ctx)()
	var out []store.Ticket
	for _, t := range s.tickets {
		if store.TicketCovered(sc, t) && (state == "" || t.State == state) {
			out = append(out, cloneTicket(t, false))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// TicketInScope implements store.Tickets.
func (s *Store) TicketInScope(ctx context.Context, sc store.Scope, id string) (store.Ticket, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(id) {
		return store.Ticket{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	t, ok := s.tickets[id]
	if !ok || !store.TicketCovered(sc, t) {
		return store.Ticket{}, store.ErrNotFound
	}
	return cloneTicket(t, true), nil
}

// ChangeTicket implements store.Tickets.
func (s *Store) ChangeTicket(ctx context.Context, sc store.Scope, id string, ch store.TicketChange) (store.Ticket, error) {
	if err := store.ValidateTicketChange(ch); err != nil {
		return store.Ticket{}, err
	}
	if !store.ValidScope(sc) || !store.ValidKeys(id) {
		return store.Ticket{}, store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.tickets[id]
	if !ok || !store.TicketCovered(sc, old) {
		return store.Ticket{}, store.ErrNotFound
	}
	if old.State == store.TicketResolved {
		return store.Ticket{}, fmt.Errorf("%w: the ticket is resolved", store.ErrInvalid)
	}
	if ch.At.IsZero() {
		ch.At = s.now().UTC()
	}
	t := store.ApplyTicketChange(cloneTicket(old, true), ch)
	if ch.Note != "" {
		t.Notes = append(t.Notes, store.TicketNote{At: ch.At, Author: ch.Author, Text: ch.Note})
	}
	s.tickets[id] = t
	s.onUndo(ctx, func() { s.tickets[id] = old })
	return cloneTicket(t, true), nil
}

// DestroyTickets implements store.Tickets.
func (s *Store) DestroyTickets(ctx context.Context, tenantID string, before time.Time, limit int) ([]string, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	defer s.write(ctx)()
	var due []store.Ticket
	for _, t := range s.tickets {
		if t.TenantID == tenantID && t.CreatedAt.Before(before) {
			due = append(due, t)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].CreatedAt.Equal(due[j].CreatedAt) {
			return due[i].CreatedAt.Before(due[j].CreatedAt)
		}
		return due[i].ID < due[j].ID
	})
	if len(due) > limit {
		due = due[:limit]
	}
	ids := make([]string, 0, len(due))
	for _, t := range due {
		delete(s.tickets, t.ID)
		s.onUndo(ctx, func() { s.tickets[t.ID] = t })
		ids = append(ids, t.ID)
	}
	return ids, nil
}

// AuditInScope implements store.AuditLog.
func (s *Store) AuditInScope(ctx context.Context, sc store.Scope, f store.AuditFilter) ([]store.AuditEntry, error) {
	if err := store.ValidateAuditFilter(f); err != nil {
		return nil, err
	}
	if !store.ValidScope(sc) || sc.Role == store.StaffSchoolAdmin {
		return nil, nil
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	defer s.read(ctx)()
	var out []store.AuditEntry
	for i := len(s.audit) - 1; i >= 0 && len(out) < f.Limit; i-- {
		if e := s.audit[i]; store.AuditReadable(sc, e.TenantID) && f.Matches(e) {
			e.Detail = append([]byte(nil), e.Detail...)
			out = append(out, e)
		}
	}
	return out, nil
}
