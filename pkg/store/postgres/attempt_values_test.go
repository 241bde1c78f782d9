package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestAttemptValuesSealed: the values kept for a re-check are in the
// table only sealed, under the personal-data key they name, and bound to
// their attempt (a ciphertext copied to another attempt does not open).
func TestAttemptValuesSealed(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	pii, err := keyring.OpenPII(ctx, memory.New(nil), testKEK(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := postgres.New(pool, pii)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"R1", "R2"} {
		if err := s.RecordAttempt(ctx, store.Attempt{Ref: ref, TenantID: "t1", ClientID: "diary", Outcome: "not_found"},
			store.AttemptEvent{Step: "link", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	plain := []byte(`{"snils":"10451789344","last_name":"Павлов"}`)
	if err := s.KeepAttemptValues(ctx, store.AttemptValues{Ref: "R1", TenantID: "t1", Data: plain}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	var keyID string
	if err := pool.QueryRow(ctx, `SELECT data, key_id FROM attempt_values WHERE ref = 'R1'`).Scan(&raw, &keyID); err != nil {
		t.Fatal(err)
	}
	if keyID == "" || bytes.Contains(raw, []byte("10451789344")) || bytes.Contains(raw, []byte("Павлов")) {
		t.Fatalf("stored in the clear (key %q): %q", keyID, raw)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO attempt_values (ref, tenant_id, kept_at, data, key_id) VALUES ('R2', 't1', now(), $1, $2)`, raw, keyID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAttemptValues(ctx, "R2"); err == nil {
		t.Fatal("a ciphertext moved to another attempt opened")
	}
	if v, err := s.GetAttemptValues(ctx, "R1"); err != nil || !bytes.Equal(v.Data, plain) {
		t.Fatalf("R1: %q %v", v.Data, err)
	}
}

// TestAttemptValuesResealed: a key rotation re-seals the kept values
// under the new key (destroyed ones have none and are left alone), and
// they still read as written.
func TestAttemptValuesResealed(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	pg := postgres.New(pgtest.NewPool(t), nil)
	s, pii := replica(t, pg, c)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	refs := []string{"R1", "R2", "R3"}
	for _, ref := range refs {
		if err := s.RecordAttempt(ctx, store.Attempt{Ref: ref, TenantID: "t1", ClientID: "diary", Outcome: "not_found"},
			store.AttemptEvent{Step: "link", At: c.now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.KeepAttemptValues(ctx, store.AttemptValues{Ref: ref, TenantID: "t1", Data: []byte(`{"oid":"` + ref + `"}`), KeptAt: c.now()}); err != nil {
			t.Fatal(err)
		}
	}
	c.advance(time.Hour)
	if refs, err := s.DestroyAttemptValues(ctx, "t1", c.now(), c.now(), 1); err != nil || len(refs) != 1 {
		t.Fatalf("destroy one: %v %v", refs, err)
	}
	old := pii.ActiveKeyID()
	c.advance(time.Second)
	newID, err := pii.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pii.Reseal(ctx, s, keyring.ResealOptions{Batch: 1, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	counts, err := s.SealedKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[store.SealedAttemptValues]; got[old] != 0 || got[newID] != 2 {
		t.Fatalf("attempt values by key after re-sealing: %v (old %s, new %s)", got, old, newID)
	}
	for _, ref := range refs[1:] {
		v, err := s.GetAttemptValues(ctx, ref)
		if err != nil || string(v.Data) != `{"oid":"`+ref+`"}` {
			t.Fatalf("%s after re-sealing: %q %v", ref, v.Data, err)
		}
	}
}
