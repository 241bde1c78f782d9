package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func testKEK(t *testing.T) *keyring.KEK {
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return kek
}

// newStore returns a store on a fresh database. Its personal-data keys live
// in a separate memory store so that the conformance suite starts with an
// empty keys table.
func newStore(t *testing.T) *postgres.Store {
	pool := pgtest.NewPool(t)
	st := postgres.New(pool, nil)
	pii, err := keyring.OpenPII(context.Background(), memory.New(nil), testKEK(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.WithSealer(pii)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

// TestPersonalDataSealed checks that no personal field reaches the table in
// plaintext and that a sealed row cannot be moved to another record.
func TestPersonalDataSealed(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	p := store.Person{ExternalID: "s-1", Role: store.RoleStudent, LastName: "Семёнова", FirstName: "Алёна",
		BirthDate: store.Date{Year: 2013, Month: 2, Day: 3}, SNILS: "11223344595",
		BirthCert: &store.BirthCert{Type: "RF_BRTH_CERT", Series: "II-МЮ", Number: "654321"}}
	q := p
	q.ExternalID = "s-2"
	if err := s.UpsertPersons(ctx, "t1", []store.Person{p, q}); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := s.Pool().QueryRow(ctx, `SELECT pii FROM roster_persons WHERE external_id = 's-1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"Семёнова", "Алёна", "11223344595", "654321", "2013"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("plaintext %q stored", secret)
		}
	}
	// Move s-1's ciphertext onto s-2: it must not open.
	if _, err := s.Pool().Exec(ctx, `UPDATE roster_persons SET pii = $1 WHERE external_id = 's-2'`, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPerson(ctx, "t1", "s-2"); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("moved ciphertext opened: %v", err)
	}
	if got, err := s.GetPerson(ctx, "t1", "s-1"); err != nil || got.SNILS != "11223344595" {
		t.Fatalf("GetPerson = %+v, %v", got, err)
	}
	// A store without a sealer refuses personal data.
	if err := postgres.New(s.Pool(), nil).UpsertPersons(ctx, "t1", []store.Person{p}); !errors.Is(err, postgres.ErrNoSealer) {
		t.Fatalf("no sealer: %v", err)
	}
}

// TestPIIKeyRotation checks that records sealed under an old key stay
// readable after a rotation and new ones use the new key.
func TestPIIKeyRotation(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	pii, err := keyring.OpenPII(ctx, s, testKEK(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	s = s.WithSealer(pii)
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	old := pii.ActiveKeyID()
	if err := s.UpsertPersons(ctx, "t1", []store.Person{{ExternalID: "a", Role: store.RoleTeacher, LastName: "Old"}}); err != nil {
		t.Fatal(err)
	}
	newID, err := pii.Rotate(ctx)
	if err != nil || newID == old {
		t.Fatalf("rotate: %v %v", newID, err)
	}
	if err := s.UpsertPersons(ctx, "t1", []store.Person{{ExternalID: "b", Role: store.RoleTeacher, LastName: "New"}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"a": "Old", "b": "New"} {
		got, err := s.GetPerson(ctx, "t1", id)
		if err != nil || got.LastName != want {
			t.Fatalf("%s: %+v %v", id, got, err)
		}
	}
	var keyA, keyB string
	_ = s.Pool().QueryRow(ctx, `SELECT pii_key_id FROM roster_persons WHERE external_id='a'`).Scan(&keyA)
	_ = s.Pool().QueryRow(ctx, `SELECT pii_key_id FROM roster_persons WHERE external_id='b'`).Scan(&keyB)
	if keyA != old || keyB != newID {
		t.Fatalf("key ids: a=%s b=%s, want %s %s", keyA, keyB, old, newID)
	}
}

// TestAuditLogIsAppendOnly: the database itself refuses to change or
// remove an audit entry.
func TestAuditLogIsAppendOnly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "c", Action: "read_attempt", Target: "R"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE audit_log SET actor = 'someone else'`); err == nil {
		t.Fatal("audit entry updated")
	}
	if _, err := s.Pool().Exec(ctx, `DELETE FROM audit_log`); err == nil {
		t.Fatal("audit entry deleted")
	}
}
