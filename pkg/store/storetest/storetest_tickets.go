package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// RunTickets runs the conformance tests of store.Tickets (the support
// console's tickets) and store.AuditLog (its audit log page) against
// stores made by newStore.
func RunTickets(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"TicketScopes", testTicketScopes},
		{"TicketLifecycle", testTicketLifecycle},
		{"TicketFields", testTicketFields},
		{"DestroyTickets", testDestroyTickets},
		{"AuditScopes", testAuditScopes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func mkTicket(id, tenant, ref string, at time.Time, schools ...string) store.Ticket {
	return store.Ticket{ID: id, TenantID: tenant, Ref: ref, Reason: "not_found", Schools: schools, State: store.TicketNew,
		Contact: "mother+" + id + "@example.ru", Comment: "Не могу войти,\nпомогите", CreatedAt: at}
}

func ticketIDs(ts []store.Ticket) []string {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids
}

// testTicketScopes: two tenants with the same two school names; every
// ticket query — the list, the ticket, a change — reaches exactly the
// tickets of the scope, and one outside it is ErrNotFound like a missing
// one, and is left unchanged.
func testTicketScopes(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	for i, tk := range []store.Ticket{
		mkTicket("k-a", "t1", "REFAAAAAA1", base, "Школа А"),
		mkTicket("k-b", "t1", "REFAAAAAA2", base, "Школа Б"),
		mkTicket("k-ab", "t1", "REFAAAAAA3", base, "Школа Б", "Школа А"),
		mkTicket("k-q", "t1", "REFAAAAAA4", base), // the tenant's queue
		mkTicket("k2-a", "t2", "REFAAAAAA1", base, "Школа А"),
		mkTicket("k2-q", "t2", "REFAAAAAA5", base),
	} {
		tk.CreatedAt = base.Add(time.Duration(i) * time.Minute)
		must(t, s.CreateTicket(ctx(), tk))
	}
	all := []string{"k-a", "k-b", "k-ab", "k-q", "k2-a", "k2-q"}
	scopes := []struct {
		name string
		sc   store.Scope
		want []string
	}{
		{"school_admin of Школа А in t1", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа А"}}, []string{"k-a", "k-ab"}},
		{"school_admin of Школа Б in t1", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа Б"}}, []string{"k-ab", "k-b"}},
		{"school_admin of Школа А in t2", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t2", Schools: []string{"Школа А"}}, []string{"k2-a"}},
		{"school_admin of another school", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа В"}}, nil},
		{"tenant_support of t1, with its queue", store.Scope{Role: store.StaffTenantSupport, TenantID: "t1"}, []string{"k-a", "k-ab", "k-b", "k-q"}},
		{"tenant_support of t2", store.Scope{Role: store.StaffTenantSupport, TenantID: "t2"}, []string{"k2-a", "k2-q"}},
		{"operator", store.Scope{Role: store.StaffOperator}, []string{"k-a", "k-ab", "k-b", "k-q", "k2-a", "k2-q"}},
		{"school_admin without schools", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1"}, nil},
		{"tenant_support without a tenant", store.Scope{Role: store.StaffTenantSupport}, nil},
		{"unknown role", store.Scope{Role: "boss", TenantID: "t1"}, nil},
	}
	for _, tc := range scopes {
		t.Run(tc.name, func(t *testing.T) {
			list, err := s.TicketsInScope(ctx(), tc.sc, "", 0)
			must(t, err)
			if got := ticketIDs(list); !slices.Equal(got, tc.want) {
				t.Fatalf("TicketsInScope = %v, want %v", got, tc.want)
			}
			for i := 1; i < len(list); i++ {
				if list[i].CreatedAt.After(list[i-1].CreatedAt) {
					t.Fatalf("not newest first: %v", ticketIDs(list))
				}
			}
			for _, id := range append(all, "missing") {
				in := slices.Contains(tc.want, id)
				got, err := s.TicketInScope(ctx(), tc.sc, id)
				if in {
					must(t, err)
					if got.ID != id || got.Contact != "mother+"+id+"@example.ru" || got.Comment != "Не могу войти,\nпомогите" {
						t.Fatalf("TicketInScope(%s) = %+v", id, got)
					}
					continue
				}
				wantErr(t, err, store.ErrNotFound)
				_, err = s.ChangeTicket(ctx(), tc.sc, id, store.TicketChange{Author: "staff:x", Assign: true, Note: "чужая", Resolve: true, Resolution: "x"})
				wantErr(t, err, store.ErrNotFound)
			}
		})
	}
	// Nothing outside a scope was changed by the refused changes.
	for _, id := range all {
		got, err := s.TicketInScope(ctx(), store.Scope{Role: store.StaffOperator}, id)
		must(t, err)
		if got.State != store.TicketNew || got.AssignedTo != "" || len(got.Notes) != 0 {
			t.Fatalf("%s changed from outside its scope: %+v", id, got)
		}
	}
	// A key no store keeps finds nothing, without a database error.
	_, err := s.TicketInScope(ctx(), store.Scope{Role: store.StaffOperator}, "k\x00a")
	wantErr(t, err, store.ErrNotFound)
}

// testTicketLifecycle: one open ticket per reference code and tenant;
// assignment, notes, resolution, the state filter, and no change after
// the resolution.
func testTicketLifecycle(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	must(t, s.CreateTicket(ctx(), mkTicket("k1", "t1", "REFAAAAAA1", base, "Школа А")))
	wantErr(t, s.CreateTicket(ctx(), mkTicket("k1-again", "t1", "REFAAAAAA1", base)), store.ErrAlreadyExists)
	wantErr(t, s.CreateTicket(ctx(), mkTicket("k1", "t1", "REFAAAAAA9", base)), store.ErrAlreadyExists)
	must(t, s.CreateTicket(ctx(), mkTicket("k1-t2", "t2", "REFAAAAAA1", base))) // another tenant's code
	wantErr(t, s.CreateTicket(ctx(), mkTicket("k-nowhere", "t3", "REFAAAAAA2", base)), store.ErrInvalid)
	bare := mkTicket("k2", "t1", "REFAAAAAA2", base.Add(time.Minute))
	bare.Contact, bare.Comment = "", ""
	must(t, s.CreateTicket(ctx(), bare))

	sc := store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа А"}}
	sup := store.Scope{Role: store.StaffTenantSupport, TenantID: "t1"}
	at := base.Add(time.Hour)
	got, err := s.ChangeTicket(ctx(), sc, "k1", store.TicketChange{At: at, Author: "staff:g1", Assign: true})
	must(t, err)
	if got.State != store.TicketInProgress || got.AssignedTo != "staff:g1" || !got.UpdatedAt.Equal(at) {
		t.Fatalf("after assignment: %+v", got)
	}
	_, err = s.ChangeTicket(ctx(), sc, "k1", store.TicketChange{At: at.Add(time.Minute), Author: "staff:g1", Note: "Исправили СНИЛС в записи"})
	must(t, err)
	_, err = s.ChangeTicket(ctx(), sup, "k1", store.TicketChange{At: at.Add(2 * time.Minute), Author: "staff:g2", Note: "Позвонили маме"})
	must(t, err)
	wantErr(t, func() error {
		_, err := s.ChangeTicket(ctx(), sc, "k1", store.TicketChange{Author: "staff:g1"})
		return err
	}(), store.ErrInvalid)
	wantErr(t, func() error {
		_, err := s.ChangeTicket(ctx(), sc, "k1", store.TicketChange{Author: "staff:g1", Resolve: true})
		return err
	}(), store.ErrInvalid)

	for state, want := range map[store.TicketState][]string{"": {"k1", "k2"}, store.TicketNew: {"k2"}, store.TicketInProgress: {"k1"}, store.TicketResolved: nil} {
		list, err := s.TicketsInScope(ctx(), sup, state, 0)
		must(t, err)
		if got := ticketIDs(list); !slices.Equal(got, want) {
			t.Fatalf("state %q: %v, want %v", state, got, want)
		}
	}
	list, err := s.TicketsInScope(ctx(), sup, "", 1)
	must(t, err)
	if len(list) != 1 || list[0].ID != "k2" {
		t.Fatalf("limit 1, newest first: %v", ticketIDs(list))
	}

	got, err = s.ChangeTicket(ctx(), sc, "k1", store.TicketChange{At: at.Add(3 * time.Minute), Author: "staff:g1", Resolve: true,
		Resolution: "Запись исправлена, вход работает", Note: "Закрываю"})
	must(t, err)
	if got.State != store.TicketResolved || !got.ResolvedAt.Equal(at.Add(3*time.Minute)) || got.Resolution != "Запись исправлена, вход работает" {
		t.Fatalf("after resolution: %+v", got)
	}
	read, err := s.TicketInScope(ctx(), sc, "k1")
	must(t, err)
	wantNotes := []store.TicketNote{
		{At: at.Add(time.Minute), Author: "staff:g1", Text: "Исправили СНИЛС в записи"},
		{At: at.Add(2 * time.Minute), Author: "staff:g2", Text: "Позвонили маме"},
		{At: at.Add(3 * time.Minute), Author: "staff:g1", Text: "Закрываю"},
	}
	if !slices.Equal(read.Notes, wantNotes) || read.State != store.TicketResolved || read.AssignedTo != "staff:g1" ||
		!read.CreatedAt.Equal(base) || !slices.Equal(read.Schools, []string{"Школа А"}) {
		t.Fatalf("read back: %+v", read)
	}
	_, err = s.ChangeTicket(ctx(), sc, "k1", store.TicketChange{Author: "staff:g1", Note: "ещё"})
	wantErr(t, err, store.ErrInvalid)
	// Resolved, the code may have a new ticket.
	must(t, s.CreateTicket(ctx(), mkTicket("k1-next", "t1", "REFAAAAAA1", base.Add(2*time.Hour))))
	k2, err := s.TicketInScope(ctx(), sup, "k2")
	must(t, err)
	if k2.Contact != "" || k2.Comment != "" || k2.Schools != nil || k2.Notes != nil {
		t.Fatalf("a bare ticket: %+v", k2)
	}

	// A change inside a rolled-back transaction leaves nothing.
	boom := errors.New("boom")
	err = s.InTx(ctx(), func(ctx2 context.Context) error {
		if _, err := s.ChangeTicket(ctx2, sup, "k2", store.TicketChange{Author: "staff:g2", Assign: true, Note: "x"}); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	if k2, _ := s.TicketInScope(ctx(), sup, "k2"); k2.State != store.TicketNew || len(k2.Notes) != 0 {
		t.Fatalf("rolled back change kept: %+v", k2)
	}
}

// testTicketFields: what an anonymous reporter sends is checked at the
// store boundary, the field named and the value never echoed.
func testTicketFields(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	tests := []struct {
		field string
		edit  func(*store.Ticket)
	}{
		{"contact", func(k *store.Ticket) { k.Contact = "a\x00b@example.ru" }},
		{"contact", func(k *store.Ticket) { k.Contact = strings.Repeat("я", store.MaxContactLength+1) }},
		{"comment", func(k *store.Ticket) { k.Comment = strings.Repeat("ж", store.MaxTicketComment+1) }},
		{"comment", func(k *store.Ticket) { k.Comment = "bad \xff utf-8" }},
		{"comment", func(k *store.Ticket) { k.Comment = "bell \a" }},
		{"schools[0]", func(k *store.Ticket) { k.Schools = []string{strings.Repeat("ш", store.MaxSchoolLength+1)} }},
		{"ref", func(k *store.Ticket) { k.Ref = "" }},
		{"ref", func(k *store.Ticket) { k.Ref = strings.Repeat("R", store.MaxIDLength+1) }},
		{"id", func(k *store.Ticket) { k.ID = "" }},
		{"tenant_id", func(k *store.Ticket) { k.TenantID = "" }},
		{"state", func(k *store.Ticket) { k.State = store.TicketResolved }},
	}
	for _, tc := range tests {
		k := mkTicket("k", "t1", "REFAAAAAA1", base)
		tc.edit(&k)
		err := s.CreateTicket(ctx(), k)
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, store.ErrInvalidField) {
			t.Fatalf("%s: error = %v, want a FieldError for %s", tc.field, err, tc.field)
		}
	}
	// A comment of exactly the limit, with line breaks, is kept.
	k := mkTicket("k", "t1", "REFAAAAAA1", base)
	k.Comment = strings.Repeat("ж\n", store.MaxTicketComment/2)
	must(t, s.CreateTicket(ctx(), k))
	_, err := s.ChangeTicket(ctx(), store.Scope{Role: store.StaffOperator}, "k", store.TicketChange{Author: "staff:g", Note: strings.Repeat("n", store.MaxTicketComment+1)})
	wantErr(t, err, store.ErrInvalidField)
}

// testDestroyTickets: a tenant's tickets filed before the cut-off go,
// with their contacts and notes, in batches, oldest first; those at or
// after it, and another tenant's, stay.
func testDestroyTickets(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	now := base.AddDate(0, 0, 400)
	cut := now.AddDate(0, 0, -365)
	for _, k := range []store.Ticket{
		mkTicket("old-1", "t1", "REFAAAAAA1", cut.Add(-48*time.Hour), "Школа А"),
		mkTicket("old-2", "t1", "REFAAAAAA2", cut.Add(-time.Hour)),
		mkTicket("old-3", "t1", "REFAAAAAA3", cut.Add(-time.Microsecond)),
		mkTicket("at-cut", "t1", "REFAAAAAA4", cut),
		mkTicket("new", "t1", "REFAAAAAA5", now.Add(-time.Hour)),
		mkTicket("t2-old", "t2", "REFAAAAAA1", cut.Add(-48*time.Hour)),
	} {
		must(t, s.CreateTicket(ctx(), k))
	}
	op := store.Scope{Role: store.StaffOperator}
	_, err := s.ChangeTicket(ctx(), op, "old-1", store.TicketChange{At: now, Author: "staff:g", Assign: true, Note: "в работе"})
	must(t, err)
	ids, err := s.DestroyTickets(ctx(), "t1", cut, 2)
	must(t, err)
	if !slices.Equal(ids, []string{"old-1", "old-2"}) {
		t.Fatalf("first batch: %v", ids)
	}
	ids, err = s.DestroyTickets(ctx(), "t1", cut, 2)
	must(t, err)
	if !slices.Equal(ids, []string{"old-3"}) {
		t.Fatalf("second batch: %v", ids)
	}
	ids, err = s.DestroyTickets(ctx(), "t1", cut, 2)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("third batch: %v", ids)
	}
	list, err := s.TicketsInScope(ctx(), op, "", 0)
	must(t, err)
	if got := ticketIDs(list); !slices.Equal(got, []string{"at-cut", "new", "t2-old"}) {
		t.Fatalf("left: %v", got)
	}
	_, err = s.TicketInScope(ctx(), op, "old-1")
	wantErr(t, err, store.ErrNotFound)
	// The code of a destroyed ticket may have a new one.
	must(t, s.CreateTicket(ctx(), mkTicket("again", "t1", "REFAAAAAA1", now)))
	ids, err = s.DestroyTickets(ctx(), "t\x00", cut, 0)
	if err != nil || len(ids) != 0 {
		t.Fatalf("bad tenant key: %v %v", ids, err)
	}
}

// testAuditScopes: tenant_support reads their tenant's entries, an
// operator every entry (those of no tenant too), a school_admin none;
// every filter selects, newest first, page after page.
func testAuditScopes(t *testing.T, s store.Store) {
	type e = store.AuditEntry
	entries := []e{
		{TenantID: "t1", Actor: "staff:g1", Action: "read_attempt", Target: "REFAAAAAA1", At: base},
		{TenantID: "t2", Actor: "staff:g2", Action: "read_attempt", Target: "REFAAAAAA1", At: base.Add(time.Hour)},
		{TenantID: "t1", Actor: "staff:g1", Action: "assign_ticket", Target: "k1", At: base.Add(2 * time.Hour)},
		{TenantID: "*", Actor: "broker-cli", Action: "staff_grant", Target: "g9", At: base.Add(3 * time.Hour)},
		{TenantID: "t1", Actor: "diary-api", Action: "read_attempt", Target: "REFAAAAAA2", At: base.Add(24 * time.Hour)},
		{TenantID: "t1", Actor: "staff:g1", Action: "read_attempt", Target: "REFAAAAAA2", At: base.Add(48 * time.Hour)},
	}
	for _, en := range entries {
		must(t, s.AppendAudit(ctx(), en))
	}
	key := func(list []e) []string {
		var out []string
		for _, en := range list {
			out = append(out, en.TenantID+"/"+en.Actor+"/"+en.Action+"/"+en.Target)
		}
		return out
	}
	k := func(i ...int) []string {
		var out []string
		for _, n := range i {
			out = append(out, key(entries[n : n+1])[0])
		}
		return out
	}
	sup1 := store.Scope{Role: store.StaffTenantSupport, TenantID: "t1"}
	op := store.Scope{Role: store.StaffOperator}
	tests := []struct {
		name string
		sc   store.Scope
		f    store.AuditFilter
		want []string
	}{
		{"tenant_support: its tenant, newest first", sup1, store.AuditFilter{}, k(5, 4, 2, 0)},
		{"tenant_support of t2", store.Scope{Role: store.StaffTenantSupport, TenantID: "t2"}, store.AuditFilter{}, k(1)},
		{"operator: everything", op, store.AuditFilter{}, k(5, 4, 3, 2, 1, 0)},
		{"school_admin: nothing", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа А"}}, store.AuditFilter{}, nil},
		{"an invalid scope: nothing", store.Scope{Role: store.StaffTenantSupport}, store.AuditFilter{}, nil},
		{"by actor", sup1, store.AuditFilter{Actor: "staff:g1"}, k(5, 2, 0)},
		{"by action", op, store.AuditFilter{Action: "read_attempt"}, k(5, 4, 1, 0)},
		{"by target", op, store.AuditFilter{Target: "REFAAAAAA1"}, k(1, 0)},
		{"by target, in scope", sup1, store.AuditFilter{Target: "REFAAAAAA1"}, k(0)},
		{"from", sup1, store.AuditFilter{From: base.Add(2 * time.Hour)}, k(5, 4, 2)},
		{"to (exclusive)", sup1, store.AuditFilter{To: base.Add(24 * time.Hour)}, k(2, 0)},
		{"from and to", op, store.AuditFilter{From: base.Add(time.Hour), To: base.Add(25 * time.Hour)}, k(4, 3, 2, 1)},
		{"limit", op, store.AuditFilter{Limit: 2}, k(5, 4)},
		{"actor and action", sup1, store.AuditFilter{Actor: "staff:g1", Action: "read_attempt"}, k(5, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.AuditInScope(ctx(), tc.sc, tc.f)
			must(t, err)
			if !slices.Equal(key(got), tc.want) {
				t.Fatalf("got %v\nwant %v", key(got), tc.want)
			}
		})
	}
	// Page by page: Before is the last ID of the previous page.
	var pages []string
	f := store.AuditFilter{Limit: 2}
	for {
		page, err := s.AuditInScope(ctx(), op, f)
		must(t, err)
		if len(page) == 0 {
			break
		}
		pages = append(pages, key(page)...)
		f.Before = page[len(page)-1].ID
	}
	if !slices.Equal(pages, k(5, 4, 3, 2, 1, 0)) {
		t.Fatalf("paged: %v", pages)
	}
	_, err := s.AuditInScope(ctx(), op, store.AuditFilter{Actor: "a\x00"})
	wantErr(t, err, store.ErrInvalidField)
	_, err = s.AuditInScope(ctx(), op, store.AuditFilter{Action: strings.Repeat("a", store.MaxWordLength+1)})
	wantErr(t, err, store.ErrInvalidField)
}
