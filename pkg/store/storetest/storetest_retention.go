package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// RunRetention runs the conformance tests of store.Retention — the
// abandonment of unfinished logins and the destruction of attempts and
// webhook events past their tenant's retention — and of the retention
// settings of tenants, against stores made by newStore.
func RunRetention(t *testing.T, newStore NewStore) {
	tests := []consentTest{
		{"TenantRetention", testTenantRetention},
		{"AbandonAttempts", testAbandonAttempts},
		{"DestroyAttempts", testDestroyAttempts},
		{"PurgeEvents", testPurgeEvents},
		{"RetentionConcurrent", testRetentionConcurrent},
		{"RetentionTxRollback", testRetentionTxRollback},
		{"AttemptValues", testAttemptValues},
		{"DestroyAttemptValues", testDestroyAttemptValues},
	}
	runConsentStore(t, newStore, tests)
}

// testTenantRetention: the three periods round-trip per tenant, 0 stands
// for the default, and a negative period is refused.
func testTenantRetention(t *testing.T, s ConsentStore) {
	t1 := mkTenant(t, s, "t1")
	t2 := t1
	t2.ID, t2.Retention = "t2", store.RetentionPolicy{AttemptDays: 30, OutboxDays: 7, OutboxFailedDays: 14, RecheckDays: 10}
	must(t, s.CreateTenant(ctx(), t2))
	for id, want := range map[string]store.RetentionPolicy{"t1": {}, "t2": t2.Retention} {
		got, err := s.GetTenant(ctx(), id)
		must(t, err)
		if got.Retention != want {
			t.Fatalf("%s retention = %+v, want %+v", id, got.Retention, want)
		}
	}
	if got := t2.Retention.Effective(); got != t2.Retention {
		t.Fatalf("effective %+v, want it unchanged", got)
	}
	if got, want := (store.RetentionPolicy{OutboxDays: 3}).Effective(), (store.RetentionPolicy{AttemptDays: 365, OutboxDays: 3, OutboxFailedDays: 90, RecheckDays: 30}); got != want {
		t.Fatalf("effective %+v, want %+v", got, want)
	}
	t1.Retention.OutboxFailedDays = 180
	must(t, s.UpdateTenant(ctx(), t1))
	if got, _ := s.GetTenant(ctx(), "t1"); got.Retention != (store.RetentionPolicy{OutboxFailedDays: 180}) {
		t.Fatalf("updated retention = %+v", got.Retention)
	}
	bad := t1
	bad.Retention.AttemptDays = -1
	wantErr(t, s.UpdateTenant(ctx(), bad), store.ErrInvalid)
	bad.ID = "t3"
	wantErr(t, s.CreateTenant(ctx(), bad), store.ErrInvalid)
	if got, _ := s.GetTenant(ctx(), "t1"); got.Retention != (store.RetentionPolicy{OutboxFailedDays: 180}) {
		t.Fatalf("refused update changed retention to %+v", got.Retention)
	}
}

// attemptAt records an attempt of tenant created at created, whose last
// event is at last, with outcome.
func attemptAt(t *testing.T, s store.Store, ref, tenantID, outcome string, created, last time.Time) {
	t.Helper()
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: ref, TenantID: tenantID, ClientID: "diary", Outcome: store.OutcomeInProgress},
		store.AttemptEvent{Step: "authorize", At: created}))
	if outcome != store.OutcomeInProgress || !last.Equal(created) {
		must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: ref, Outcome: outcome},
			store.AttemptEvent{Step: "esia", At: last, Detail: json.RawMessage(`{"candidates":[{"record":"s-` + ref + `"}]}`)}))
	}
}

