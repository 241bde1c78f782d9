package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// eventIndexes lists attempt_events' indexes as "name: definition".
func eventIndexes(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT indexname || ': ' || regexp_replace(indexdef, '^.* USING ', '')
		FROM pg_indexes WHERE tablename = 'attempt_events' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAttemptEventsOneIndex: after migration 00112 an attempt's events
// are kept under one index, the primary key (ref, id); rolling it back
// restores the two (id; ref, id) and applying it again the one, the
// events kept through both and read in the order they were recorded.
// Applied again over what a failed run leaves — a stray index of the new
// one's name, then the swap given up on its lock timeout while another
// transaction holds the table — it fails without harm and a rerun
// completes it.
func TestAttemptEventsOneIndex(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := postgres.New(pool, nil)
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	steps := []string{"authorize", "esia_redirect", "esia_callback", "matched", "code_issued"}
	for i, step := range steps {
		if err := s.RecordAttempt(ctx, store.Attempt{Ref: "REF-1", TenantID: "t1", ClientID: "diary", Outcome: "in_progress"},
			store.AttemptEvent{Step: step, At: at.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	read := func() []string {
		t.Helper()
		a, err := s.GetAttempt(ctx, "REF-1")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range a.Events {
			got = append(got, e.Step)
		}
		return got
	}
	one := []string{"attempt_events_pkey: btree (ref, id)"}
	two := []string{"attempt_events_pkey: btree (id)", "attempt_events_ref: btree (ref, id)"}
	if got := eventIndexes(t, pool); !slices.Equal(got, one) {
		t.Fatalf("indexes %q, want %q", got, one)
	}
	if err := postgres.MigrateDown(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if got := eventIndexes(t, pool); !slices.Equal(got, two) {
		t.Fatalf("rolled back: indexes %q, want %q", got, two)
	}
	if got := read(); !slices.Equal(got, steps) {
		t.Fatalf("rolled back: events %q, want %q", got, steps)
	}
	// A stray index of the new one's name, as a build that failed
	// half-way leaves it: replaced.
	if _, err := pool.Exec(ctx, `CREATE INDEX attempt_events_ref_id ON attempt_events (step)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if got := eventIndexes(t, pool); !slices.Equal(got, one) {
		t.Fatalf("applied over a stray index: indexes %q, want %q", got, one)
	}
	// The swap waits for the table's lock at most its lock_timeout: with
	// another transaction holding the table it gives up, keeps what was
	// there, and a rerun completes it.
	if err := postgres.MigrateDown(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `LOCK TABLE attempt_events IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("applied while another transaction held the table: %v", err)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := eventIndexes(t, pool); !slices.Equal(got, append(slices.Clone(two), "attempt_events_ref_id: btree (ref, id)")) {
		t.Fatalf("after the lock timeout: indexes %q", got)
	}
	if got := read(); !slices.Equal(got, steps) {
		t.Fatalf("after the lock timeout: events %q, want %q", got, steps)
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if got := eventIndexes(t, pool); !slices.Equal(got, one) {
		t.Fatalf("applied again: indexes %q, want %q", got, one)
	}
	if got := read(); !slices.Equal(got, steps) {
		t.Fatalf("applied again: events %q, want %q", got, steps)
	}
}
