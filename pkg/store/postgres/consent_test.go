package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestConsentConformance(t *testing.T) {
	storetest.RunConsent(t, func(t *testing.T) store.Store { return newStore(t) })
}

var consentBase = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func evidenceDetails() store.EvidenceDetails {
	return store.EvidenceDetails{GrantorOID: "1000", GrantorName: "Семёнова Алёна Игоревна", SubjectName: "Семёнов Пётр",
		Purpose: "ведение дневника", DataCategories: []string{"ФИО"}, ESIASessionID: "sess-77", Channel: "parent_page"}
}

// TestEvidenceSealed checks that evidence details reach the table sealed,
// that a sealed row cannot be moved to another, and that a destroyed row
// keeps nothing of them.
func TestEvidenceSealed(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	for _, person := range []string{"s-1", "s-2"} {
		if err := s.AppendEvidence(ctx, store.Evidence{TenantID: "t1", PersonID: person, Event: "granted", At: consentBase,
			Details: evidenceDetails()}); err != nil {
			t.Fatal(err)
		}
	}
	var raw []byte
	var keyID string
	if err := s.Pool().QueryRow(ctx, `SELECT details, key_id FROM consent_evidence WHERE person_id = 's-1'`).Scan(&raw, &keyID); err != nil {
		t.Fatal(err)
	}
	if keyID == "" {
		t.Fatal("no key id stored with the sealed details")
	}
	for _, secret := range []string{"Семёнова", "Алёна", "Пётр", "sess-77", "1000"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("plaintext %q stored", secret)
		}
	}
	// Re-sealing is the only other change the table allows; moving s-1's
	// ciphertext onto s-2's row that way leaves it unreadable.
	if _, err := s.Pool().Exec(ctx, `UPDATE consent_evidence SET details = $1, key_id = 'moved' WHERE person_id = 's-2'`, raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE consent_evidence SET key_id = $1 WHERE person_id = 's-2'`, keyID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EvidenceOf(ctx, "t1", "s-2"); !errors.Is(err, keyring.ErrOpen) {
		t.Fatalf("moved ciphertext opened: %v", err)
	}
	if ev, err := s.EvidenceOf(ctx, "t1", "s-1"); err != nil || ev[0].Details.GrantorName != "Семёнова Алёна Игоревна" {
		t.Fatalf("EvidenceOf = %+v, %v", ev, err)
	}
	if n, err := s.DestroyEvidence(ctx, "t1", "s-1", consentBase.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("DestroyEvidence = %d, %v", n, err)
	}
	var destroyed bool
	if err := s.Pool().QueryRow(ctx, `SELECT details, key_id, destroyed FROM consent_evidence WHERE person_id = 's-1'`).
		Scan(&raw, &keyID, &destroyed); err != nil {
		t.Fatal(err)
	}
	if raw != nil || keyID != "" || !destroyed {
		t.Fatalf("destroyed row keeps %d bytes under key %q (destroyed=%v)", len(raw), keyID, destroyed)
	}
	// A store without a sealer refuses personal data, but not events without it.
	bare := postgres.New(s.Pool(), nil)
	if err := bare.AppendEvidence(ctx, store.Evidence{TenantID: "t1", PersonID: "s-3", Event: "granted", Details: evidenceDetails()}); !errors.Is(err, postgres.ErrNoSealer) {
		t.Fatalf("no sealer: %v", err)
	}
	if err := bare.AppendEvidence(ctx, store.Evidence{TenantID: "t1", PersonID: "s-3", Event: "expired"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bare.EvidenceOf(ctx, "t1", "s-2"); !errors.Is(err, postgres.ErrNoSealer) {
		t.Fatalf("no sealer, reading: %v", err)
	}
}

// TestEvidenceIsAppendOnly: the database itself refuses to change or remove
// evidence, except destroying or re-sealing its details.
func TestEvidenceIsAppendOnly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	for i, d := range []store.EvidenceDetails{evidenceDetails(), evidenceDetails(), {}} {
		if err := s.AppendEvidence(ctx, store.Evidence{TenantID: "t1", PersonID: fmt.Sprintf("s-%d", i+1), ConsentID: "c-1",
			Event: "granted", At: consentBase, Details: d}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range []string{
		`UPDATE consent_evidence SET event = 'revoked' WHERE person_id = 's-1'`,
		`UPDATE consent_evidence SET at = at + interval '1 day' WHERE person_id = 's-1'`,
		`UPDATE consent_evidence SET person_id = 's-9' WHERE person_id = 's-1'`,
		`UPDATE consent_evidence SET consent_id = 'c-9' WHERE person_id = 's-1'`,
		`UPDATE consent_evidence SET details = '\x00'::bytea WHERE person_id = 's-1'`,               // same key: not a re-seal
		`UPDATE consent_evidence SET details = '\x00'::bytea, key_id = 'k' WHERE person_id = 's-3'`, // nothing was sealed
		`UPDATE consent_evidence SET destroyed = true, details = NULL WHERE person_id = 's-1'`,      // key id kept
		`UPDATE consent_evidence SET destroyed = true, details = NULL, key_id = '', event = 'x' WHERE person_id = 's-1'`,
		`DELETE FROM consent_evidence WHERE person_id = 's-1'`,
		`TRUNCATE consent_evidence`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err == nil {
			t.Fatalf("allowed: %s", sql)
		}
	}
	if n, err := s.DestroyEvidence(ctx, "t1", "s-1", consentBase.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("DestroyEvidence = %d, %v", n, err)
	}
	for _, sql := range []string{
		`UPDATE consent_evidence SET destroyed = false WHERE person_id = 's-1'`,
		`UPDATE consent_evidence SET destroyed = false, details = '\x00'::bytea, key_id = 'k' WHERE person_id = 's-1'`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err == nil {
			t.Fatalf("a destroyed record came back: %s", sql)
		}
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE consent_evidence SET details = details || '\x00'::bytea, key_id = 'next-key'
		WHERE person_id = 's-2'`); err != nil {
		t.Fatalf("re-sealing refused: %v", err)
	}
	if _, err := s.Pool().Exec(ctx, `DELETE FROM tenants WHERE id = 't1'`); err == nil {
		t.Fatal("a tenant with evidence was deleted")
	}
}