// testAbandonAttempts: only attempts still in progress whose last event
// is before the cut-off become abandoned — of every tenant, oldest first,
// in batches — with an event saying so; finished ones and those within
// the time-out stay as they are.
func testAbandonAttempts(t *testing.T, s ConsentStore) {
	const ttl = 15 * time.Minute
	now := base.Add(time.Hour)
	cut := now.Add(-ttl)
	attemptAt(t, s, "OLD1", "t1", store.OutcomeInProgress, base, base)                                         // 60 min ago
	attemptAt(t, s, "OLD2", "t2", store.OutcomeInProgress, base, base.Add(10*time.Minute))                     // last event 50 min ago
	attemptAt(t, s, "OLD3", "t1", store.OutcomeInProgress, base.Add(20*time.Minute), base.Add(30*time.Minute)) // 30 min ago
	attemptAt(t, s, "EDGE", "t1", store.OutcomeInProgress, cut, cut)                                           // exactly the time-out
	attemptAt(t, s, "NEW1", "t2", store.OutcomeInProgress, now.Add(-time.Minute), now.Add(-time.Minute))
	attemptAt(t, s, "LATE", "t1", store.OutcomeInProgress, base, now.Add(-5*time.Minute)) // started long ago, still active
	attemptAt(t, s, "DONE", "t1", "linked", base, base)                                   // finished long ago

	abandon := func(limit int) []string {
		t.Helper()
		refs, err := s.AbandonAttempts(ctx(), cut, now, limit)
		must(t, err)
		return refs
	}
	wantIDs(t, "first batch", abandon(2), []string{"OLD1", "OLD2"})
	wantIDs(t, "second batch", abandon(2), []string{"OLD3"})
	wantIDs(t, "third batch", abandon(2), nil)
	for ref, want := range map[string]string{"OLD1": store.OutcomeAbandoned, "OLD2": store.OutcomeAbandoned, "OLD3": store.OutcomeAbandoned,
		"EDGE": store.OutcomeInProgress, "NEW1": store.OutcomeInProgress, "LATE": store.OutcomeInProgress, "DONE": "linked"} {
		a, err := s.GetAttempt(ctx(), ref)
		must(t, err)
		if a.Outcome != want {
			t.Fatalf("%s outcome = %q, want %q", ref, a.Outcome, want)
		}
		last := a.Events[len(a.Events)-1]
		if abandoned := last.Step == store.OutcomeAbandoned; abandoned != (want == store.OutcomeAbandoned) {
			t.Fatalf("%s events = %+v", ref, a.Events)
		}
		if want == store.OutcomeAbandoned && (!a.UpdatedAt.Equal(now) || !last.At.Equal(now) || !a.CreatedAt.Before(cut)) {
			t.Fatalf("%s abandoned at %v (event %v), created %v; want %v", ref, a.UpdatedAt, last.At, a.CreatedAt, now)
		}
	}
	// A login that finishes after all (a late callback) still records its outcome.
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "OLD1", Outcome: "linked"}, store.AttemptEvent{Step: "link", At: now.Add(time.Second)}))
	if a, _ := s.GetAttempt(ctx(), "OLD1"); a.Outcome != "linked" {
		t.Fatalf("late outcome = %q", a.Outcome)
	}
}

// testDestroyAttempts: a tenant's attempts created before the cut-off
// go, oldest first and in batches, with the records they named and the
// audit entries of their reading; the other tenant's, newer ones and
// other audit entries stay.
func testDestroyAttempts(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	cut := base.Add(24 * time.Hour)
	attemptAt(t, s, "A1", "t1", "not_found", base, base.Add(time.Minute))
	attemptAt(t, s, "A2", "t1", "linked", base.Add(time.Hour), base.Add(time.Hour))
	attemptAt(t, s, "A3", "t1", store.OutcomeAbandoned, base.Add(2*time.Hour), base.Add(2*time.Hour))
	attemptAt(t, s, "AE", "t1", "linked", cut, cut) // at the cut-off: kept
	attemptAt(t, s, "AN", "t1", "linked", cut.Add(time.Hour), cut.Add(time.Hour))
	attemptAt(t, s, "B1", "t2", "linked", base, base.Add(time.Minute)) // as old, other tenant
	audit := func(tenantID, action, target string) {
		must(t, s.AppendAudit(ctx(), store.AuditEntry{TenantID: tenantID, Actor: "support", Action: action, Target: target, At: base}))
	}
	audit("t1", store.AuditReadAttempt, "A1")
	audit("t1", store.AuditReadAttempt, "A1")
	audit("t1", store.AuditReadAttempt, "A3")
	audit("t1", store.AuditReadAttempt, "AN")
	audit("t1", "unlink", "A1") // another action naming the same string: not an attempt's entry
	audit("t2", store.AuditReadAttempt, "B1")

	destroy := func(limit int) ([]string, int) {
		t.Helper()
		refs, n, err := s.DestroyAttempts(ctx(), "t1", cut, limit)
		must(t, err)
		return refs, n
	}
	if refs, n := destroy(2); !slices.Equal(refs, []string{"A1", "A2"}) || n != 2 {
		t.Fatalf("first batch: %v with %d audit entries, want [A1 A2] with 2", refs, n)
	}
	if refs, n := destroy(2); !slices.Equal(refs, []string{"A3"}) || n != 1 {
		t.Fatalf("second batch: %v with %d audit entries, want [A3] with 1", refs, n)
	}
	if refs, n := destroy(2); len(refs) != 0 || n != 0 {
		t.Fatalf("third batch: %v with %d audit entries, want none", refs, n)
	}
	for _, ref := range []string{"A1", "A2", "A3"} {
		_, err := s.GetAttempt(ctx(), ref)
		wantErr(t, err, store.ErrNotFound)
		if got, err := s.AttemptsByRecord(ctx(), "t1", "s-"+ref, 0); err != nil || len(got) != 0 {
			t.Fatalf("record s-%s still names %+v (%v)", ref, got, err)
		}
	}
	for _, ref := range []string{"AE", "AN", "B1"} {
		_, err := s.GetAttempt(ctx(), ref)
		must(t, err)
	}
	if got, err := s.AttemptsByRecord(ctx(), "t2", "s-B1", 0); err != nil || len(got) != 1 {
		t.Fatalf("t2's record lost its attempt: %+v (%v)", got, err)
	}
	left := func(tenantID string) []string {
		es, err := s.ListAudit(ctx(), tenantID, 0)
		must(t, err)
		var out []string
		for _, e := range es {
			out = append(out, e.Action+":"+e.Target)
		}
		return out
	}
	wantIDs(t, "t1 audit left", left("t1"), []string{"unlink:A1", "read_attempt:AN"})
	wantIDs(t, "t2 audit left", left("t2"), []string{"read_attempt:B1"})
	// Entries keep counting up after a destruction.
	audit("t1", "read_attempt", "AN")
	if es, _ := s.ListAudit(ctx(), "t1", 0); len(es) != 3 || es[0].ID <= es[1].ID {
		t.Fatalf("audit after destruction = %+v", es)
	}
}

