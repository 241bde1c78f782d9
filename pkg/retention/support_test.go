package retention_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/retention"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestJanitorDestroysStaffSignIns: the support console's sign-ins are
// attempts of no tenant (/support belongs to none); they are destroyed
// after the default attempt period like a tenant's, on both stores.
func TestJanitorDestroysStaffSignIns(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"memory":     func(t *testing.T) store.Store { return memory.New(nil) },
		"postgresql": func(t *testing.T) store.Store { return postgres.New(pgtest.NewPool(t), nil) },
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			now := time.Date(2027, 12, 1, 12, 0, 0, 0, time.UTC)
			days := store.DefaultRetention().AttemptDays
			for ref, at := range map[string]time.Time{
				"STAFF00OLD": now.AddDate(0, 0, -days).Add(-time.Hour),
				"STAFF00NEW": now.AddDate(0, 0, -days).Add(time.Hour),
			} {
				if err := s.RecordAttempt(ctx, store.Attempt{Ref: ref, ClientID: "support-console", Outcome: "staff"},
					store.AttemptEvent{Step: "authorize", At: at}); err != nil {
					t.Fatal(err)
				}
			}
			j := &retention.Janitor{Store: s, Now: func() time.Time { return now }}
			if _, err := j.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetAttempt(ctx, "STAFF00OLD"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a sign-in past the period: %v, want it destroyed", err)
			}
			if _, err := s.GetAttempt(ctx, "STAFF00NEW"); err != nil {
				t.Errorf("a sign-in within the period: %v", err)
			}
		})
	}
}
