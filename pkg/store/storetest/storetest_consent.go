package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// ConsentStore is what RunConsent tests: a store that also keeps consents
// and the webhook outbox.
type ConsentStore interface {
	store.Store
	store.Consents
	store.Outbox
}

// RunConsent runs the conformance tests of store.Consents and store.Outbox
// against stores made by newStore, which must implement both.
func RunConsent(t *testing.T, newStore NewStore) {
	tests := []consentTest{
		{"Consents", testConsents},
		{"OneGrantedConsent", testOneGrantedConsent},
		{"ConsentTimes", testConsentTimes},
		{"EndConsentIsAtomic", testEndConsentIsAtomic},
		{"ExpireConsents", testExpireConsents},
		{"ExpireConsentsConcurrent", testExpireConsentsConcurrent},
		{"Requests", testRequests},
		{"OpenRequestConcurrent", testOpenRequestConcurrent},
		{"CloseRequestIsAtomic", testCloseRequestIsAtomic},
		{"DeclinesConcurrent", testDeclinesConcurrent},
		{"ExpireRequests", testExpireRequests},
		{"ExpireRequestsConcurrent", testExpireRequestsConcurrent},
		{"OpenRequestOf", testOpenRequestOf},
		{"ExpiredRequestIsClosedToParents", testExpiredRequestIsClosedToParents},
		{"LockConsents", testLockConsents},
		{"Evidence", testEvidence},
		{"ClaimWithdrawn", testClaimWithdrawn},
		{"ClaimWithdrawnConcurrent", testClaimWithdrawnConcurrent},
		{"DestroyEvidenceClearsOIDs", testDestroyEvidenceClearsOIDs},
		{"Outbox", testOutbox},
		{"OutboxInvalid", testOutboxInvalid},
		{"ClaimEventsConcurrent", testClaimEventsConcurrent},
		{"ConsentTxRollback", testConsentTxRollback},
		{"ConsentTxCommit", testConsentTxCommit},
	}
	runConsentStore(t, newStore, tests)
}

// consentTest is a conformance test of a ConsentStore.
type consentTest struct {
	name string
	fn   func(t *testing.T, s ConsentStore)
}

// runConsentStore runs each test as a subtest on a store of its own made by
// newStore, which must be a ConsentStore.
func runConsentStore(t *testing.T, newStore NewStore, tests []consentTest) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			cs, ok := s.(ConsentStore)
			if !ok {
				t.Fatalf("%T does not implement store.Consents and store.Outbox", s)
			}
			tc.fn(t, cs)
		})
	}
}

// msk is a zone other than UTC: stores must return times in UTC.
var msk = time.FixedZone("MSK", 3*60*60)

// sameTimes checks times to the instant, and that non-zero ones are in UTC.
func sameTimes(t *testing.T, what string, got, want []time.Time) {
	t.Helper()
	for i := range got {
		if !got[i].Equal(want[i]) || !got[i].IsZero() && got[i].Location() != time.UTC {
			t.Fatalf("%s: time #%d = %v, want %v in UTC", what, i, got[i], want[i])
		}
	}
}

func sameConsent(t *testing.T, got, want store.Consent) {
	t.Helper()
	sameTimes(t, "consent "+want.ID, []time.Time{got.GrantedAt, got.ExpiresAt, got.EndedAt},
		[]time.Time{want.GrantedAt, want.ExpiresAt, want.EndedAt})
	got.GrantedAt, got.ExpiresAt, got.EndedAt = time.Time{}, time.Time{}, time.Time{}
	want.GrantedAt, want.ExpiresAt, want.EndedAt = time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("consent = %+v\nwant %+v", got, want)
	}
}

func sameRequest(t *testing.T, got, want store.ConsentRequest) {
	t.Helper()
	sameTimes(t, "request "+want.ID, []time.Time{got.CreatedAt, got.ExpiresAt, got.ClosedAt},
		[]time.Time{want.CreatedAt, want.ExpiresAt, want.ClosedAt})
	got.CreatedAt, got.ExpiresAt, got.ClosedAt = time.Time{}, time.Time{}, time.Time{}
	want.CreatedAt, want.ExpiresAt, want.ClosedAt = time.Time{}, time.Time{}, time.Time{}
	if len(got.Declines) != len(want.Declines) {
		t.Fatalf("request %s: declines = %+v, want %+v", want.ID, got.Declines, want.Declines)
	}
	got.Declines, want.Declines = slices.Clone(got.Declines), slices.Clone(want.Declines)
	for i := range got.Declines {
		sameTimes(t, "decline of "+want.Declines[i].ParentRecord, []time.Time{got.Declines[i].At}, []time.Time{want.Declines[i].At})
		got.Declines[i].At, want.Declines[i].At = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("request = %+v\nwant %+v", got, want)
	}
}

func sameEvent(t *testing.T, got, want store.OutboxEvent) {
	t.Helper()
	sameTimes(t, "event "+want.ID, []time.Time{got.CreatedAt, got.NextAttemptAt, got.DeliveredAt},
		[]time.Time{want.CreatedAt, want.NextAttemptAt, want.DeliveredAt})
	if !jsonEqual(got.Data, want.Data) {
		t.Fatalf("event %s: data = %s, want %s", want.ID, got.Data, want.Data)
	}
	got.CreatedAt, got.NextAttemptAt, got.DeliveredAt, got.Data = time.Time{}, time.Time{}, time.Time{}, nil
	want.CreatedAt, want.NextAttemptAt, want.DeliveredAt, want.Data = time.Time{}, time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("event = %+v\nwant %+v", got, want)
	}
}

