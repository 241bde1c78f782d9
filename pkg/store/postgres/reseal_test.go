package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// clock is a test clock that moves only when told.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// replica is one broker process: its own keyring over the shared database.
func replica(t *testing.T, pg *postgres.Store, c *clock) (*postgres.Store, *keyring.PII) {
	t.Helper()
	pii, err := keyring.OpenPII(context.Background(), pg, testKEK(t), c.now)
	if err != nil {
		t.Fatal(err)
	}
	return pg.WithSealer(pii), pii
}

func rosterPerson(i int) store.Person {
	return store.Person{ExternalID: fmt.Sprintf("s-%04d", i), Role: store.RoleStudent, LastName: fmt.Sprintf("Фамилия%d", i),
		FirstName: "Алёна", BirthDate: store.Date{Year: 2012, Month: 3, Day: 1 + i%28}, SNILS: fmt.Sprintf("%011d", i)}
}

func evidenceRecord(i int) store.Evidence {
	return store.Evidence{TenantID: "t1", PersonID: fmt.Sprintf("s-%04d", i), Event: "granted",
		At: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), Details: store.EvidenceDetails{GrantorOID: "1000", GrantorName: fmt.Sprintf("Родитель %d", i)}}
}

func oauthRecord(i int) store.OAuthRecord {
	return store.OAuthRecord{Kind: store.OAuthRefresh, Signature: fmt.Sprintf("sig-%04d", i), RequestID: fmt.Sprintf("req-%d", i),
		ClientID: "diary", TenantID: "t1", Active: true, Data: []byte(fmt.Sprintf(`{"claims":{"n":%d}}`, i))}
}

