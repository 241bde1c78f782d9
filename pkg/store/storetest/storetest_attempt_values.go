package storetest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// testAttemptValues: the values a login's matching used are kept with the
// attempt of the same tenant only, read back as written, replaced by a
// second keep, refused when empty, oversized or with strings no store
// keeps, and go with the attempt when it is destroyed.
func testAttemptValues(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	attemptAt(t, s, "V1", "t1", "not_found", base, base)
	data := []byte(`{"snils":"104-517-893 44","last_name":"Павлов"}`)

	if _, err := s.GetAttemptValues(ctx(), "V1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("values before any were kept: %v", err)
	}
	must(t, s.KeepAttemptValues(ctx(), store.AttemptValues{Ref: "V1", TenantID: "t1", Data: data, KeptAt: base.Add(time.Minute)}))
	got, err := s.GetAttemptValues(ctx(), "V1")
	must(t, err)
	if got.Ref != "V1" || got.TenantID != "t1" || !bytes.Equal(got.Data, data) || !got.KeptAt.Equal(base.Add(time.Minute)) || !got.DestroyedAt.IsZero() {
		t.Fatalf("kept values = %+v", got)
	}
	again := []byte(`{"snils":"104-527-893 44"}`)
	must(t, s.KeepAttemptValues(ctx(), store.AttemptValues{Ref: "V1", TenantID: "t1", Data: again, KeptAt: base.Add(2 * time.Minute)}))
	if got, _ := s.GetAttemptValues(ctx(), "V1"); !bytes.Equal(got.Data, again) || !got.KeptAt.Equal(base.Add(2*time.Minute)) {
		t.Fatalf("replaced values = %+v", got)
	}

	for _, tc := range []struct {
		name string
		v    store.AttemptValues
		want error
	}{
		{"no such attempt", store.AttemptValues{Ref: "NOPE", TenantID: "t1", Data: data}, store.ErrNotFound},
		{"the attempt of another tenant", store.AttemptValues{Ref: "V1", TenantID: "t2", Data: data}, store.ErrNotFound},
		{"no data", store.AttemptValues{Ref: "V1", TenantID: "t1"}, store.ErrInvalid},
		{"too much data", store.AttemptValues{Ref: "V1", TenantID: "t1", Data: make([]byte, store.MaxAttemptValues+1)}, store.ErrInvalid},
		{"no reference", store.AttemptValues{TenantID: "t1", Data: data}, store.ErrInvalidField},
		{"NUL in the reference", store.AttemptValues{Ref: "V\x001", TenantID: "t1", Data: data}, store.ErrInvalidField},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.KeepAttemptValues(ctx(), tc.v), tc.want)
		})
	}
	if got, _ := s.GetAttemptValues(ctx(), "V1"); !bytes.Equal(got.Data, again) {
		t.Fatalf("a refused keep changed the values: %+v", got)
	}
	if _, err := s.GetAttemptValues(ctx(), "V\x001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a reference no store keeps: %v", err)
	}

	// The values go with their attempt.
	refs, _, err := s.DestroyAttempts(ctx(), "t1", base.Add(time.Hour), 0)
	must(t, err)
	wantIDs(t, "destroyed attempts", refs, []string{"V1"})
	if _, err := s.GetAttemptValues(ctx(), "V1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("values of a destroyed attempt: %v", err)
	}
}

// testDestroyAttemptValues: a tenant's values kept before the cut-off are
// destroyed oldest first and in batches — the data gone, the row saying
// when — while those at the cut-off, newer ones and the other tenant's
// stay; a destroyed row is not destroyed again, and a destruction in a
// transaction that fails destroys nothing.
func testDestroyAttemptValues(t *testing.T, s ConsentStore) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	cut := base.Add(30 * 24 * time.Hour)
	keep := func(ref, tenantID string, at time.Time) {
		t.Helper()
		attemptAt(t, s, ref, tenantID, "not_found", at, at)
		must(t, s.KeepAttemptValues(ctx(), store.AttemptValues{Ref: ref, TenantID: tenantID, Data: []byte(`{"ref":"` + ref + `"}`), KeptAt: at}))
	}
	keep("K1", "t1", base)
	keep("K2", "t1", base.Add(time.Hour))
	keep("K3", "t1", base.Add(2*time.Hour))
	keep("KE", "t1", cut) // at the cut-off: kept
	keep("KN", "t1", cut.Add(time.Second))
	keep("O1", "t2", base) // as old, other tenant

	at := cut.Add(time.Minute)
	destroy := func(limit int) []string {
		t.Helper()
		refs, err := s.DestroyAttemptValues(ctx(), "t1", cut, at, limit)
		must(t, err)
		return refs
	}
	wantIDs(t, "first batch", destroy(2), []string{"K1", "K2"})
	wantIDs(t, "second batch", destroy(2), []string{"K3"})
	wantIDs(t, "nothing left", destroy(2), nil)
	for ref, gone := range map[string]bool{"K1": true, "K2": true, "K3": true, "KE": false, "KN": false, "O1": false} {
		v, err := s.GetAttemptValues(ctx(), ref)
		must(t, err)
		if gone != (v.Data == nil) || gone != v.DestroyedAt.Equal(at) || (!gone && !v.DestroyedAt.IsZero()) {
			t.Fatalf("%s after destruction: data %q, destroyed at %v", ref, v.Data, v.DestroyedAt)
		}
		if _, err := s.GetAttempt(ctx(), ref); err != nil {
			t.Fatalf("%s: the attempt went with its values: %v", ref, err)
		}
	}
	if refs, err := s.DestroyAttemptValues(ctx(), "t2", base, at, 0); err != nil || len(refs) != 0 {
		t.Fatalf("t2 at its own cut-off: %v %v", refs, err)
	}
	if refs, err := s.DestroyAttemptValues(ctx(), "t\x00", cut, at, 0); err != nil || len(refs) != 0 {
		t.Fatalf("a tenant no store keeps: %v %v", refs, err)
	}

	// In a transaction that fails, nothing is destroyed.
	keep("K4", "t1", base)
	boom := errors.New("boom")
	err := s.InTx(ctx(), func(ctx2 context.Context) error {
		if _, err := s.DestroyAttemptValues(ctx2, "t1", cut, at, 0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("tx: %v", err)
	}
	if v, _ := s.GetAttemptValues(ctx(), "K4"); v.Data == nil {
		t.Fatal("a rolled-back destruction destroyed the values")
	}
}