// jsonEqual compares JSON by meaning (a jsonb column respaces it).
func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func consentIDs(cs []store.Consent) []string {
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func requestIDs(rs []store.ConsentRequest) []string {
	ids := []string{}
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func eventIDs(es []store.OutboxEvent) []string {
	ids := []string{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func mkConsent(id, tenantID, personID string, granted time.Time) store.Consent {
	return store.Consent{ID: id, TenantID: tenantID, PersonID: personID, Kind: store.ConsentSelf,
		GrantorOID: "1000", TextVersion: "1", TextHash: "9f86d081884c7d65", GrantedAt: granted}
}

func consentsOf(t *testing.T, s ConsentStore, tenantID, personID string) []store.Consent {
	t.Helper()
	cs, err := s.ConsentsOf(ctx(), tenantID, personID)
	must(t, err)
	return cs
}

func testConsents(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	c1 := store.Consent{ID: "c-1", TenantID: "t1", PersonID: "s-1", Kind: store.ConsentParental,
		GrantorOID: "1000", GrantorRecord: "p-1", RequestID: "r-1", TextVersion: "1", TextHash: "9f86d081884c7d65",
		Status: store.ConsentGranted, GrantedAt: base, ExpiresAt: base.Add(365 * 24 * time.Hour)}
	must(t, s.CreateConsent(ctx(), c1))
	wantErr(t, s.CreateConsent(ctx(), c1), store.ErrAlreadyExists)
	for _, tc := range []struct {
		name string
		edit func(c *store.Consent)
	}{
		{"no id", func(c *store.Consent) { c.ID = "" }},
		{"no tenant", func(c *store.Consent) { c.TenantID = "" }},
		{"no record", func(c *store.Consent) { c.PersonID = "" }},
		{"unknown kind", func(c *store.Consent) { c.Kind = "implied" }},
		{"unknown status", func(c *store.Consent) { c.Status = "paused" }},
		{"unknown tenant", func(c *store.Consent) { c.TenantID = "t9" }},
	} {
		c := mkConsent("c-bad", "t1", "s-1", base)
		tc.edit(&c)
		if err := s.CreateConsent(ctx(), c); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	// An empty status is granted; of two consents granted at the same
	// instant, the one stored later is newer. (A record has one granted
	// consent of a kind: c-2 is stored ended.)
	want2 := mkConsent("c-2", "t1", "s-1", base.Add(time.Hour))
	want2.Status, want2.EndedAt, want2.EndReason = store.ConsentSuperseded, base.Add(time.Hour), "text_version"
	must(t, s.CreateConsent(ctx(), want2))
	must(t, s.CreateConsent(ctx(), mkConsent("c-3", "t1", "s-1", base.Add(time.Hour))))
	must(t, s.CreateConsent(ctx(), mkConsent("c-4", "t2", "s-1", base)))
	must(t, s.CreateConsent(ctx(), mkConsent("c-5", "t1", "s-2", base)))

	list := consentsOf(t, s, "t1", "s-1")
	wantIDs(t, "ConsentsOf(t1, s-1)", consentIDs(list), []string{"c-3", "c-2", "c-1"})
	sameConsent(t, list[2], c1)
	sameConsent(t, list[1], want2)
	want3 := mkConsent("c-3", "t1", "s-1", base.Add(time.Hour))
	want3.Status = store.ConsentGranted
	sameConsent(t, list[0], want3)
	wantIDs(t, "ConsentsOf(t2, s-1)", consentIDs(consentsOf(t, s, "t2", "s-1")), []string{"c-4"})
	wantIDs(t, "ConsentsOf(t1, nobody)", consentIDs(consentsOf(t, s, "t1", "nobody")), nil)

	// Ending: only a granted consent, only in its tenant, only to an end state.
	wantErr(t, s.EndConsent(ctx(), "t2", "c-1", store.ConsentRevoked, "revoked_by_parent", base), store.ErrNotFound)
	wantErr(t, s.EndConsent(ctx(), "t1", "nope", store.ConsentRevoked, "revoked_by_parent", base), store.ErrNotFound)
	for _, st := range []store.ConsentStatus{store.ConsentGranted, "", "paused"} {
		wantErr(t, s.EndConsent(ctx(), "t1", "c-1", st, "x", base), store.ErrInvalid)
	}
	ended := base.Add(2 * time.Hour)
	must(t, s.EndConsent(ctx(), "t1", "c-1", store.ConsentRevoked, "revoked_by_parent", ended))
	wantErr(t, s.EndConsent(ctx(), "t1", "c-1", store.ConsentSuperseded, "text_version", ended), store.ErrInactive)
	wantErr(t, s.EndConsent(ctx(), "t1", "c-2", store.ConsentRevoked, "revoked_by_user", ended), store.ErrInactive)
	list = consentsOf(t, s, "t1", "s-1")
	want1 := c1
	want1.Status, want1.EndedAt, want1.EndReason = store.ConsentRevoked, ended, "revoked_by_parent"
	sameConsent(t, list[2], want1)
	sameConsent(t, list[1], want2)
	if list[0].Status != store.ConsentGranted {
		t.Fatalf("c-3 = %+v", list[0])
	}
	if other := consentsOf(t, s, "t2", "s-1"); other[0].Status != store.ConsentGranted {
		t.Fatalf("ending t1's consent changed t2's: %+v", other[0])
	}
}

// testOneGrantedConsent: a record has at most one granted consent of a
// kind in a tenant, however many grants race (the backstop of
// LockConsents); ended consents, the other kind, another record and
// another tenant are not counted.
func testOneGrantedConsent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	must(t, s.CreateConsent(ctx(), mkConsent("c-1", "t1", "s-1", base)))
	wantErr(t, s.CreateConsent(ctx(), mkConsent("c-2", "t1", "s-1", base.Add(time.Hour))), store.ErrAlreadyExists)
	other := mkConsent("c-2", "t1", "s-1", base.Add(time.Hour))
	other.TextVersion, other.TextHash = "2", "60303ae22b998861" // another text is another consent of the same kind
	wantErr(t, s.CreateConsent(ctx(), other), store.ErrAlreadyExists)
	parental := mkConsent("c-3", "t1", "s-1", base)
	parental.Kind = store.ConsentParental
	must(t, s.CreateConsent(ctx(), parental))
	must(t, s.CreateConsent(ctx(), mkConsent("c-4", "t1", "s-2", base)))
	must(t, s.CreateConsent(ctx(), mkConsent("c-5", "t2", "s-1", base)))
	ended := mkConsent("c-6", "t1", "s-1", base)
	ended.Status, ended.EndedAt, ended.EndReason = store.ConsentSuperseded, base, "text_version"
	must(t, s.CreateConsent(ctx(), ended))
	must(t, s.EndConsent(ctx(), "t1", "c-1", store.ConsentSuperseded, "text_version", base.Add(time.Hour)))
	must(t, s.CreateConsent(ctx(), other))
	granted := 0
	for _, c := range consentsOf(t, s, "t1", "s-1") {
		if c.Status == store.ConsentGranted && c.Kind == store.ConsentSelf {
			granted++
		}
	}
	if granted != 1 {
		t.Fatalf("t1/s-1: %d granted self consents, want 1", granted)
	}

	// Grants that race without the lock (a record outside the roster):
	// one is stored, the others are refused, inside transactions or not.
	for round, inTx := range []bool{false, true} {
		id := fmt.Sprintf("r-%d", round)
		errs := race(8, func(i int) error {
			c := mkConsent(fmt.Sprintf("c-%s-%d", id, i), "t1", id, base)
			if !inTx {
				return s.CreateConsent(ctx(), c)
			}
			return s.InTx(ctx(), func(ctx context.Context) error { return s.CreateConsent(ctx, c) })
		})
		oneWins(t, errs, store.ErrAlreadyExists)
		if cs := consentsOf(t, s, "t1", id); len(cs) != 1 {
			t.Fatalf("%s: %d consents, want 1", id, len(cs))
		}
	}
}

// testConsentTimes: times are kept to the microsecond and come back in UTC,
// whatever zone they were written in; zero times stay zero.
func testConsentTimes(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	odd := base.Add(1500 * time.Nanosecond).In(msk)
	c := mkConsent("c-1", "t1", "s-1", odd)
	must(t, s.CreateConsent(ctx(), c))
	must(t, s.EndConsent(ctx(), "t1", "c-1", store.ConsentRevoked, "r", odd.Add(time.Hour)))
	got := consentsOf(t, s, "t1", "s-1")[0]
	sameTimes(t, "consent", []time.Time{got.GrantedAt, got.ExpiresAt, got.EndedAt},
		[]time.Time{base.Add(time.Microsecond), {}, base.Add(time.Hour + time.Microsecond)})

	r, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", CreatedAt: odd})
	must(t, err)
	sameTimes(t, "open request", []time.Time{r.CreatedAt, r.ExpiresAt, r.ClosedAt}, []time.Time{base.Add(time.Microsecond), {}, {}})
	must(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: "p-1", At: odd}))
	must(t, s.CloseRequest(ctx(), "t1", "r-1", store.RequestGranted, odd))
	r, err = s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	sameTimes(t, "request", []time.Time{r.CreatedAt, r.ClosedAt, r.Declines[0].At},
		[]time.Time{base.Add(time.Microsecond), base.Add(time.Microsecond), base.Add(time.Microsecond)})

	must(t, s.AppendEvidence(ctx(), store.Evidence{TenantID: "t1", PersonID: "s-1", Event: "granted", At: odd}))
	ev, err := s.EvidenceOf(ctx(), "t1", "s-1")
	must(t, err)
	sameTimes(t, "evidence", []time.Time{ev[0].At}, []time.Time{base.Add(time.Microsecond)})

	must(t, s.EnqueueEvent(ctx(), store.OutboxEvent{ID: "ev-1", TenantID: "t1", Type: "consent.granted", CreatedAt: odd}))
	must(t, s.MarkDelivered(ctx(), "ev-1", odd))
	es, err := s.ListEvents(ctx(), "t1", "", 0)
	must(t, err)
	sameTimes(t, "event", []time.Time{es[0].CreatedAt, es[0].NextAttemptAt, es[0].DeliveredAt},
		[]time.Time{base.Add(time.Microsecond), base.Add(time.Microsecond), base.Add(time.Microsecond)})
}

// race runs fn n times at once and returns the errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWins checks that exactly one call succeeded and the others failed
// with lost, and returns the winner.
func oneWins(t *testing.T, errs []error, lost error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("calls %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lost):
			t.Fatalf("call %d: %v, want %v", i, err, lost)
		}
	}
	if winner < 0 {
		t.Fatal("no call won")
	}
	return winner
}

func testEndConsentIsAtomic(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	must(t, s.CreateConsent(ctx(), mkConsent("c-1", "t1", "s-1", base)))
	errs := race(16, func(i int) error {
		return s.EndConsent(ctx(), "t1", "c-1", store.ConsentRevoked, fmt.Sprintf("reason-%d", i), base.Add(time.Hour))
	})
	w := oneWins(t, errs, store.ErrInactive)
	if got := consentsOf(t, s, "t1", "s-1")[0]; got.EndReason != fmt.Sprintf("reason-%d", w) || got.Status != store.ConsentRevoked {
		t.Fatalf("stored %+v, but call %d won", got, w)
	}
}

func testExpireConsents(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	now := base.Add(24 * time.Hour)
	for _, c := range []struct {
		id, tenant string
		expires    time.Time
	}{
		{"due-3", "t1", now.Add(-time.Microsecond)},
		{"due-1", "t1", now.Add(-3 * time.Hour)},
		{"due-2", "t2", now.Add(-2 * time.Hour)},
		{"at-now", "t1", now}, // due strictly before now
		{"later", "t1", now.Add(time.Hour)},
		{"forever", "t1", time.Time{}},
		{"revoked", "t1", now.Add(-5 * time.Hour)},
	} {
		k := mkConsent(c.id, c.tenant, "s-"+c.id, base)
		k.ExpiresAt = c.expires
		must(t, s.CreateConsent(ctx(), k))
	}
	must(t, s.EndConsent(ctx(), "t1", "revoked", store.ConsentRevoked, "revoked_by_user", base.Add(time.Hour)))

	got, err := s.ExpireConsents(ctx(), now, 2)
	must(t, err)
	wantIDs(t, "first claim", consentIDs(got), []string{"due-1", "due-2"})
	want := mkConsent("due-2", "t2", "s-due-2", base)
	want.ExpiresAt = now.Add(-2 * time.Hour)
	want.Status, want.EndedAt, want.EndReason = store.ConsentExpired, want.ExpiresAt, "term"
	sameConsent(t, got[1], want)
	sameConsent(t, consentsOf(t, s, "t2", "s-due-2")[0], want)
	got, err = s.ExpireConsents(ctx(), now, 0)
	must(t, err)
	wantIDs(t, "second claim", consentIDs(got), []string{"due-3"})
	got, err = s.ExpireConsents(ctx(), now, 10)
	must(t, err)
	wantIDs(t, "third claim", consentIDs(got), nil)

	for id, st := range map[string]store.ConsentStatus{
		"at-now": store.ConsentGranted, "later": store.ConsentGranted, "forever": store.ConsentGranted, "revoked": store.ConsentRevoked,
	} {
		if c := consentsOf(t, s, "t1", "s-"+id)[0]; c.Status != st {
			t.Fatalf("%s: status %q, want %q", id, c.Status, st)
		}
	}
	if c := consentsOf(t, s, "t1", "s-revoked")[0]; c.EndReason != "revoked_by_user" {
		t.Fatalf("expiry touched a revoked consent: %+v", c)
	}
	wantErr(t, s.EndConsent(ctx(), "t1", "due-1", store.ConsentRevoked, "x", now), store.ErrInactive)
}

// claimAll runs workers that claim with claim until it returns nothing and
// checks that every id in want was claimed exactly once.
func claimAll(t *testing.T, workers int, want []string, claim func() ([]string, error)) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	errs := race(workers, func(int) error {
		for {
			ids, err := claim()
			if err != nil || len(ids) == 0 {
				return err
			}
			mu.Lock()
			for _, id := range ids {
				seen[id]++
			}
			mu.Unlock()
		}
	})
	must(t, errors.Join(errs...))
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s claimed %d times", id, n)
		}
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("%s never claimed", id)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("claimed %d rows, want %d", len(seen), len(want))
	}
}

func testExpireConsentsConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	now := base.Add(24 * time.Hour)
	var want []string
	for i := range 60 {
		c := mkConsent(fmt.Sprintf("c-%02d", i), []string{"t1", "t2"}[i%2], fmt.Sprintf("s-%d", i), base)
		c.ExpiresAt = now.Add(-time.Duration(i+1) * time.Minute)
		must(t, s.CreateConsent(ctx(), c))
		want = append(want, c.ID)
	}
	claimAll(t, 8, want, func() ([]string, error) {
		cs, err := s.ExpireConsents(ctx(), now, 3)
		for _, c := range cs {
			if c.Status != store.ConsentExpired {
				return nil, fmt.Errorf("claimed %s in status %s", c.ID, c.Status)
			}
		}
		return consentIDs(cs), err
	})
	got, err := s.ExpireConsents(ctx(), now, 0)
	must(t, err)
	wantIDs(t, "after the workers", consentIDs(got), nil)
}

func testRequests(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	r := store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", ChildOID: "2000",
		Parents: []string{"p-1", "p-2"}, CreatedAt: base, ExpiresAt: base.Add(72 * time.Hour)}
	got, created, err := s.OpenRequest(ctx(), r)
	must(t, err)
	want := r
	want.Status = store.RequestOpen
	if !created {
		t.Fatal("first OpenRequest did not create")
	}
	sameRequest(t, got, want)

	// The open request of the record is returned as it is.
	again := store.ConsentRequest{ID: "r-2", TenantID: "t1", PersonID: "s-1", Parents: []string{"p-3"}, CreatedAt: base.Add(time.Hour)}
	got, created, err = s.OpenRequest(ctx(), again)
	must(t, err)
	if created {
		t.Fatal("second OpenRequest created another request")
	}
	sameRequest(t, got, want)
	_, err = s.GetRequest(ctx(), "t1", "r-2")
	wantErr(t, err, store.ErrNotFound)
	// Another tenant's record of the same id is another record.
	other := store.ConsentRequest{ID: "r-3", TenantID: "t2", PersonID: "s-1", Parents: []string{"p-9"}, CreatedAt: base}
	_, created, err = s.OpenRequest(ctx(), other)
	must(t, err)
	if !created {
		t.Fatal("a request of another tenant was taken for t1's")
	}
	for _, tc := range []struct {
		name string
		edit func(r *store.ConsentRequest)
	}{
		{"no id", func(r *store.ConsentRequest) { r.ID = "" }},
		{"no tenant", func(r *store.ConsentRequest) { r.TenantID = "" }},
		{"no record", func(r *store.ConsentRequest) { r.PersonID = "" }},
		{"not open", func(r *store.ConsentRequest) { r.Status = store.RequestGranted }},
		{"unknown tenant", func(r *store.ConsentRequest) { r.TenantID = "t9" }},
	} {
		bad := store.ConsentRequest{ID: "r-bad", TenantID: "t1", PersonID: "s-new", CreatedAt: base}
		tc.edit(&bad)
		if _, _, err := s.OpenRequest(ctx(), bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}

	got, err = s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	sameRequest(t, got, want)
	_, err = s.GetRequest(ctx(), "t2", "r-1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetRequest(ctx(), "t1", "nope")
	wantErr(t, err, store.ErrNotFound)

	openFor := func(tenantID, parent string) []string {
		t.Helper()
		rs, err := s.OpenRequestsFor(ctx(), tenantID, parent)
		must(t, err)
		return requestIDs(rs)
	}
	wantIDs(t, "OpenRequestsFor(t1, p-1)", openFor("t1", "p-1"), []string{"r-1"})
	wantIDs(t, "OpenRequestsFor(t1, p-3)", openFor("t1", "p-3"), nil)
	wantIDs(t, "OpenRequestsFor(t2, p-1)", openFor("t2", "p-1"), nil)
	wantIDs(t, "OpenRequestsFor(t2, p-9)", openFor("t2", "p-9"), []string{"r-3"})
	// A parent of two children sees both requests, oldest first.
	_, _, err = s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-0", TenantID: "t1", PersonID: "s-0", Parents: []string{"p-1"}, CreatedAt: base.Add(-time.Hour)})
	must(t, err)
	wantIDs(t, "OpenRequestsFor(t1, p-1) of two children", openFor("t1", "p-1"), []string{"r-0", "r-1"})

	// A decline is kept, once per parent; the request stays open for the other.
	d := store.Decline{ParentRecord: "p-1", GrantorOID: "3000", At: base.Add(time.Hour)}
	must(t, s.AddDecline(ctx(), "t1", "r-1", d))
	wantErr(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: "p-1", GrantorOID: "3000", At: base.Add(2 * time.Hour)}), store.ErrAlreadyExists)
	wantErr(t, s.AddDecline(ctx(), "t2", "r-1", store.Decline{ParentRecord: "p-2"}), store.ErrNotFound)
	wantErr(t, s.AddDecline(ctx(), "t1", "nope", store.Decline{ParentRecord: "p-2"}), store.ErrNotFound)
	wantErr(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{At: base}), store.ErrInvalid)
	// A parent who is not in the roster is known by the ESIA oid.
	byOID := store.Decline{GrantorOID: "4000", At: base.Add(90 * time.Minute)}
	must(t, s.AddDecline(ctx(), "t1", "r-1", byOID))
	wantErr(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{GrantorOID: "4000"}), store.ErrAlreadyExists)
	want.Declines = []store.Decline{d, byOID}
	got, err = s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	sameRequest(t, got, want)
	wantIDs(t, "OpenRequestsFor(t1, p-2) after p-1 declined", openFor("t1", "p-2"), []string{"r-1"})

	// Closing: only an open request, only in its tenant, only to a closed state.
	for _, st := range []store.RequestStatus{store.RequestOpen, "", "cancelled"} {
		wantErr(t, s.CloseRequest(ctx(), "t1", "r-1", st, base), store.ErrInvalid)
	}
	wantErr(t, s.CloseRequest(ctx(), "t2", "r-1", store.RequestGranted, base), store.ErrNotFound)
	wantErr(t, s.CloseRequest(ctx(), "t1", "nope", store.RequestGranted, base), store.ErrNotFound)
	must(t, s.CloseRequest(ctx(), "t1", "r-1", store.RequestGranted, base.Add(2*time.Hour)))
	wantErr(t, s.CloseRequest(ctx(), "t1", "r-1", store.RequestExpired, base.Add(3*time.Hour)), store.ErrInactive)
	wantErr(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: "p-2"}), store.ErrInactive)
	want.Status, want.ClosedAt = store.RequestGranted, base.Add(2*time.Hour)
	got, err = s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	sameRequest(t, got, want)
	wantIDs(t, "OpenRequestsFor(t1, p-2) after the grant", openFor("t1", "p-2"), nil)

	// With no request open, the next one is created; ids stay unique.
	_, _, err = s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", CreatedAt: base.Add(5 * time.Hour)})
	wantErr(t, err, store.ErrAlreadyExists)
	got, created, err = s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-4", TenantID: "t1", PersonID: "s-1", Parents: []string{"p-2"}, CreatedAt: base.Add(5 * time.Hour)})
	must(t, err)
	if !created || got.ID != "r-4" || got.Status != store.RequestOpen || len(got.Declines) != 0 {
		t.Fatalf("new request after the grant: %+v created=%v", got, created)
	}
}

func testOpenRequestConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	const n = 16
	got := make([]store.ConsentRequest, n)
	created := make([]bool, n)
	errs := race(n, func(i int) (err error) {
		got[i], created[i], err = s.OpenRequest(ctx(), store.ConsentRequest{
			ID: fmt.Sprintf("r-%02d", i), TenantID: "t1", PersonID: "s-1", Parents: []string{"p-1"}, CreatedAt: base})
		return err
	})
	must(t, errors.Join(errs...))
	creator := -1
	for i := range n {
		if created[i] {
			if creator >= 0 {
				t.Fatalf("calls %d and %d both created a request", creator, i)
			}
			creator = i
		}
	}
	if creator < 0 {
		t.Fatal("no call created the request")
	}
	for i := range n {
		if got[i].ID != got[creator].ID || got[i].Status != store.RequestOpen {
			t.Fatalf("call %d got %+v, the creator %s", i, got[i], got[creator].ID)
		}
	}
	rs, err := s.OpenRequestsFor(ctx(), "t1", "p-1")
	must(t, err)
	wantIDs(t, "open requests", requestIDs(rs), []string{got[creator].ID})
}

func testCloseRequestIsAtomic(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	_, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", CreatedAt: base})
	must(t, err)
	// Two parents granting at once, and the expiry janitor: one wins.
	errs := race(16, func(i int) error {
		st := store.RequestGranted
		if i%4 == 0 {
			st = store.RequestExpired
		}
		return s.CloseRequest(ctx(), "t1", "r-1", st, base.Add(time.Duration(i)*time.Second))
	})
	w := oneWins(t, errs, store.ErrInactive)
	got, err := s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	if !got.ClosedAt.Equal(base.Add(time.Duration(w) * time.Second)) {
		t.Fatalf("stored %+v, but call %d won", got, w)
	}
}

func testDeclinesConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	_, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", CreatedAt: base})
	must(t, err)
	// Declines of different parents at once are all kept.
	const n = 8
	errs := race(n, func(i int) error {
		return s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: fmt.Sprintf("p-%d", i), At: base})
	})
	must(t, errors.Join(errs...))
	// The same parent declining from two tabs at once is kept once.
	errs = race(n, func(i int) error {
		return s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: "p-twice", GrantorOID: fmt.Sprint(i), At: base})
	})
	oneWins(t, errs, store.ErrAlreadyExists)
	got, err := s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	var parents []string
	for _, d := range got.Declines {
		parents = append(parents, d.ParentRecord)
	}
	slices.Sort(parents)
	wantIDs(t, "declined", parents, []string{"p-0", "p-1", "p-2", "p-3", "p-4", "p-5", "p-6", "p-7", "p-twice"})
}

func testExpireRequests(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	now := base.Add(72 * time.Hour)
	for _, r := range []struct {
		id, tenant string
		expires    time.Time
	}{
		{"due-2", "t2", now.Add(-time.Hour)},
		{"due-1", "t1", now.Add(-2 * time.Hour)},
		{"due-3", "t1", now.Add(-time.Microsecond)},
		{"at-now", "t1", now},
		{"later", "t1", now.Add(time.Hour)},
		{"forever", "t1", time.Time{}},
		{"granted", "t1", now.Add(-5 * time.Hour)},
	} {
		_, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: r.id, TenantID: r.tenant, PersonID: "s-" + r.id,
			Parents: []string{"p-1"}, CreatedAt: base, ExpiresAt: r.expires})
		must(t, err)
	}
	must(t, s.CloseRequest(ctx(), "t1", "granted", store.RequestGranted, base.Add(time.Hour)))
	must(t, s.AddDecline(ctx(), "t2", "due-2", store.Decline{ParentRecord: "p-1", At: base}))

	got, err := s.ExpireRequests(ctx(), now, 2)
	must(t, err)
	wantIDs(t, "first claim", requestIDs(got), []string{"due-1", "due-2"})
	want := store.ConsentRequest{ID: "due-2", TenantID: "t2", PersonID: "s-due-2", Parents: []string{"p-1"},
		Status: store.RequestExpired, Declines: []store.Decline{{ParentRecord: "p-1", At: base}},
		CreatedAt: base, ExpiresAt: now.Add(-time.Hour), ClosedAt: now.Add(-time.Hour)}
	sameRequest(t, got[1], want)
	stored, err := s.GetRequest(ctx(), "t2", "due-2")
	must(t, err)
	sameRequest(t, stored, want)
	got, err = s.ExpireRequests(ctx(), now, 0)
	must(t, err)
	wantIDs(t, "second claim", requestIDs(got), []string{"due-3"})
	got, err = s.ExpireRequests(ctx(), now, 0)
	must(t, err)
	wantIDs(t, "third claim", requestIDs(got), nil)
	for id, st := range map[string]store.RequestStatus{
		"at-now": store.RequestOpen, "later": store.RequestOpen, "forever": store.RequestOpen, "granted": store.RequestGranted,
	} {
		r, err := s.GetRequest(ctx(), "t1", id)
		must(t, err)
		if r.Status != st {
			t.Fatalf("%s: status %q, want %q", id, r.Status, st)
		}
	}
	wantErr(t, s.CloseRequest(ctx(), "t1", "due-1", store.RequestGranted, now), store.ErrInactive)
	// The record of an expired request can be asked again.
	_, created, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: "again", TenantID: "t1", PersonID: "s-due-1", CreatedAt: now})
	must(t, err)
	if !created {
		t.Fatal("an expired request still counts as open")
	}
}

func testExpireRequestsConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	now := base.Add(72 * time.Hour)
	var want []string
	for i := range 60 {
		id := fmt.Sprintf("r-%02d", i)
		_, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: id, TenantID: "t1", PersonID: fmt.Sprintf("s-%d", i),
			CreatedAt: base, ExpiresAt: now.Add(-time.Duration(i%7+1) * time.Minute)})
		must(t, err)
		want = append(want, id)
	}
	claimAll(t, 8, want, func() ([]string, error) {
		rs, err := s.ExpireRequests(ctx(), now, 3)
		return requestIDs(rs), err
	})
	got, err := s.ExpireRequests(ctx(), now, 0)
	must(t, err)
	wantIDs(t, "after the workers", requestIDs(got), nil)
}

