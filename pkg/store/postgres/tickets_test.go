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

// TestTicketReportSealed: what an anonymous reporter wrote is not in the
// tickets table in plaintext.
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
	var row string
	if err := s.Pool().QueryRow(ctx, `SELECT t::text FROM tickets t WHERE id = 'k1'`).Scan(&row); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"mother", "example.ru", "Павлов"} {
		if strings.Contains(row, secret) {
			t.Fatalf("the tickets row holds %q in plaintext: %s", secret, row)
		}
	}
	got, err := s.TicketInScope(ctx, store.Scope{Role: store.StaffOperator}, "k1")
	if err != nil || got.Contact != "mother@example.ru" || got.Comment != "Сын Павлов не может войти" {
		t.Fatalf("read back: %+v %v", got, err)
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
	old := pii.ActiveKeyID()
	c.advance(time.Second)
	newID, err := pii.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := a.SealedKeys(ctx)
	if err != nil || counts[store.SealedTickets][old] != 1 || len(counts[store.SealedTickets]) != 1 {
		t.Fatalf("sealed keys: %v %v", counts, err)
	}
	if _, err := pg.Pool().Exec(ctx, `UPDATE keys SET retired_at = now() WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	if deleted, err := a.DeleteSealingKey(ctx, old); err != nil || deleted {
		t.Fatalf("DeleteSealingKey with a ticket under it: %v %v", deleted, err)
	}
	n, next, err := a.Reseal(ctx, store.SealedTickets, []string{old}, 10, "")
	if err != nil || n != 1 || next != "" {
		t.Fatalf("reseal: %d %q %v", n, next, err)
	}
	counts, _ = a.SealedKeys(ctx)
	if counts[store.SealedTickets][newID] != 1 || counts[store.SealedTickets][old] != 0 {
		t.Fatalf("after re-sealing: %v", counts)
	}
	got, err := a.TicketInScope(ctx, store.Scope{Role: store.StaffOperator}, "k1")
	if err != nil || got.Contact != "mother@example.ru" || got.Comment != "помогите" {
		t.Fatalf("read after re-sealing: %+v %v", got, err)
	}
}
