package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

// TestConformanceAsyncTokenCommit: a store whose token writes commit
// asynchronously keeps every promise of the OAuth conformance tests (the
// gates, the races, revocation).
func TestConformanceAsyncTokenCommit(t *testing.T) {
	storetest.RunOAuth(t, func(t *testing.T) store.Store { return newStore(t).WithAsyncTokenCommit() })
}

// TestWhichTokenWritesCommitAsync: ApplyOAuth's batch begins with the
// asynchronous commit only on a store asked for it, only for a batch that
// takes nothing away, and only when the batch is its own transaction.
func TestWhichTokenWritesCommitAsync(t *testing.T) {
	ctx := context.Background()
	durable := newStore(t)
	async := durable.WithAsyncTokenCommit()
	code := store.OAuthRecord{Kind: store.OAuthCode, Signature: "c1", RequestID: "r1", Active: true, Data: []byte("{}")}
	grant := &store.OAuthGrant{RequestID: "r1", Data: []byte("{}")}
	tests := []struct {
		name  string
		batch store.OAuthBatch
		async bool
	}{
		{"an authorization's code", store.OAuthBatch{Create: []store.OAuthRecord{code}}, true},
		{"an exchange", store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: "c1"}, Grant: grant}, true},
		{"a rotation", store.OAuthBatch{GrantRotation: &store.OAuthGrantRotation{RequestID: "r1", Presented: "a", Refresh: "b", At: time.Now()},
			DeleteRequests: []store.OAuthRequestRef{{Kind: store.OAuthAccess, RequestID: "r1"}}}, true},
		{"a revocation", store.OAuthBatch{Deactivate: []store.OAuthRequestRef{{Kind: store.OAuthRefresh, RequestID: "r1"}}}, false},
		{"a deletion", store.OAuthBatch{Delete: []store.OAuthRef{{Kind: store.OAuthCode, Signature: "c1"}}}, false},
		{"reuse: a deletion and a revocation", store.OAuthBatch{Delete: []store.OAuthRef{{Kind: store.OAuthRefresh, Signature: "s1"}},
			Deactivate: []store.OAuthRequestRef{{Kind: store.OAuthAccess, RequestID: "r1"}}}, false},
	}
	first := func(t *testing.T, s *postgres.Store, ctx context.Context, b store.OAuthBatch) bool {
		t.Helper()
		sqls, err := postgres.QueuedOAuth(s, ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range sqls {
			if q == postgres.AsyncCommit && i > 0 {
				t.Fatalf("the asynchronous commit is statement %d, not the first", i)
			}
		}
		return len(sqls) > 0 && sqls[0] == postgres.AsyncCommit
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if first(t, durable, ctx, tt.batch) {
				t.Fatal("a durable store committed asynchronously")
			}
			if got := first(t, async, ctx, tt.batch); got != tt.async {
				t.Fatalf("async store: commits asynchronously = %v, want %v", got, tt.async)
			}
			err := async.InTx(ctx, func(ctx context.Context) error {
				if first(t, async, ctx, tt.batch) {
					t.Error("a batch inside a caller's transaction committed asynchronously")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAsyncCommitIsTransactionLocal: the setting reaches the statements
// after it in its pipelined batch, and not the connection's next
// transaction.
func TestAsyncCommitIsTransactionLocal(t *testing.T) {
	ctx := context.Background()
	conn, err := pgtest.NewPool(t).Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var before string
	if err := conn.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before == "off" {
		t.Fatal("the test cluster runs with synchronous_commit off: nothing to tell apart")
	}
	b := &pgx.Batch{}
	b.Queue(postgres.AsyncCommit)
	var inBatch string
	b.Queue(`SELECT current_setting('synchronous_commit')`).QueryRow(func(r pgx.Row) error { return r.Scan(&inBatch) })
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	var after string
	if err := conn.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if inBatch != "off" || after != before {
		t.Fatalf("synchronous_commit in the batch %q, after it %q; want off, %s", inBatch, after, before)
	}
}
