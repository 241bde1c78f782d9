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

// TestWhichTokenWritesCommitAsync: only a store asked to, only a batch
// that takes nothing away, and only a batch that is its own transaction.
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if postgres.CommitsAsync(durable, ctx, tt.batch) {
				t.Fatal("a durable store committed asynchronously")
			}
			if got := postgres.CommitsAsync(async, ctx, tt.batch); got != tt.async {
				t.Fatalf("async store: commits asynchronously = %v, want %v", got, tt.async)
			}
			err := async.InTx(ctx, func(ctx context.Context) error {
				if postgres.CommitsAsync(async, ctx, tt.batch) {
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
	if inBatch != "off" || after != "on" {
		t.Fatalf("synchronous_commit in the batch %q, after it %q; want off, on", inBatch, after)
	}
}
