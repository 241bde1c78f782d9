package postgres_test

import (
	"context"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestRecordsConformance(t *testing.T) {
	storetest.RunRecords(t, func(t *testing.T) store.Store { return newStore(t) })
}

// TestAttemptRecordsBackfill: attempts recorded before migration 31 are
// found by the records their link events named once it is applied.
func TestAttemptRecordsBackfill(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	// Back to before migration 31: while attempt_records is there.
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'attempt_records'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if err := postgres.MigrateDown(ctx, pool, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO attempts (ref, tenant_id, created_at, updated_at) VALUES
			('REF0000001', 't1', '2026-01-01T10:00:00Z', now()), ('REF0000002', 't1', '2026-01-02T10:00:00Z', now());
		INSERT INTO attempt_events (ref, step, at, detail) VALUES
			('REF0000001', 'authorize', now(), '{"role":""}'),
			('REF0000001', 'link', now(), '{"candidates":[{"record":"s-1"},{"record":"s-2"},{"record":"s-1"}],"suspended_links":[{"record":"s-3"}]}'),
			('REF0000002', 'link', now(), '{"manual_record":"s-1","candidates":"odd"}'),
			('REF0000002', 'note', now(), '[1, 2]'),
			('REF0000002', 'none', now(), NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	// The foreign key added NOT VALID by 00031 is validated by 00032.
	var valid bool
	if err := pool.QueryRow(ctx, `SELECT convalidated FROM pg_constraint WHERE conname = 'attempt_records_ref_fkey'`).Scan(&valid); err != nil || !valid {
		t.Fatalf("attempt_records_ref_fkey validated: %v, %v", valid, err)
	}
	st := postgres.New(pool, nil)
	for id, want := range map[string][]string{"s-1": {"REF0000002", "REF0000001"}, "s-2": {"REF0000001"}, "s-3": {"REF0000001"}} {
		got, err := st.AttemptsByRecord(ctx, "t1", id, 0)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, a := range got {
			refs = append(refs, a.Ref)
		}
		if len(refs) != len(want) || refs[0] != want[0] || refs[len(refs)-1] != want[len(want)-1] {
			t.Fatalf("%s: attempts %v, want %v", id, refs, want)
		}
	}
}