// testPurgeEvents: delivered events go after their delivery, dead ones
// after their last attempt — a retried one starts again —, per tenant,
// oldest first, in batches; pending events are never purged.
func testPurgeEvents(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	cut := base.Add(30 * 24 * time.Hour)
	ev := func(id, tenantID string, status store.EventStatus, at time.Time) {
		e := mkEvent(id, tenantID, "consent.granted", base)
		e.Status = status
		switch status {
		case store.EventDelivered:
			e.DeliveredAt, e.Attempts = at, 1
		case store.EventDead:
			e.NextAttemptAt, e.Attempts, e.LastError = at, 12, "HTTP 500"
		default:
			e.NextAttemptAt = at
		}
		must(t, s.EnqueueEvent(ctx(), e))
	}
	ev("d1", "t1", store.EventDelivered, base.Add(time.Hour))
	ev("d2", "t1", store.EventDelivered, base.Add(2*time.Hour))
	ev("d3", "t1", store.EventDelivered, base.Add(3*time.Hour))
	ev("dE", "t1", store.EventDelivered, cut)
	ev("dN", "t1", store.EventDelivered, cut.Add(time.Hour))
	ev("x1", "t1", store.EventDead, base.Add(time.Hour))
	ev("xR", "t1", store.EventDead, base.Add(2*time.Hour)) // retried below
	ev("xN", "t1", store.EventDead, cut.Add(time.Hour))
	ev("p1", "t1", store.EventPending, base) // pending for long: never purged
	ev("e1", "t2", store.EventDelivered, base.Add(time.Hour))
	ev("y1", "t2", store.EventDead, base.Add(time.Hour))
	must(t, s.RetryEvent(ctx(), "t1", "xR", cut.Add(time.Minute)))
	must(t, s.MarkFailed(ctx(), "xR", cut.Add(time.Hour), "HTTP 500", true))

	purge := func(tenantID string, status store.EventStatus, limit int) []string {
		t.Helper()
		ids, err := s.PurgeEvents(ctx(), tenantID, status, cut, limit)
		must(t, err)
		return ids
	}
	wantIDs(t, "delivered, first batch", purge("t1", store.EventDelivered, 2), []string{"d1", "d2"})
	wantIDs(t, "delivered, second batch", purge("t1", store.EventDelivered, 2), []string{"d3"})
	wantIDs(t, "delivered, third batch", purge("t1", store.EventDelivered, 2), nil)
	wantIDs(t, "dead", purge("t1", store.EventDead, 0), []string{"x1"})
	_, err := s.PurgeEvents(ctx(), "t1", store.EventPending, cut, 0)
	wantErr(t, err, store.ErrInvalid)
	_, err = s.PurgeEvents(ctx(), "t1", "", cut, 0)
	wantErr(t, err, store.ErrInvalid)
	ids := eventIDs(listEvents(t, s, "t1", "", 0))
	slices.Sort(ids)
	wantIDs(t, "t1 events left", ids, []string{"dE", "dN", "p1", "xN", "xR"})
	ids = eventIDs(listEvents(t, s, "t2", "", 0))
	slices.Sort(ids)
	wantIDs(t, "t2 events left", ids, []string{"e1", "y1"})
}