// TestOneOpenRequest: the database keeps one open request per record
// whatever writes it.
func TestOneOpenRequest(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenRequest(ctx, store.ConsentRequest{ID: "r-1", TenantID: "t1", PersonID: "s-1", CreatedAt: consentBase}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO consent_requests (id, tenant_id, person_id, status, created_at)
		VALUES ('r-2', 't1', 's-1', 'open', now())`); err == nil {
		t.Fatal("a second open request was stored")
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO consent_requests (id, tenant_id, person_id, status, created_at)
		VALUES ('r-2', 't1', 's-1', 'expired', now())`); err != nil {
		t.Fatalf("a closed request beside the open one: %v", err)
	}
}

// TestClaimsAcrossReplicas runs the claims of two stores on separate pools
// (two broker replicas) against one database: no row goes to both.
func TestClaimsAcrossReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	var replicas []*postgres.Store
	for range 2 {
		pool, err := postgres.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		replicas = append(replicas, postgres.New(pool, nil))
	}
	s := replicas[0]
	if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := s.EnqueueEvent(ctx, store.OutboxEvent{ID: fmt.Sprintf("ev-%03d", i), TenantID: "t1", Type: "consent.granted",
			CreatedAt: consentBase}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateConsent(ctx, store.Consent{ID: fmt.Sprintf("c-%03d", i), TenantID: "t1", PersonID: fmt.Sprintf("s-%d", i),
			Kind: store.ConsentSelf, GrantedAt: consentBase, ExpiresAt: consentBase.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.OpenRequest(ctx, store.ConsentRequest{ID: fmt.Sprintf("r-%03d", i), TenantID: "t1", PersonID: fmt.Sprintf("s-%d", i),
			CreatedAt: consentBase, ExpiresAt: consentBase.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	now := consentBase.Add(2 * time.Hour)
	claims := map[string]func(s *postgres.Store) ([]string, error){
		"events": func(s *postgres.Store) ([]string, error) {
			es, err := s.ClaimEvents(ctx, now, time.Minute, 7)
			var ids []string
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			return ids, err
		},
		"consents": func(s *postgres.Store) ([]string, error) {
			cs, err := s.ExpireConsents(ctx, now, 7)
			var ids []string
			for _, c := range cs {
				ids = append(ids, c.ID)
			}
			return ids, err
		},
		"requests": func(s *postgres.Store) ([]string, error) {
			rs, err := s.ExpireRequests(ctx, now, 7)
			var ids []string
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			return ids, err
		},
	}
	for name, claim := range claims {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			errs := make([]error, 8)
			for w := range errs {
				wg.Go(func() {
					for {
						ids, err := claim(replicas[w%2])
						if err != nil || len(ids) == 0 {
							errs[w] = err
							return
						}
						mu.Lock()
						for _, id := range ids {
							seen[id]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for id, k := range seen {
				if k != 1 {
					t.Fatalf("%s claimed %d times", id, k)
				}
			}
			if len(seen) != n {
				t.Fatalf("claimed %d rows, want %d", len(seen), n)
			}
		})
	}
}

// TestConsentMigrationsDown: the consent and outbox migrations roll back
// cleanly and apply again.
func TestConsentMigrationsDown(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	applied := func(version int64) bool {
		t.Helper()
		ms, err := postgres.Migrations(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Version == version {
				return m.Applied
			}
		}
		t.Fatalf("no migration %d", version)
		return false
	}
	for applied(20) {
		if err := postgres.MigrateDown(ctx, pool, nil); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename IN
		('consents', 'consent_requests', 'consent_evidence', 'outbox_events')`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d consent tables left after rolling back: %v", n, err)
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	if !applied(20) || !applied(21) {
		t.Fatal("migrations not applied again")
	}
}

// TestDuplicateConsentsCleanedByMigration: migration 34 finds the granted
// duplicates that concurrent logins left before it (several granted
// consents of one record and kind), keeps the newest of each granted —
// granted_at, then the order of storing — supersedes the others as
// "duplicate" with an evidence record each, and then refuses a new
// duplicate.
func TestDuplicateConsentsCleanedByMigration(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	st := postgres.New(pool, nil)
	for _, id := range []string{"t1", "t2"} {
		if err := st.CreateTenant(ctx, store.Tenant{ID: id, DisplayName: id}); err != nil {
			t.Fatal(err)
		}
	}
	// Back to before migration 34: while its index is there.
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE indexname = 'consents_one_granted'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if err := postgres.MigrateDown(ctx, pool, nil); err != nil {
			t.Fatal(err)
		}
	}
	h := func(n int) time.Time { return consentBase.Add(time.Duration(n) * time.Hour) }
	rows := []struct {
		id, tenant, person, kind, status string
		granted                          time.Time
	}{
		{"a-1", "t1", "s-a", "self", "granted", h(0)},
		{"a-2", "t1", "s-a", "self", "granted", h(1)},
		{"a-3", "t1", "s-a", "self", "granted", h(1)}, // same instant, stored later: kept
		{"a-4", "t1", "s-a", "self", "revoked", h(2)},
		{"a-5", "t1", "s-a", "parental", "granted", h(0)}, // the other kind
		{"b-1", "t1", "s-b", "self", "granted", h(0)},     // no duplicate
		{"c-1", "t2", "s-a", "self", "granted", h(3)},     // kept: newest
		{"c-2", "t2", "s-a", "self", "granted", h(2)},
	}
	for _, r := range rows {
		if _, err := pool.Exec(ctx, `INSERT INTO consents (id, tenant_id, person_id, kind, status, granted_at, text_version)
			VALUES ($1, $2, $3, $4, $5, $6, '1')`, r.id, r.tenant, r.person, r.kind, r.status, r.granted); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a-1": "superseded/duplicate", "a-2": "superseded/duplicate", "a-3": "granted/", "a-4": "revoked/",
		"a-5": "granted/", "b-1": "granted/", "c-1": "granted/", "c-2": "superseded/duplicate"}
	got := map[string]string{}
	for _, key := range [][2]string{{"t1", "s-a"}, {"t1", "s-b"}, {"t2", "s-a"}} {
		cs, err := st.ConsentsOf(ctx, key[0], key[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			got[c.ID] = string(c.Status) + "/" + c.EndReason
			if c.EndReason == "duplicate" && c.EndedAt.IsZero() {
				t.Fatalf("%s superseded without an end time", c.ID)
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the migration: %v\nwant %v", got, want)
	}
	var ev []string
	for _, key := range [][2]string{{"t1", "s-a"}, {"t2", "s-a"}} {
		es, err := st.EvidenceOf(ctx, key[0], key[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			ev = append(ev, e.ConsentID+"/"+e.Event)
		}
	}
	if fmt.Sprint(ev) != "[a-1/superseded a-2/superseded c-2/superseded]" {
		t.Fatalf("evidence of the cleaning: %v", ev)
	}
	err := st.CreateConsent(ctx, store.Consent{ID: "a-6", TenantID: "t1", PersonID: "s-a", Kind: store.ConsentSelf, GrantedAt: h(4)})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("a duplicate after the migration: %v", err)
	}
}