func testOpenRequestOf(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	_, err := s.OpenRequestOf(ctx(), "t1", "s-1")
	wantErr(t, err, store.ErrNotFound)
	r := store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", ChildOID: "3001", Parents: []string{"p-1"},
		Status: store.RequestOpen, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	_, _, err = s.OpenRequest(ctx(), r)
	must(t, err)
	got, err := s.OpenRequestOf(ctx(), "t1", "s-1")
	must(t, err)
	sameRequest(t, got, r)
	_, err = s.OpenRequestOf(ctx(), "t2", "s-1") // another tenant's record
	wantErr(t, err, store.ErrNotFound)
	// Inside a transaction too, and it opens nothing.
	must(t, s.InTx(ctx(), func(ctx context.Context) error {
		got, err := s.OpenRequestOf(ctx, "t1", "s-1")
		if err == nil && got.ID != "r-1" {
			err = fmt.Errorf("in a transaction: %s", got.ID)
		}
		return err
	}))
	must(t, s.CloseRequest(ctx(), "t1", "r-1", store.RequestGranted, base))
	_, err = s.OpenRequestOf(ctx(), "t1", "s-1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
}

// testExpiredRequestIsClosedToParents: once the janitor expired a request
// a parent's decline or grant cannot land on it, and it is no longer the
// record's open request.
func testExpiredRequestIsClosedToParents(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	_, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", Parents: []string{"p-1", "p-2"},
		CreatedAt: base, ExpiresAt: base.Add(7 * 24 * time.Hour)})
	must(t, err)
	must(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: "p-1", At: base.Add(time.Hour)}))
	now := base.Add(8 * 24 * time.Hour)
	got, err := s.ExpireRequests(ctx(), now, 0)
	must(t, err)
	wantIDs(t, "expired", requestIDs(got), []string{"r-1"})
	_, err = s.OpenRequestOf(ctx(), "t1", "s-1")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{ParentRecord: "p-2", At: now}), store.ErrInactive)
	wantErr(t, s.CloseRequest(ctx(), "t1", "r-1", store.RequestGranted, now), store.ErrInactive)
	if open, err := s.OpenRequestsFor(ctx(), "t1", "p-2"); err != nil || len(open) != 0 {
		t.Fatalf("open requests for p-2: %v %+v", err, open)
	}
	r, err := s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	if r.Status != store.RequestExpired || len(r.Declines) != 1 || !r.ClosedAt.Equal(base.Add(7*24*time.Hour)) {
		t.Fatalf("expired request = %+v", r)
	}
}

// testLockConsents: parents granting at once, with no request to close,
// make one consent when each checks and creates under LockConsents.
func testLockConsents(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("s-1", store.RoleStudent, "")}))
	must(t, s.LockConsents(ctx(), "t1", "s-1"))     // outside a transaction: nothing to hold
	must(t, s.LockConsents(ctx(), "t1", "missing")) // a record not in the roster
	for round := range 10 {
		id := fmt.Sprintf("s-%d", round)
		must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson(id, store.RoleStudent, "")}))
		errs := race(8, func(i int) error {
			return s.InTx(ctx(), func(ctx context.Context) error {
				if err := s.LockConsents(ctx, "t1", id); err != nil {
					return err
				}
				cs, err := s.ConsentsOf(ctx, "t1", id)
				if err != nil || len(cs) > 0 {
					return err
				}
				return s.CreateConsent(ctx, mkConsent(fmt.Sprintf("c-%d-%d", round, i), "t1", id, base))
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%s, grant %d: %v", id, i, err)
			}
		}
		if cs := consentsOf(t, s, "t1", id); len(cs) != 1 {
			t.Fatalf("%s: %d consents, want 1", id, len(cs))
		}
	}
}

func fullDetails() store.EvidenceDetails {
	return store.EvidenceDetails{
		GrantorOID: "1000", GrantorName: "Иванова Мария Петровна", SubjectName: "Иванов Пётр Сергеевич", SubjectOID: "2000",
		Operator: "ГБУ «Оператор»", OperatorAddress: "Москва, ул. Тверская, 1", Purpose: "ведение электронного дневника",
		DataCategories: []string{"ФИО", "дата рождения", "класс"}, TextVersion: "1", TextHash: "9f86d081884c7d65",
		ESIASessionID: "sess-42", Channel: "parent_page", Note: "согласие дано",
	}
}

func evidenceOf(t *testing.T, s ConsentStore, tenantID, personID string) []store.Evidence {
	t.Helper()
	ev, err := s.EvidenceOf(ctx(), tenantID, personID)
	must(t, err)
	return ev
}

