package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store/postgres"
)

// awaitLockWait polls (bounded, nothing sleeps through a TTL) until a
// statement of this database whose text is LIKE like waits on a lock, and
// reports whether one did within ten seconds.
func awaitLockWait(t *testing.T, s *postgres.Store, like string) bool {
	t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var waiting bool
		if err := s.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1)`, like).Scan(&waiting); err != nil {
			t.Error(err)
			return false
		}
		if waiting {
			return true
		}
	}
	return false
}

// heldTx runs fn in a transaction that stays open after fn returns, until
// release is closed: step gets fn's error, then done the transaction's.
func heldTx(s *postgres.Store, fn func(ctx context.Context) error) (step <-chan error, release chan struct{}, done <-chan error) {
	stepc, donec, release := make(chan error, 1), make(chan error, 1), make(chan struct{})
	go func() {
		donec <- s.InTx(context.Background(), func(ctx context.Context) error {
			err := fn(ctx)
			stepc <- err
			<-release
			return err
		})
	}()
	return stepc, release, donec
}
