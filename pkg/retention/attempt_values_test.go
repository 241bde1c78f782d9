package retention_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/retention"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestJanitorDestroysAttemptValues: the sealed ESIA-side values kept for
// the console's re-check survive a janitor run at the end of the tenant's
// period (the default 30 days, or its own) and are destroyed by one a
// second later — the attempt stays, the report and the metric's kind
// count them — on both stores, with an injected clock.
func TestJanitorDestroysAttemptValues(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"memory": func(t *testing.T) store.Store { return memory.New(nil) },
		"postgresql": func(t *testing.T) store.Store {
			kek, err := keyring.NewKEK(bytes.Repeat([]byte{7}, 32))
			if err != nil {
				t.Fatal(err)
			}
			pii, err := keyring.OpenPII(context.Background(), memory.New(nil), kek, nil)
			if err != nil {
				t.Fatal(err)
			}
			return postgres.New(pgtest.NewPool(t), pii)
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			ctx := context.Background()
			kept := time.Date(2027, 12, 1, 12, 0, 0, 0, time.UTC)
			for _, tn := range []store.Tenant{{ID: "def"}, {ID: "own", Retention: store.RetentionPolicy{RecheckDays: 7}}} {
				if err := s.CreateTenant(ctx, tn); err != nil {
					t.Fatal(err)
				}
				ref := "REF-" + tn.ID
				if err := s.RecordAttempt(ctx, store.Attempt{Ref: ref, TenantID: tn.ID, ClientID: "diary", Outcome: "not_found"},
					store.AttemptEvent{Step: "link", At: kept}); err != nil {
					t.Fatal(err)
				}
				if err := s.KeepAttemptValues(ctx, store.AttemptValues{Ref: ref, TenantID: tn.ID, Data: []byte(`{"snils":"10451789344"}`), KeptAt: kept}); err != nil {
					t.Fatal(err)
				}
			}
			run := func(now time.Time) retention.Report {
				t.Helper()
				r, err := (&retention.Janitor{Store: s, Now: func() time.Time { return now }}).Run(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			alive := func(ref string) bool {
				t.Helper()
				v, err := s.GetAttemptValues(ctx, ref)
				if err != nil {
					t.Fatalf("%s: %v", ref, err)
				}
				return v.Data != nil
			}
			own, def := 7*24*time.Hour, time.Duration(store.DefaultRetention().RecheckDays)*24*time.Hour
			steps := []struct {
				name     string
				at       time.Time
				want     int
				own, def bool
			}{
				{"the own period's end", kept.Add(own), 0, true, true},
				{"a second after the own period", kept.Add(own + time.Second), 1, false, true},
				{"the default period's end", kept.Add(def), 0, false, true},
				{"a second after the default period", kept.Add(def + time.Second), 1, false, false},
			}
			for _, st := range steps {
				r := run(st.at)
				if r.AttemptValues != st.want || r.Destroyed()["attempt_values"] != st.want {
					t.Fatalf("%s: report %+v, want %d attempt values", st.name, r, st.want)
				}
				if alive("REF-own") != st.own || alive("REF-def") != st.def {
					t.Fatalf("%s: own kept %v, default kept %v", st.name, alive("REF-own"), alive("REF-def"))
				}
			}
			for _, ref := range []string{"REF-own", "REF-def"} {
				if _, err := s.GetAttempt(ctx, ref); err != nil {
					t.Fatalf("%s: the attempt went with its values: %v", ref, err)
				}
				if v, _ := s.GetAttemptValues(ctx, ref); v.DestroyedAt.IsZero() {
					t.Fatalf("%s: no time of destruction", ref)
				}
			}
			if _, err := s.GetAttemptValues(ctx, "REF-none"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unknown ref: %v", err)
			}
		})
	}
}
