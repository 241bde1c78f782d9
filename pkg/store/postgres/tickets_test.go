package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
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