// testRetentionConcurrent: janitors running at once on several replicas
// handle every due row exactly once.
func testRetentionConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	now := base.Add(400 * 24 * time.Hour)
	var attempts, old, events []string
	for i := range 40 {
		ref := fmt.Sprintf("R%03d", i)
		at := base.Add(time.Duration(i%7) * time.Minute)
		attemptAt(t, s, ref, "t1", store.OutcomeInProgress, at, at)
		must(t, s.AppendAudit(ctx(), store.AuditEntry{TenantID: "t1", Actor: "support", Action: store.AuditReadAttempt, Target: ref}))
		attempts = append(attempts, ref)
		ref = fmt.Sprintf("Q%03d", i)
		attemptAt(t, s, ref, "t1", "linked", at, at)
		old = append(old, ref)
		e := mkEvent(fmt.Sprintf("ev-%02d", i), "t1", "link.created", base)
		e.Status, e.DeliveredAt = store.EventDelivered, at
		must(t, s.EnqueueEvent(ctx(), e))
		events = append(events, e.ID)
	}
	claimAll(t, 6, attempts, func() ([]string, error) {
		return s.AbandonAttempts(ctx(), now.Add(-15*time.Minute), now, 3)
	})
	var (
		mu     sync.Mutex
		audits int
	)
	claimAll(t, 6, append(slices.Clone(attempts), old...), func() ([]string, error) {
		var refs []string
		err := s.InTx(ctx(), func(ctx context.Context) error {
			var n int
			var err error
			refs, n, err = s.DestroyAttempts(ctx, "t1", now, 3)
			mu.Lock()
			audits += n
			mu.Unlock()
			return err
		})
		return refs, err
	})
	if audits != len(attempts) {
		t.Fatalf("%d audit entries destroyed, want %d", audits, len(attempts))
	}
	claimAll(t, 6, events, func() ([]string, error) {
		return s.PurgeEvents(ctx(), "t1", store.EventDelivered, now, 3)
	})
	if es, _ := s.ListAudit(ctx(), "t1", 0); len(es) != 0 {
		t.Fatalf("audit entries left: %+v", es)
	}
}

// testRetentionTxRollback: a destruction undone with its transaction
// leaves the attempt, its records and its audit entries as they were.
func testRetentionTxRollback(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	attemptAt(t, s, "A1", "t1", "not_found", base, base.Add(time.Minute))
	must(t, s.AppendAudit(ctx(), store.AuditEntry{TenantID: "t1", Actor: "support", Action: store.AuditReadAttempt, Target: "A1", At: base}))
	e := mkEvent("d1", "t1", "link.created", base)
	e.Status, e.DeliveredAt = store.EventDelivered, base
	must(t, s.EnqueueEvent(ctx(), e))
	before, err := s.GetAttempt(ctx(), "A1")
	must(t, err)
	cut := base.Add(time.Hour)
	err = s.InTx(ctx(), func(ctx context.Context) error {
		if refs, _, err := s.DestroyAttempts(ctx, "t1", cut, 0); err != nil || len(refs) != 1 {
			return fmt.Errorf("destroy in the transaction: %v %v", refs, err)
		}
		if ids, err := s.PurgeEvents(ctx, "t1", store.EventDelivered, cut, 0); err != nil || len(ids) != 1 {
			return fmt.Errorf("purge in the transaction: %v %v", ids, err)
		}
		return errRollback
	})
	wantErr(t, err, errRollback)
	after, err := s.GetAttempt(ctx(), "A1")
	must(t, err)
	if !reflect.DeepEqual(normalise(before), normalise(after)) {
		t.Fatalf("attempt after rollback = %+v, want %+v", after, before)
	}
	if got, _ := s.AttemptsByRecord(ctx(), "t1", "s-A1", 0); len(got) != 1 {
		t.Fatalf("record lost its attempt: %+v", got)
	}
	if es, _ := s.ListAudit(ctx(), "t1", 0); len(es) != 1 {
		t.Fatalf("audit after rollback = %+v", es)
	}
	if es := listEvents(t, s, "t1", "", 0); len(es) != 1 {
		t.Fatalf("events after rollback = %v", eventIDs(es))
	}
}

// normalise makes an attempt comparable across stores (JSON spacing).
func normalise(a store.Attempt) store.Attempt {
	for i, ev := range a.Events {
		var v any
		if json.Unmarshal(ev.Detail, &v) == nil {
			a.Events[i].Detail, _ = json.Marshal(v)
		}
	}
	return a
}
