package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestTicketsConformance(t *testing.T) {
	storetest.RunTickets(t, func(t *testing.T) store.Store { return newStore(t) })
}

// TestTicketReportSealed: what an anonymous reporter wrote, and what staff
// wrote on the ticket (comments, the resolution), is not in the tickets
// or ticket_notes tables in plaintext, and reads back whole.
func TestTicketReportSealed(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1", DisplayName: "Д", OperatorName: "О", OperatorAddress: "А", TimeZone: "Europe/Moscow",
		Consent: store.DefaultConsentPolicy()}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTicket(ctx, store.Ticket{ID: "k1", TenantID: "t1", Ref: "REFAAAAAA1", State: store.TicketNew,
		Contact: "mother@example.ru", Comment: "Сын Павлов не может войти"}); err != nil {
		t.Fatal(err)
	}
	op := store.Scope{Role: store.StaffOperator}
	for _, ch := range []store.TicketChange{
		{Author: "staff:g1", Note: "Звонила маме Павловой, СНИЛС 104-517-893 44"},
		{Author: "staff:g1", Resolve: true, Resolution: "Павлову исправили СНИЛС в записи"},
	} {
		if _, err := s.ChangeTicket(ctx, op, "k1", ch); err != nil {
			t.Fatal(err)
		}
	}
	var row string
	if err := s.Pool().QueryRow(ctx, `SELECT (SELECT t::text FROM tickets t WHERE id = 'k1') ||
		(SELECT string_agg(n::text, ' ') FROM ticket_notes n WHERE ticket_id = 'k1')`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"mother", "example.ru", "Павлов", "104-517", "СНИЛС"} {
		if strings.Contains(row, secret) {
			t.Fatalf("the ticket's rows hold %q in plaintext: %s", secret, row)
		}
	}
	got, err := s.TicketInScope(ctx, op, "k1")
	if err != nil || got.Contact != "mother@example.ru" || got.Comment != "Сын Павлов не может войти" ||
		len(got.Notes) != 1 || got.Notes[0].Text != "Звонила маме Павловой, СНИЛС 104-517-893 44" ||
		got.Resolution != "Павлову исправили СНИЛС в записи" || got.State != store.TicketResolved {
		t.Fatalf("read back: %+v %v", got, err)
	}
	// A comment written before comments were sealed (migration 00090)
	// still reads.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO ticket_notes (ticket_id, at, author, body) VALUES ('k1', now(), 'staff:g0', 'старый комментарий')`); err != nil {
		t.Fatal(err)
	}
	if got, err = s.TicketInScope(ctx, op, "k1"); err != nil || len(got.Notes) != 2 || got.Notes[1].Text != "старый комментарий" {
		t.Fatalf("with an unsealed comment: %+v %v", got.Notes, err)
	}
}

// TestResealTickets: a ticket's sealed report is counted under its key,
// keeps its key from being deleted, and is re-sealed under the new key
// after a rotation, readable throughout.
func TestResealTickets(t *testing.T) {
	ctx := context.Background()
	pg := postgres.New(pgtest.NewPool(t), nil)
	c := newClock()
	a, pii := replica(t, pg, c)
	if err := a.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []store.Ticket{
		{ID: "k1", TenantID: "t1", Ref: "REFAAAAAA1", State: store.TicketNew, Contact: "mother@example.ru", Comment: "помогите"},
		{ID: "k2", TenantID: "t1", Ref: "REFAAAAAA2", State: store.TicketNew}, // nothing sealed
	} {
		if err := a.CreateTicket(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	op := store.Scope{Role: store.StaffOperator}
	for _, ch := range []store.TicketChange{{Author: "staff:g1", Note: "звонок"}, {Author: "staff:g1", Resolve: true, Resolution: "исправлено"}} {
		if _, err := a.ChangeTicket(ctx, op, "k1", ch); err != nil {
			t.Fatal(err)
		}
	}
	old := pii.ActiveKeyID()
	c.advance(time.Second)
	newID, err := pii.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := a.SealedKeys(ctx)
	for _, table := range []store.SealedTable{store.SealedTickets, store.SealedTicketNotes, store.SealedTicketResolutions} {
		if err != nil || counts[table][old] != 1 || len(counts[table]) != 1 {
			t.Fatalf("sealed keys of %s: %v %v", table, counts, err)
		}
	}
	if _, err := pg.Pool().Exec(ctx, `UPDATE keys SET retired_at = now() WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	if deleted, err := a.DeleteSealingKey(ctx, old); err != nil || deleted {
		t.Fatalf("DeleteSealingKey with a ticket under it: %v %v", deleted, err)
	}
	for _, table := range []store.SealedTable{store.SealedTickets, store.SealedTicketNotes, store.SealedTicketResolutions} {
		n, next, err := a.Reseal(ctx, table, []string{old}, 10, "")
		if err != nil || n != 1 || next != "" {
			t.Fatalf("reseal %s: %d %q %v", table, n, next, err)
		}
	}
	counts, _ = a.SealedKeys(ctx)
	for _, table := range []store.SealedTable{store.SealedTickets, store.SealedTicketNotes, store.SealedTicketResolutions} {
		if counts[table][newID] != 1 || counts[table][old] != 0 {
			t.Fatalf("after re-sealing %s: %v", table, counts)
		}
	}
	if deleted, err := a.DeleteSealingKey(ctx, old); err != nil || !deleted {
		t.Fatalf("DeleteSealingKey after re-sealing: %v %v", deleted, err)
	}
	got, err := a.TicketInScope(ctx, op, "k1")
	if err != nil || got.Contact != "mother@example.ru" || got.Comment != "помогите" || len(got.Notes) != 1 || got.Notes[0].Text != "звонок" ||
		got.Resolution != "исправлено" {
		t.Fatalf("read after re-sealing: %+v %v", got, err)
	}
}
