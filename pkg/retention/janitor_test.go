package retention_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/retention"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

var day = 24 * time.Hour

// TestJanitor runs the janitor with an injected clock on both stores: two
// tenants, one with the default periods and one with its own, rows on
// either side of each cut-off, batches smaller than the work.
func TestJanitor(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"memory":     func(t *testing.T) store.Store { return memory.New(nil) },
		"postgresql": func(t *testing.T) store.Store { return postgres.New(pgtest.NewPool(t), nil) },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) { testJanitor(t, newStore(t)) })
	}
}

func testJanitor(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Date(2027, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tn := range []store.Tenant{
		{ID: "def"}, // 365 / 30 / 90 days
		{ID: "own", Retention: store.RetentionPolicy{AttemptDays: 30, OutboxDays: 7, OutboxFailedDays: 14}},
	} {
		if err := s.CreateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	attempt := func(ref, tenantID, outcome string, at time.Time) {
		t.Helper()
		if err := s.RecordAttempt(ctx, store.Attempt{Ref: ref, TenantID: tenantID, ClientID: "diary", Outcome: outcome},
			store.AttemptEvent{Step: "authorize", At: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendAudit(ctx, store.AuditEntry{TenantID: tenantID, Actor: "support", Action: store.AuditReadAttempt, Target: ref, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	event := func(id, tenantID string, status store.EventStatus, at time.Time) {
		t.Helper()
		e := store.OutboxEvent{ID: id, TenantID: tenantID, Type: "link.created", CreatedAt: at.Add(-time.Hour), Status: status}
		if status == store.EventDelivered {
			e.DeliveredAt = at
		} else {
			e.NextAttemptAt = at
		}
		if err := s.EnqueueEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ticket := func(id, tenantID string, at time.Time) {
		t.Helper()
		// Without contact and comment: the PostgreSQL store here has no sealer.
		if err := s.CreateTicket(ctx, store.Ticket{ID: id, TenantID: tenantID, Ref: id, State: store.TicketNew, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	// Three tickets due per tenant (after the tenant's attempt period), and
	// one kept at the cut-off and one within it.
	for i := range 3 {
		n := time.Duration(i) * time.Minute
		ticket(fmt.Sprintf("T-DEF-OLD-%d", i), "def", now.Add(-366*day-n))
		ticket(fmt.Sprintf("T-OWN-OLD-%d", i), "own", now.Add(-31*day-n))
	}
	ticket("T-DEF-EDGE", "def", now.AddDate(0, 0, -365))
	ticket("T-OWN-KEEP", "own", now.Add(-29*day))
	// Five of each kind due, so that batches of two take three rounds.
	for i := range 5 {
		n := time.Duration(i) * time.Minute
		attempt(fmt.Sprintf("DEF-OLD-%d", i), "def", "linked", now.Add(-366*day-n))
		attempt(fmt.Sprintf("OWN-OLD-%d", i), "own", "not_found", now.Add(-31*day-n))
		event(fmt.Sprintf("def-delivered-%d", i), "def", store.EventDelivered, now.Add(-31*day-n))
		event(fmt.Sprintf("own-delivered-%d", i), "own", store.EventDelivered, now.Add(-8*day-n))
		event(fmt.Sprintf("def-dead-%d", i), "def", store.EventDead, now.Add(-91*day-n))
		event(fmt.Sprintf("own-dead-%d", i), "own", store.EventDead, now.Add(-15*day-n))
		attempt(fmt.Sprintf("GONE-%d", i), []string{"def", "own"}[i%2], store.OutcomeInProgress, now.Add(-16*time.Minute-n))
	}
	// Kept: within the periods (the default tenant's are longer), or at
	// the cut-off itself, or still within the login time-out.
	attempt("DEF-KEEP", "def", "linked", now.Add(-200*day))
	attempt("DEF-EDGE", "def", "linked", now.AddDate(0, 0, -365))
	attempt("OWN-KEEP", "own", "linked", now.Add(-29*day))
	attempt("WAITING", "own", store.OutcomeInProgress, now.Add(-14*time.Minute))
	attempt("EDGE-TTL", "own", store.OutcomeInProgress, now.Add(-15*time.Minute))
	event("def-delivered-keep", "def", store.EventDelivered, now.Add(-20*day))
	event("own-delivered-keep", "own", store.EventDelivered, now.Add(-6*day))
	event("def-dead-keep", "def", store.EventDead, now.Add(-80*day))
	event("own-dead-keep", "own", store.EventDead, now.Add(-13*day))
	event("own-pending", "own", store.EventPending, now.Add(-400*day))

	j := &retention.Janitor{Store: s, PendingTTL: 15 * time.Minute, Now: func() time.Time { return now }, Batch: 2}
	r, err := j.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := retention.Report{Abandoned: 5, Attempts: 10, AuditEntries: 10, OutboxDelivered: 10, OutboxDead: 10, Tickets: 6}
	if r != want {
		t.Fatalf("report = %+v, want %+v", r, want)
	}
	if again, err := j.Run(ctx); err != nil || again != (retention.Report{}) {
		t.Fatalf("second run = %+v, %v; want nothing left", again, err)
	}

	for _, ref := range []string{"DEF-KEEP", "DEF-EDGE", "OWN-KEEP", "WAITING", "EDGE-TTL", "GONE-0", "GONE-1"} {
		a, err := s.GetAttempt(ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		abandoned := a.Outcome == store.OutcomeAbandoned
		if abandoned != (ref == "GONE-0" || ref == "GONE-1") {
			t.Fatalf("%s outcome %q", ref, a.Outcome)
		}
	}
	for _, ref := range []string{"DEF-OLD-0", "DEF-OLD-4", "OWN-OLD-0", "OWN-OLD-4"} {
		if _, err := s.GetAttempt(ctx, ref); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s still there: %v", ref, err)
		}
	}
	tickets, err := s.TicketsInScope(ctx, store.Scope{Role: store.StaffOperator}, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, k := range tickets {
		left = append(left, k.ID)
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"T-DEF-EDGE", "T-OWN-KEEP"}) {
		t.Fatalf("tickets left %v", left)
	}
	for tenantID, keep := range map[string][]string{
		"def": {"def-dead-keep", "def-delivered-keep"},
		"own": {"own-dead-keep", "own-delivered-keep", "own-pending"},
	} {
		es, err := s.ListEvents(ctx, tenantID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, keep) {
			t.Fatalf("%s events left %v, want %v", tenantID, ids, keep)
		}
		entries, err := s.ListAudit(ctx, tenantID, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := s.GetAttempt(ctx, e.Target); err != nil {
				t.Fatalf("%s: audit entry of a destroyed attempt left: %+v", tenantID, e)
			}
		}
	}
}