func testEvidence(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	requested := store.Evidence{TenantID: "t1", PersonID: "s-1", RequestID: "r-1", Event: "requested", At: base,
		Details: store.EvidenceDetails{SubjectOID: "2000", Channel: "login_page"}}
	granted := store.Evidence{TenantID: "t1", PersonID: "s-1", ConsentID: "c-1", RequestID: "r-1", Event: "granted",
		At: base.Add(time.Hour), Details: fullDetails()}
	declined := store.Evidence{TenantID: "t1", PersonID: "s-1", RequestID: "r-1", Event: "declined", At: base.Add(30 * time.Minute),
		Details: store.EvidenceDetails{GrantorOID: "3000", GrantorName: "Иванов Сергей Петрович"}}
	note := store.Evidence{TenantID: "t1", PersonID: "s-1", Event: "superseded", At: base.Add(3 * time.Hour)}
	for _, e := range []store.Evidence{requested, granted, declined, note,
		{TenantID: "t2", PersonID: "s-1", Event: "granted", At: base, Details: fullDetails()},
		{TenantID: "t1", PersonID: "s-2", Event: "granted", At: base, Details: fullDetails()},
	} {
		must(t, s.AppendEvidence(ctx(), e))
	}
	for _, tc := range []struct {
		name string
		edit func(e *store.Evidence)
	}{
		{"no tenant", func(e *store.Evidence) { e.TenantID = "" }},
		{"no record", func(e *store.Evidence) { e.PersonID = "" }},
		{"no event", func(e *store.Evidence) { e.Event = "" }},
		{"destroyed", func(e *store.Evidence) { e.Destroyed = true }},
		{"unknown tenant", func(e *store.Evidence) { e.TenantID = "t9" }},
	} {
		e := granted
		tc.edit(&e)
		if err := s.AppendEvidence(ctx(), e); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}

	list := evidenceOf(t, s, "t1", "s-1")
	want := []store.Evidence{requested, declined, granted, note} // oldest first
	if len(list) != len(want) {
		t.Fatalf("EvidenceOf = %+v", list)
	}
	ids := map[int64]bool{}
	for i, got := range list {
		if got.ID <= 0 || ids[got.ID] {
			t.Fatalf("evidence #%d has id %d", i, got.ID)
		}
		ids[got.ID] = true
		sameTimes(t, "evidence "+got.Event, []time.Time{got.At}, []time.Time{want[i].At})
		got.ID, got.At = 0, time.Time{}
		w := want[i]
		w.At = time.Time{}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("evidence #%d = %+v\nwant %+v", i, got, w)
		}
	}
	if list[0].ID >= list[2].ID || list[2].ID >= list[1].ID {
		t.Fatalf("ids do not follow appends: %d %d %d", list[0].ID, list[2].ID, list[1].ID)
	}
	if other := evidenceOf(t, s, "t3", "s-1"); len(other) != 0 {
		t.Fatalf("evidence of an unknown tenant: %+v", other)
	}

	// Destruction wipes the details of records made strictly before, of that
	// record and tenant only; the events stay; doing it again wipes nothing.
	n, err := s.DestroyEvidence(ctx(), "t1", "s-1", base.Add(time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("DestroyEvidence = %d, want 2", n)
	}
	n, err = s.DestroyEvidence(ctx(), "t1", "s-1", base.Add(time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("DestroyEvidence again = %d, want 0", n)
	}
	after := evidenceOf(t, s, "t1", "s-1")
	for i, e := range after {
		destroyed := i < 2
		if e.Destroyed != destroyed || e.ID != list[i].ID || e.Event != list[i].Event || !e.At.Equal(list[i].At) ||
			e.ConsentID != list[i].ConsentID || e.RequestID != list[i].RequestID {
			t.Fatalf("after destruction #%d = %+v, before %+v", i, e, list[i])
		}
		if destroyed && !reflect.DeepEqual(e.Details, store.EvidenceDetails{}) {
			t.Fatalf("destroyed evidence keeps details: %+v", e.Details)
		}
		if !destroyed && !reflect.DeepEqual(e.Details, list[i].Details) {
			t.Fatalf("evidence after the cut changed: %+v", e.Details)
		}
	}
	n, err = s.DestroyEvidence(ctx(), "t1", "s-1", base.Add(24*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("DestroyEvidence of the rest = %d, want 2", n)
	}
	for _, ref := range []store.ConsentRef{{TenantID: "t2", PersonID: "s-1"}, {TenantID: "t1", PersonID: "s-2"}} {
		ev := evidenceOf(t, s, ref.TenantID, ref.PersonID)
		if len(ev) != 1 || ev[0].Destroyed || !reflect.DeepEqual(ev[0].Details, fullDetails()) {
			t.Fatalf("destruction reached %v: %+v", ref, ev)
		}
	}
	n, err = s.DestroyEvidence(ctx(), "t2", "nobody", base.Add(24*time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("DestroyEvidence(nobody) = %d", n)
	}
}

func testClaimWithdrawn(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	consent := func(tenantID, personID, id string, granted time.Time, end store.ConsentStatus, ended time.Time) {
		t.Helper()
		must(t, s.CreateConsent(ctx(), mkConsent(id, tenantID, personID, granted)))
		if end != "" {
			must(t, s.EndConsent(ctx(), tenantID, id, end, "test", ended))
		}
	}
	evidence := func(tenantID, personID, event string, d store.EvidenceDetails) {
		t.Helper()
		must(t, s.AppendEvidence(ctx(), store.Evidence{TenantID: tenantID, PersonID: personID, Event: event, At: base, Details: d}))
	}
	h := func(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }

	consent("t1", "a", "a-1", h(0), store.ConsentRevoked, h(1)) // due
	evidence("t1", "a", "granted", fullDetails())
	consent("t2", "a", "ta-1", h(0), store.ConsentRevoked, h(0.5)) // due, earlier
	evidence("t2", "a", "granted", fullDetails())
	consent("t1", "b", "b-1", h(0), store.ConsentRevoked, h(1)) // granted again since
	consent("t1", "b", "b-2", h(2), "", time.Time{})
	evidence("t1", "b", "granted", fullDetails())
	consent("t1", "c", "c-1", h(0), store.ConsentExpired, h(1)) // expired, not withdrawn
	evidence("t1", "c", "granted", fullDetails())
	consent("t1", "d", "d-1", h(0), store.ConsentRevoked, h(1)) // already destroyed
	evidence("t1", "d", "granted", fullDetails())
	_, err := s.DestroyEvidence(ctx(), "t1", "d", h(1))
	must(t, err)
	evidence("t1", "d", "destroyed", store.EvidenceDetails{Note: "152-ФЗ ст.21 ч.5"}) // noting the destruction
	consent("t1", "e", "e-1", h(0), store.ConsentRevoked, h(1))                       // no evidence
	consent("t1", "f", "f-1", h(0), store.ConsentRevoked, h(1))                       // evidence without personal data
	evidence("t1", "f", "revoked", store.EvidenceDetails{})
	consent("t1", "g", "g-1", h(0), store.ConsentRevoked, h(1)) // two consents at one instant: the later stored is latest
	consent("t1", "g", "g-2", h(0), "", time.Time{})
	evidence("t1", "g", "granted", fullDetails())
	consent("t1", "h", "h-1", h(0), store.ConsentRevoked, h(5)) // revoked later
	evidence("t1", "h", "granted", fullDetails())
	consent("t1", "i", "i-1", h(0), store.ConsentRevoked, h(0.5)) // due, earlier
	evidence("t1", "i", "granted", fullDetails())

	due := func(tenantID string, at time.Time, limit int) []string {
		t.Helper()
		refs, err := s.ClaimWithdrawn(ctx(), tenantID, at, limit)
		must(t, err)
		out := []string{}
		for _, r := range refs {
			out = append(out, r.TenantID+"/"+r.PersonID)
		}
		return out
	}
	wantIDs(t, "ClaimWithdrawn(t1, 3h)", due("t1", h(3), 0), []string{"t1/i", "t1/a"})
	wantIDs(t, "ClaimWithdrawn(t2, 3h)", due("t2", h(3), 0), []string{"t2/a"})
	wantIDs(t, "ClaimWithdrawn(t1, 3h, 1)", due("t1", h(3), 1), []string{"t1/i"})
	wantIDs(t, "ClaimWithdrawn(t1, 1h)", due("t1", h(1), 0), []string{"t1/i"}) // ended at 1h is not before 1h
	wantIDs(t, "ClaimWithdrawn(t1, 6h)", due("t1", h(6), 0), []string{"t1/i", "t1/a", "t1/h"})
	wantIDs(t, "ClaimWithdrawn(t3, 6h)", due("t3", h(6), 0), []string{})
	n, err := s.DestroyEvidence(ctx(), "t1", "a", h(3))
	must(t, err)
	if n != 1 {
		t.Fatalf("DestroyEvidence(t1/a) = %d", n)
	}
	wantIDs(t, "ClaimWithdrawn(t1, 3h) after destroying t1/a", due("t1", h(3), 0), []string{"t1/i"})
	wantIDs(t, "ClaimWithdrawn(t2, 3h) after destroying t1/a", due("t2", h(3), 0), []string{"t2/a"})
}

// testClaimWithdrawnConcurrent: replicas that claim and destroy in
// batches, each in its transaction, destroy every due record exactly once
// (a record claimed just as another replica destroyed it finds nothing
// left to wipe).
func testClaimWithdrawnConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	now := base.Add(24 * time.Hour)
	var want []string
	for i := range 40 {
		id := fmt.Sprintf("s-%02d", i)
		must(t, s.CreateConsent(ctx(), mkConsent("c-"+id, "t1", id, base)))
		must(t, s.EndConsent(ctx(), "t1", "c-"+id, store.ConsentRevoked, "test", base.Add(time.Duration(i%5+1)*time.Minute)))
		must(t, s.AppendEvidence(ctx(), store.Evidence{TenantID: "t1", PersonID: id, Event: "granted", At: base, Details: fullDetails()}))
		want = append(want, id)
	}
	claimAll(t, 6, want, func() ([]string, error) {
		var destroyed []string
		err := s.InTx(ctx(), func(ctx context.Context) error {
			refs, err := s.ClaimWithdrawn(ctx, "t1", now, 4)
			for _, r := range refs {
				n, err := s.DestroyEvidence(ctx, r.TenantID, r.PersonID, now)
				if err != nil {
					return err
				}
				if n > 0 {
					destroyed = append(destroyed, r.PersonID)
				}
			}
			return err
		})
		return destroyed, err
	})
	refs, err := s.ClaimWithdrawn(ctx(), "t1", now, 0)
	must(t, err)
	if len(refs) != 0 {
		t.Fatalf("left after the workers: %+v", refs)
	}
}

// testDestroyEvidenceClearsOIDs: the destruction takes the ESIA oids of
// the record's consents and requests with the evidence, and only those
// made before the cut-off, and only of that record.
func testDestroyEvidenceClearsOIDs(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	old, other, later := mkConsent("c-old", "t1", "s-1", base), mkConsent("c-other", "t1", "s-2", base), mkConsent("c-later", "t1", "s-1", base.Add(48*time.Hour))
	for _, c := range []store.Consent{old, other} {
		must(t, s.CreateConsent(ctx(), c))
	}
	must(t, s.EndConsent(ctx(), "t1", "c-old", store.ConsentRevoked, "test", base.Add(time.Hour)))
	must(t, s.CreateConsent(ctx(), later))
	for _, r := range []store.ConsentRequest{
		{ID: "r-1", TenantID: "t1", PersonID: "s-1", ChildOID: "3001", Parents: []string{"p-1", "p-2"}, CreatedAt: base},
		{ID: "r-2", TenantID: "t1", PersonID: "s-2", ChildOID: "3002", Parents: []string{"p-1"}, CreatedAt: base},
	} {
		_, _, err := s.OpenRequest(ctx(), r)
		must(t, err)
		must(t, s.AddDecline(ctx(), "t1", r.ID, store.Decline{ParentRecord: "p-1", GrantorOID: "2001", At: base}))
	}
	must(t, s.AddDecline(ctx(), "t1", "r-1", store.Decline{GrantorOID: "2009", At: base})) // a parent not in the roster
	must(t, s.CloseRequest(ctx(), "t1", "r-1", store.RequestGranted, base))
	must(t, s.AppendEvidence(ctx(), store.Evidence{TenantID: "t1", PersonID: "s-1", Event: "granted", At: base, Details: fullDetails()}))

	n, err := s.DestroyEvidence(ctx(), "t1", "s-1", base.Add(24*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("DestroyEvidence = %d, want 1", n)
	}
	grantors := map[string]string{}
	for _, person := range []string{"s-1", "s-2"} {
		for _, c := range consentsOf(t, s, "t1", person) {
			grantors[c.ID] = c.GrantorOID
		}
	}
	if want := map[string]string{"c-old": "", "c-later": "1000", "c-other": "1000"}; !reflect.DeepEqual(grantors, want) {
		t.Fatalf("grantor oids = %v, want %v", grantors, want)
	}
	r1, err := s.GetRequest(ctx(), "t1", "r-1")
	must(t, err)
	want := store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", Parents: []string{"p-1", "p-2"}, Status: store.RequestGranted,
		Declines: []store.Decline{{ParentRecord: "p-1", At: base}, {At: base}}, CreatedAt: base, ClosedAt: base}
	sameRequest(t, r1, want)
	r2, err := s.GetRequest(ctx(), "t1", "r-2")
	must(t, err)
	if r2.ChildOID != "3002" || r2.Declines[0].GrantorOID != "2001" {
		t.Fatalf("another record's request changed: %+v", r2)
	}
}

func mkEvent(id, tenantID, typ string, created time.Time) store.OutboxEvent {
	return store.OutboxEvent{ID: id, TenantID: tenantID, Type: typ, CreatedAt: created,
		Data: json.RawMessage(`{"person_id":"s-1","request_id":"r-1","status":"open"}`)}
}

func listEvents(t *testing.T, s ConsentStore, tenantID string, status store.EventStatus, limit int) []store.OutboxEvent {
	t.Helper()
	es, err := s.ListEvents(ctx(), tenantID, status, limit)
	must(t, err)
	return es
}

func claim(t *testing.T, s ConsentStore, now time.Time, lease time.Duration, limit int) []store.OutboxEvent {
	t.Helper()
	es, err := s.ClaimEvents(ctx(), now, lease, limit)
	must(t, err)
	return es
}

func testOutbox(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	e1 := mkEvent("ev-1", "t1", "consent.requested", base)
	e2 := mkEvent("ev-2", "t1", "consent.granted", base.Add(time.Second))
	e2.Data = nil
	e3 := mkEvent("ev-3", "t2", "link.created", base.Add(2*time.Second))
	e4 := mkEvent("ev-4", "t1", "consent.revoked", base.Add(3*time.Second))
	e4.NextAttemptAt = base.Add(10 * time.Minute) // scheduled later
	for _, e := range []store.OutboxEvent{e1, e2, e3, e4} {
		must(t, s.EnqueueEvent(ctx(), e))
	}
	wantErr(t, s.EnqueueEvent(ctx(), e1), store.ErrAlreadyExists)

	list := listEvents(t, s, "t1", "", 0)
	wantIDs(t, "ListEvents(t1)", eventIDs(list), []string{"ev-4", "ev-2", "ev-1"})
	want1 := e1
	want1.Status, want1.NextAttemptAt = store.EventPending, e1.CreatedAt // due at once
	sameEvent(t, list[2], want1)
	want2 := e2
	want2.Status, want2.NextAttemptAt = store.EventPending, e2.CreatedAt
	sameEvent(t, list[1], want2)
	wantIDs(t, "ListEvents(t1, limit 2)", eventIDs(listEvents(t, s, "t1", "", 2)), []string{"ev-4", "ev-2"})
	wantIDs(t, "ListEvents(t2)", eventIDs(listEvents(t, s, "t2", "", 0)), []string{"ev-3"})

	// Claims take due events, oldest first, and lease them.
	const lease = time.Minute
	now := base.Add(5 * time.Second)
	got := claim(t, s, now, lease, 2)
	wantIDs(t, "first claim", eventIDs(got), []string{"ev-1", "ev-2"})
	want1.NextAttemptAt = now.Add(lease) // Attempts counts attempts that ended: none yet
	sameEvent(t, got[0], want1)
	wantIDs(t, "second claim", eventIDs(claim(t, s, now, lease, 10)), []string{"ev-3"})
	wantIDs(t, "claim within the lease", eventIDs(claim(t, s, now.Add(lease-time.Microsecond), lease, 10)), nil)
	// Never marked (the replica died): due again when the lease ends.
	got = claim(t, s, now.Add(lease), lease, 1)
	wantIDs(t, "claim after the lease", eventIDs(got), []string{"ev-1"})
	if got[0].Attempts != 0 || !got[0].NextAttemptAt.Equal(now.Add(2*lease)) {
		t.Fatalf("claimed again: %+v", got[0])
	}

	// Delivered: once, as an attempt; marking again changes nothing.
	must(t, s.MarkDelivered(ctx(), "ev-2", base.Add(10*time.Second)))
	must(t, s.MarkDelivered(ctx(), "ev-2", base.Add(20*time.Second)))
	must(t, s.MarkDelivered(ctx(), "ev-3", base.Add(10*time.Second)))
	wantErr(t, s.MarkDelivered(ctx(), "nope", base), store.ErrNotFound)
	wantErr(t, s.MarkFailed(ctx(), "ev-2", base.Add(time.Hour), "late failure", false), store.ErrInactive)
	wantErr(t, s.MarkFailed(ctx(), "nope", base.Add(time.Hour), "x", false), store.ErrNotFound)

	// Failed: an attempt, retried at next.
	must(t, s.MarkFailed(ctx(), "ev-1", base.Add(10*time.Minute), "HTTP 503", false))
	wantIDs(t, "claim before the retry", eventIDs(claim(t, s, base.Add(10*time.Minute-time.Microsecond), lease, 10)), nil)
	retryAt := base.Add(10 * time.Minute)
	got = claim(t, s, retryAt, lease, 10)
	wantIDs(t, "claim at the retry", eventIDs(got), []string{"ev-1", "ev-4"})
	want1.Attempts, want1.NextAttemptAt, want1.LastError = 1, retryAt.Add(lease), "HTTP 503"
	sameEvent(t, got[0], want1)

	// Dead: never claimed again; a zero next keeps the schedule.
	must(t, s.MarkFailed(ctx(), "ev-1", time.Time{}, "HTTP 410", true))
	wantErr(t, s.MarkFailed(ctx(), "ev-1", base.Add(time.Hour), "x", false), store.ErrInactive)
	must(t, s.MarkDelivered(ctx(), "ev-4", retryAt.Add(time.Second)))
	wantIDs(t, "claim after all ended", eventIDs(claim(t, s, base.Add(24*time.Hour), lease, 10)), nil)
	dead := listEvents(t, s, "t1", store.EventDead, 0)
	want1.Status, want1.Attempts, want1.LastError = store.EventDead, 2, "HTTP 410"
	if len(dead) != 1 {
		t.Fatalf("dead events: %v", eventIDs(dead))
	}
	sameEvent(t, dead[0], want1)
	delivered := listEvents(t, s, "t1", store.EventDelivered, 0)
	wantIDs(t, "delivered", eventIDs(delivered), []string{"ev-4", "ev-2"})
	want2.Status, want2.Attempts, want2.NextAttemptAt, want2.DeliveredAt = store.EventDelivered, 1, now.Add(lease), base.Add(10*time.Second)
	sameEvent(t, delivered[1], want2)
	wantIDs(t, "pending", eventIDs(listEvents(t, s, "t1", store.EventPending, 0)), nil)
	_, err := s.ListEvents(ctx(), "t1", "sent", 0)
	wantErr(t, err, store.ErrInvalid)

	// Retried by support: pending again, due at now, attempts from zero.
	wantErr(t, s.RetryEvent(ctx(), "t2", "ev-1", base.Add(2*time.Hour)), store.ErrNotFound)
	wantErr(t, s.RetryEvent(ctx(), "t1", "nope", base.Add(2*time.Hour)), store.ErrNotFound)
	wantErr(t, s.RetryEvent(ctx(), "t1", "ev-4", base.Add(2*time.Hour)), store.ErrInactive)
	must(t, s.RetryEvent(ctx(), "t1", "ev-1", base.Add(2*time.Hour)))
	wantErr(t, s.RetryEvent(ctx(), "t1", "ev-1", base.Add(2*time.Hour)), store.ErrInactive)
	pending := listEvents(t, s, "t1", store.EventPending, 0)
	want1.Status, want1.Attempts, want1.NextAttemptAt = store.EventPending, 0, base.Add(2*time.Hour)
	if len(pending) != 1 {
		t.Fatalf("pending after retry: %v", eventIDs(pending))
	}
	sameEvent(t, pending[0], want1)
	wantIDs(t, "claim before the retry is due", eventIDs(claim(t, s, base.Add(2*time.Hour-time.Microsecond), lease, 10)), nil)
	got = claim(t, s, base.Add(2*time.Hour), lease, 10)
	if len(got) != 1 || got[0].ID != "ev-1" || got[0].Attempts != 0 {
		t.Fatalf("claim of the retried event: %+v", got)
	}
}

func testOutboxInvalid(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	for _, tc := range []struct {
		name string
		edit func(e *store.OutboxEvent)
	}{
		{"no id", func(e *store.OutboxEvent) { e.ID = "" }},
		{"no tenant", func(e *store.OutboxEvent) { e.TenantID = "" }},
		{"no type", func(e *store.OutboxEvent) { e.Type = "" }},
		{"data not JSON", func(e *store.OutboxEvent) { e.Data = json.RawMessage(`{"person_id":`) }},
		{"unknown status", func(e *store.OutboxEvent) { e.Status = "sent" }},
		{"unknown tenant", func(e *store.OutboxEvent) { e.TenantID = "t9" }},
	} {
		e := mkEvent("ev-bad", "t1", "consent.granted", base)
		tc.edit(&e)
		if err := s.EnqueueEvent(ctx(), e); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	_, err := s.ClaimEvents(ctx(), base, 0, 10)
	wantErr(t, err, store.ErrInvalid)
	if es := listEvents(t, s, "t1", "", 0); len(es) != 0 {
		t.Fatalf("invalid events stored: %v", eventIDs(es))
	}
}

func testClaimEventsConcurrent(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	var want []string
	for i := range 60 {
		e := mkEvent(fmt.Sprintf("ev-%02d", i), []string{"t1", "t2"}[i%2], "consent.granted", base.Add(time.Duration(i%5)*time.Second))
		must(t, s.EnqueueEvent(ctx(), e))
		want = append(want, e.ID)
	}
	const lease = time.Minute
	now := base.Add(time.Minute)
	claimAll(t, 8, want, func() ([]string, error) {
		es, err := s.ClaimEvents(ctx(), now, lease, 3)
		return eventIDs(es), err
	})
	// Half are delivered; the rest are due again when the lease ends, and
	// again each goes to one worker.
	var rest []string
	for i, id := range want {
		if i%2 == 0 {
			must(t, s.MarkDelivered(ctx(), id, now))
		} else {
			rest = append(rest, id)
		}
	}
	claimAll(t, 8, rest, func() ([]string, error) {
		es, err := s.ClaimEvents(ctx(), now.Add(lease), lease, 3)
		for _, e := range es {
			if !e.NextAttemptAt.Equal(now.Add(2 * lease)) {
				return nil, fmt.Errorf("%s: leased until %v, want %v", e.ID, e.NextAttemptAt, now.Add(2*lease))
			}
		}
		return eventIDs(es), err
	})
}

// testConsentTxRollback: the outbox event, the consent change and the
// evidence of one transaction are undone together, claims included.
func testConsentTxRollback(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	must(t, s.CreateConsent(ctx(), mkConsent("c-1", "t1", "s-1", base)))
	must(t, s.AppendEvidence(ctx(), store.Evidence{TenantID: "t1", PersonID: "s-1", ConsentID: "c-1", Event: "granted", At: base, Details: fullDetails()}))
	must(t, s.EnqueueEvent(ctx(), mkEvent("ev-0", "t1", "consent.granted", base)))
	err := s.InTx(ctx(), func(c context.Context) error {
		if err := s.EndConsent(c, "t1", "c-1", store.ConsentRevoked, "revoked_by_user", base.Add(time.Hour)); err != nil {
			return err
		}
		if err := s.AppendEvidence(c, store.Evidence{TenantID: "t1", PersonID: "s-1", ConsentID: "c-1", Event: "revoked", At: base.Add(time.Hour), Details: fullDetails()}); err != nil {
			return err
		}
		if _, err := s.DestroyEvidence(c, "t1", "s-1", base.Add(time.Hour)); err != nil {
			return err
		}
		if err := s.EnqueueEvent(c, mkEvent("ev-1", "t1", "consent.revoked", base.Add(time.Hour))); err != nil {
			return err
		}
		if es, err := s.ClaimEvents(c, base.Add(time.Hour), time.Minute, 10); err != nil || len(es) != 2 {
			return fmt.Errorf("claim in the transaction: %v %v", eventIDs(es), err)
		}
		if err := s.MarkDelivered(c, "ev-0", base.Add(time.Hour)); err != nil {
			return err
		}
		if _, _, err := s.OpenRequest(c, store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-2", CreatedAt: base}); err != nil {
			return err
		}
		if err := s.CreateConsent(c, mkConsent("c-2", "t1", "s-1", base.Add(time.Hour))); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, err, errRollback)
	cs := consentsOf(t, s, "t1", "s-1")
	if len(cs) != 1 || cs[0].Status != store.ConsentGranted || !cs[0].EndedAt.IsZero() {
		t.Fatalf("rolled-back consent changes kept: %+v", cs)
	}
	ev := evidenceOf(t, s, "t1", "s-1")
	if len(ev) != 1 || ev[0].Destroyed || !reflect.DeepEqual(ev[0].Details, fullDetails()) {
		t.Fatalf("rolled-back evidence changes kept: %+v", ev)
	}
	_, err = s.GetRequest(ctx(), "t1", "r-1")
	wantErr(t, err, store.ErrNotFound)
	es := listEvents(t, s, "t1", "", 0)
	wantIDs(t, "events after rollback", eventIDs(es), []string{"ev-0"})
	if es[0].Status != store.EventPending || es[0].Attempts != 0 || !es[0].NextAttemptAt.Equal(base) {
		t.Fatalf("rolled-back claim kept: %+v", es[0])
	}
	got := claim(t, s, base, time.Minute, 10)
	if len(got) != 1 || got[0].ID != "ev-0" || !got[0].NextAttemptAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("claim after rollback: %+v", got)
	}
}

func testConsentTxCommit(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	must(t, s.InTx(ctx(), func(c context.Context) error {
		r, created, err := s.OpenRequest(c, store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", Parents: []string{"p-1"}, CreatedAt: base})
		if err != nil || !created {
			return fmt.Errorf("open request: %v %v", created, err)
		}
		// Reads inside the transaction see its writes.
		if again, created, err := s.OpenRequest(c, store.ConsentRequest{ID: "r-2", TenantID: "t1", PersonID: "s-1", CreatedAt: base}); err != nil || created || again.ID != r.ID {
			return fmt.Errorf("open request again: %+v %v %v", again, created, err)
		}
		if err := s.AppendEvidence(c, store.Evidence{TenantID: "t1", PersonID: "s-1", RequestID: "r-1", Event: "requested", At: base, Details: fullDetails()}); err != nil {
			return err
		}
		return s.EnqueueEvent(c, mkEvent("ev-1", "t1", "consent.requested", base))
	}))
	if _, err := s.GetRequest(ctx(), "t1", "r-1"); err != nil {
		t.Fatal(err)
	}
	if ev := evidenceOf(t, s, "t1", "s-1"); len(ev) != 1 || !reflect.DeepEqual(ev[0].Details, fullDetails()) {
		t.Fatalf("committed evidence: %+v", ev)
	}
	wantIDs(t, "committed events", eventIDs(claim(t, s, base, time.Minute, 10)), []string{"ev-1"})
}
