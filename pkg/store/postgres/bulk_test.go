package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestBulkConformance(t *testing.T) {
	storetest.RunBulk(t, func(t *testing.T) store.Store { return newStore(t) })
}

// TestCopyPersonsConcurrent copies the same new records from two
// connections at once: the loser's COPY meets the winner's rows and its
// batch is upserted instead; both succeed.
func TestCopyPersonsConcurrent(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 5; round++ {
		var ps []store.Person
		for i := 0; i < 300; i++ {
			ps = append(ps, store.Person{ExternalID: fmt.Sprintf("r%d-%d", round, i), Role: store.RoleStudent, LastName: "Иванов"})
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for w := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = s.CopyPersons(ctx, "t1", ps)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountPersons(ctx, "t1"); err != nil || n != 1500 {
		t.Fatalf("CountPersons = %d, %v", n, err)
	}
}
