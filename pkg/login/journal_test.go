package login_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/store"
)

// countingStore counts RecordAttempt calls (writes) on top of downStore.
type countingStore struct {
	*downStore
	mu     sync.Mutex
	writes int
}

func (c *countingStore) RecordAttempt(ctx context.Context, a store.Attempt, evs ...store.AttemptEvent) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.downStore.RecordAttempt(ctx, a, evs...)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

func steps(t *testing.T, st store.Attempts, ref string) []string {
	t.Helper()
	a, err := st.GetAttempt(context.Background(), ref)
	if err != nil {
		t.Fatalf("GetAttempt(%s): %v", ref, err)
	}
	var out []string
	for _, ev := range a.Events {
		out = append(out, ev.Step)
	}
	return out
}

// TestJournal: the attempt events a request records under a journal are
// written at its flush, one write per attempt, in order and with the
// summary recording them one by one would leave; afterwards, or without a
// journal, each is written at once; a full journal keeps the order.
func TestJournal(t *testing.T) {
	newSvc := func(t *testing.T) (*login.Service, *countingStore, *fixture) {
		f := newFixture(t, nil)
		cs := &countingStore{downStore: f.st}
		svc := login.New(login.Config{ESIA: f.up, Sessions: sessions.NewMemory(nil), Attempts: cs, Tenants: f.st, Roster: f.st,
			Logger: slog.New(slog.NewJSONHandler(f.logs, nil))})
		return svc, cs, f
	}
	t.Run("kept until flushed, one write per attempt", func(t *testing.T) {
		svc, cs, f := newSvc(t)
		ctx := login.WithJournal(context.Background())
		svc.RecordStep(ctx, "REFJOURNA1", "esia", store.OutcomeInProgress, "", map[string]any{"level": "CONFIRMED"})
		svc.RecordStep(ctx, "REFJOURNA2", "authorize", store.OutcomeInProgress, "", nil)
		svc.RecordStep(ctx, "REFJOURNA1", "link", "linked", "", nil)
		svc.RecordStep(ctx, "REFJOURNA1", "consent", "", "", map[string]any{"decision": "granted"})
		svc.RecordStep(ctx, "REFJOURNA1", "issued", "issued", "", nil)
		if n := cs.count(); n != 0 {
			t.Fatalf("%d writes before the flush", n)
		}
		if _, err := f.st.GetAttempt(ctx, "REFJOURNA1"); err == nil {
			t.Fatal("the attempt is stored before the flush")
		}
		svc.FlushJournal(ctx)
		if n := cs.count(); n != 2 {
			t.Fatalf("%d writes at the flush, want 2 (one per attempt)", n)
		}
		if got, want := steps(t, f.st, "REFJOURNA1"), []string{"esia", "link", "consent", "issued"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("steps = %v, want %v", got, want)
		}
		a, _ := f.st.GetAttempt(ctx, "REFJOURNA1")
		if a.Outcome != "issued" {
			t.Fatalf("outcome = %q, want the last given", a.Outcome)
		}
		// After the flush an event is written at once; a second flush
		// writes nothing again.
		svc.RecordStep(ctx, "REFJOURNA2", "failed", "esia_unavailable", "esia_unavailable", nil)
		svc.FlushJournal(ctx)
		if n := cs.count(); n != 3 {
			t.Fatalf("%d writes, want 3", n)
		}
		if got := steps(t, f.st, "REFJOURNA2"); !reflect.DeepEqual(got, []string{"authorize", "failed"}) {
			t.Fatalf("steps = %v", got)
		}
	})
	t.Run("without a journal each event is written at once", func(t *testing.T) {
		svc, cs, _ := newSvc(t)
		ctx := context.Background()
		svc.RecordStep(ctx, "REFJOURNA3", "authorize", store.OutcomeInProgress, "", nil)
		svc.RecordStep(ctx, "REFJOURNA3", "link", "linked", "", nil)
		svc.FlushJournal(ctx) // nothing to do
		if n := cs.count(); n != 2 {
			t.Fatalf("%d writes, want 2", n)
		}
	})
	t.Run("a full journal keeps the order", func(t *testing.T) {
		svc, _, f := newSvc(t)
		ctx := login.WithJournal(context.Background())
		var want []string
		for i := range store.MaxAttemptEventsPerWrite + 5 {
			step := fmt.Sprintf("s%02d", i)
			want = append(want, step)
			svc.RecordStep(ctx, "REFJOURNA4", step, store.OutcomeInProgress, "", nil)
		}
		svc.FlushJournal(ctx)
		if got := steps(t, f.st, "REFJOURNA4"); !reflect.DeepEqual(got, want) {
			t.Fatalf("steps = %v, want %v", got, want)
		}
	})
	t.Run("a store that is down is logged at the flush", func(t *testing.T) {
		f := newFixture(t, nil)
		ctx := login.WithJournal(context.Background())
		f.svc.RecordStep(ctx, "REFJOURNA5", "link", "linked", "", nil)
		f.st.mu.Lock()
		f.st.down = true
		f.st.mu.Unlock()
		f.svc.FlushJournal(ctx)
		if !strings.Contains(f.logs.String(), "recording login attempt failed") || !strings.Contains(f.logs.String(), "REFJOURNA5") {
			t.Fatalf("logs: %s", f.logs.String())
		}
	})
}