// TestResealAfterRotation rotates the personal-data key with rows sealed
// before and after, re-seals from two processes at once while a third
// replica — which read its keys before the rotation — keeps reading rows,
// and retires the old key once nothing uses it and its grace period is over.
func TestResealAfterRotation(t *testing.T) {
	ctx := context.Background()
	pg := postgres.New(pgtest.NewPool(t), nil)
	c := newClock()
	a, piiA := replica(t, pg, c)
	reader, _ := replica(t, pg, c)
	// stale reads its keys now and nothing until much later: it will
	// seal under the old key until KeyRefresh has passed.
	stale, _ := replica(t, pg, c)
	if err := a.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	const before, after, tokens, evidence = 1200, 100, 300, 40
	var ps []store.Person
	for i := 0; i < before; i++ {
		ps = append(ps, rosterPerson(i))
	}
	if err := a.CopyPersons(ctx, "t1", ps); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < tokens; i++ {
		if err := a.CreateOAuthRecord(ctx, oauthRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < evidence; i++ {
		if err := a.AppendEvidence(ctx, evidenceRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Destroyed evidence has no key and nothing to re-seal.
	if _, err := a.DestroyEvidence(ctx, "t1", evidenceRecord(0).PersonID, c.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	old := piiA.ActiveKeyID()
	c.advance(time.Second)
	newID, err := piiA.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps = ps[:0]
	for i := before; i < before+after; i++ {
		ps = append(ps, rosterPerson(i))
	}
	if err := a.UpsertPersons(ctx, "t1", ps); err != nil {
		t.Fatal(err)
	}

	// The reader checks random rows until re-sealing is over.
	stop := make(chan struct{})
	var reads atomic.Int64
	readErrs := make(chan error, 1)
	go func() {
		defer close(readErrs)
		r := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			i := r.IntN(before + after)
			p, err := reader.GetPerson(ctx, "t1", rosterPerson(i).ExternalID)
			if err == nil && p.LastName != rosterPerson(i).LastName {
				err = fmt.Errorf("record %d reads %q", i, p.LastName)
			}
			if err == nil {
				j := r.IntN(tokens)
				var rec store.OAuthRecord
				rec, err = reader.GetOAuthRecord(ctx, store.OAuthRefresh, oauthRecord(j).Signature)
				if err == nil && string(rec.Data) != string(oauthRecord(j).Data) {
					err = fmt.Errorf("token %d reads %q", j, rec.Data)
				}
			}
			if err != nil {
				readErrs <- err
				return
			}
			reads.Add(1)
		}
	}()

	// Two processes re-seal at once; each row is re-sealed exactly once.
	b, piiB := replica(t, pg, c)
	var wg sync.WaitGroup
	reps := make([]keyring.ResealReport, 2)
	errs := make([]error, 2)
	var progress atomic.Int64
	for i, r := range []struct {
		pii *keyring.PII
		st  *postgres.Store
	}{{piiA, a}, {piiB, b}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = r.pii.Reseal(ctx, r.st, keyring.ResealOptions{Batch: 50, Workers: 2,
				Progress: func(p keyring.ResealProgress) { progress.Add(1) }})
		}()
	}
	wg.Wait()
	close(stop)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := <-readErrs; err != nil {
		t.Fatalf("a read during re-sealing failed: %v", err)
	}
	if reads.Load() == 0 || progress.Load() == 0 {
		t.Fatalf("%d reads, %d progress calls", reads.Load(), progress.Load())
	}
	for _, table := range store.SealedTables {
		want := map[store.SealedTable]int64{store.SealedRoster: before, store.SealedOAuth: tokens, store.SealedEvidence: evidence - 1}[table]
		if got := reps[0].Resealed[table] + reps[1].Resealed[table]; got != want {
			t.Fatalf("%s: %d + %d rows re-sealed, want %d", table, reps[0].Resealed[table], reps[1].Resealed[table], want)
		}
	}
	counts, err := a.SealedKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.SealedRoster][old] != 0 || counts[store.SealedOAuth][old] != 0 || counts[store.SealedEvidence][old] != 0 ||
		counts[store.SealedRoster][newID] != before+after || counts[store.SealedEvidence][newID] != evidence-1 {
		t.Fatalf("sealed keys after re-sealing: %v", counts)
	}
	// The old key is unused but retired too recently to go.
	// (Either process may have counted rows the other still held.)
	for _, rep := range reps {
		if len(rep.Retired) != 0 || len(rep.Kept) != 1 || rep.Kept[0].ID != old {
			t.Fatalf("report: %+v", rep)
		}
	}
	if keys, err := pg.ListKeys(ctx, store.KeyPII); err != nil || len(keys) != 2 {
		t.Fatalf("pii keys: %+v %v", keys, err)
	}

	// A replica that had not seen the rotation wrote under the old key
	// meanwhile: the key cannot go while that row is there.
	if err := stale.UpsertPersons(ctx, "t1", []store.Person{rosterPerson(0)}); err != nil {
		t.Fatal(err)
	}
	if keyOf(t, pg, rosterPerson(0).ExternalID) != old {
		t.Fatal("the stale replica did not seal under the old key")
	}
	if deleted, err := a.DeleteSealingKey(ctx, old); err != nil || deleted {
		t.Fatalf("DeleteSealingKey with a row under it: %v %v", deleted, err)
	}
	c.advance(keyring.DefaultRetireAfter)
	// Past KeyRefresh the stale replica reads the keys before sealing.
	if err := stale.UpsertPersons(ctx, "t1", []store.Person{rosterPerson(1)}); err != nil {
		t.Fatal(err)
	}
	if keyOf(t, pg, rosterPerson(1).ExternalID) != newID {
		t.Fatal("the stale replica still seals under the old key after KeyRefresh")
	}
	rep, err := piiA.Reseal(ctx, a, keyring.ResealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resealed[store.SealedRoster] != 1 || len(rep.Retired) != 1 || rep.Retired[0] != old || len(rep.Kept) != 0 {
		t.Fatalf("second run: %+v", rep)
	}
	keys, err := pg.ListKeys(ctx, store.KeyPII)
	if err != nil || len(keys) != 1 || keys[0].ID != newID {
		t.Fatalf("pii keys after retirement: %+v %v", keys, err)
	}
	// Everything reads, from a replica started now and from one started
	// before the rotation.
	fresh, _ := replica(t, pg, c)
	for _, st := range []*postgres.Store{fresh, stale} {
		for i := 0; i < before+after; i += 97 {
			if p, err := st.GetPerson(ctx, "t1", rosterPerson(i).ExternalID); err != nil || p.LastName != rosterPerson(i).LastName {
				t.Fatalf("record %d after retirement: %+v %v", i, p, err)
			}
		}
		if _, err := st.GetOAuthRecord(ctx, store.OAuthRefresh, oauthRecord(7).Signature); err != nil {
			t.Fatal(err)
		}
		ev, err := st.EvidenceOf(ctx, "t1", evidenceRecord(5).PersonID)
		if err != nil || len(ev) != 1 || ev[0].Details.GrantorName != evidenceRecord(5).Details.GrantorName {
			t.Fatalf("evidence after retirement: %+v %v", ev, err)
		}
	}
	// Nothing left to do.
	rep, err = piiA.Reseal(ctx, a, keyring.ResealOptions{})
	if err != nil || rep.Resealed[store.SealedRoster] != 0 || len(rep.Retired)+len(rep.Kept) != 0 {
		t.Fatalf("third run: %+v %v", rep, err)
	}
}

func keyOf(t *testing.T, pg *postgres.Store, id string) string {
	t.Helper()
	var k string
	if err := pg.Pool().QueryRow(context.Background(), `SELECT pii_key_id FROM roster_persons WHERE external_id = $1`, id).Scan(&k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestResealRefusesStaleSealer checks that a store whose sealer still
// seals under a key being retired does not "re-seal" rows under it.
func TestResealRefusesStaleSealer(t *testing.T) {
	ctx := context.Background()
	pg := postgres.New(pgtest.NewPool(t), nil)
	c := newClock()
	a, piiA := replica(t, pg, c)
	stale, _ := replica(t, pg, c)
	if err := a.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.UpsertPersons(ctx, "t1", []store.Person{rosterPerson(1)}); err != nil {
		t.Fatal(err)
	}
	old := piiA.ActiveKeyID()
	if _, err := piiA.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err := stale.Reseal(ctx, store.SealedRoster, []string{old}, 10, "")
	if err == nil {
		t.Fatal("re-sealed under the key being retired")
	}
	if _, _, err := pg.Reseal(ctx, store.SealedRoster, []string{old}, 10, ""); !errors.Is(err, postgres.ErrNoSealer) {
		t.Fatalf("no sealer: %v", err)
	}
	if _, _, err := a.Reseal(ctx, "audit", []string{old}, 10, ""); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown table: %v", err)
	}
	if _, _, err := a.Reseal(ctx, store.SealedRoster, []string{old}, 10, "one\x00two\x00three"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad position: %v", err)
	}
}
