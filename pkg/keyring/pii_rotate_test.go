package keyring_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// TestSealRefreshesStaleKeys checks the bound on how long a replica keeps
// sealing under a key another replica retired: KeyRefresh.
func TestSealRefreshesStaleKeys(t *testing.T) {
	ctx := context.Background()
	st := memory.New(nil)
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, err := keyring.OpenPII(ctx, st, kek, clock)
	if err != nil {
		t.Fatal(err)
	}
	b, err := keyring.OpenPII(ctx, st, kek, clock)
	if err != nil {
		t.Fatal(err)
	}
	old := b.ActiveKeyID()
	newID, err := a.Rotate(ctx)
	if err != nil || newID == old {
		t.Fatalf("rotate: %s %v", newID, err)
	}
	seal := func() string {
		t.Helper()
		id, _, err := b.Seal([]byte("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	now = now.Add(keyring.KeyRefresh - time.Second)
	if got := seal(); got != old {
		t.Fatalf("sealed under %s before KeyRefresh, want the key it knew (%s)", got, old)
	}
	now = now.Add(time.Second)
	if got := seal(); got != newID {
		t.Fatalf("sealed under %s after KeyRefresh, want %s", got, newID)
	}
	// A clock that goes back is not trusted either.
	if _, err := a.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(-time.Hour)
	if got := seal(); got == newID {
		t.Fatal("a clock that went back kept the old keys")
	}
}
