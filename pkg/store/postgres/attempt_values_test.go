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
