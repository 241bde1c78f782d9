// Package sessionstest is the conformance suite of sessions.Store: the
// in-process and the Redis implementations run the same tests.
package sessionstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/sessions"
)

// Harness is a fresh store plus a way to let time pass: the memory store
// advances its injected clock, Redis waits for its own expiry with a
// polling deadline (never a blind sleep).
type Harness struct {
	Store sessions.Store
	// Elapse lets d pass, then reports whether done became true before a
	// deadline.
	Elapse func(d time.Duration, done func() bool) bool
	// TTL is the short time to live the expiry tests use.
	TTL time.Duration
}

// Run runs the suite against harnesses made by newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"PutGet", testPutGet},
		{"Take", testTake},
		{"TakeIsAtomic", testTakeIsAtomic},
		{"Expiry", testExpiry},
		{"Hit", testHit},
		{"HitWindowExpires", testHitWindowExpires},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness(t)) })
	}
}

var ctx = context.Background()

func testPutGet(t *testing.T, h Harness) {
	s := h.Store
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}
	if err := s.Put(ctx, "k", []byte("v1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "k", []byte("v2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // Get does not consume
		v, err := s.Get(ctx, "k")
		if err != nil || string(v) != "v2" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("after Delete: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testTake(t *testing.T, h Harness) {
	s := h.Store
	if err := s.Put(ctx, "state", []byte("pending"), time.Minute); err != nil {
		t.Fatal(err)
	}
	v, err := s.Take(ctx, "state")
	if err != nil || string(v) != "pending" {
		t.Fatalf("Take = %q, %v", v, err)
	}
	if _, err := s.Take(ctx, "state"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("second Take = %v", err)
	}
}

func testTakeIsAtomic(t *testing.T, h Harness) {
	s := h.Store
	if err := s.Put(ctx, "once", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Take(ctx, "once"); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, sessions.ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d Takes won, want 1", wins)
	}
}

func testExpiry(t *testing.T, h Harness) {
	s := h.Store
	if err := s.Put(ctx, "short", []byte("x"), h.TTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "long", []byte("y"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "short"); err != nil || string(v) != "x" {
		t.Fatalf("before expiry: %q %v", v, err)
	}
	gone := h.Elapse(h.TTL, func() bool {
		_, err := s.Get(ctx, "short")
		return errors.Is(err, sessions.ErrNotFound)
	})
	if !gone {
		t.Fatal("value outlived its TTL")
	}
	if _, err := s.Take(ctx, "short"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Take after expiry = %v", err)
	}
	if v, err := s.Get(ctx, "long"); err != nil || string(v) != "y" {
		t.Fatalf("long-lived value: %q %v", v, err)
	}
}

func testHit(t *testing.T, h Harness) {
	s := h.Store
	for i := int64(1); i <= 5; i++ {
		n, err := s.Hit(ctx, "ip:1", time.Minute)
		if err != nil || n != i {
			t.Fatalf("Hit #%d = %d, %v", i, n, err)
		}
	}
	n, err := s.Hit(ctx, "ip:2", time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("other key = %d, %v", n, err)
	}
	// Concurrent hits are all counted.
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Hit(ctx, "ip:3", time.Minute); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, _ := s.Hit(ctx, "ip:3", time.Minute); n != 51 {
		t.Fatalf("after 50 concurrent hits: %d", n)
	}
}

func testHitWindowExpires(t *testing.T, h Harness) {
	s := h.Store
	for i := 0; i < 3; i++ {
		if _, err := s.Hit(ctx, "w", h.TTL); err != nil {
			t.Fatal(err)
		}
	}
	reset := h.Elapse(h.TTL, func() bool {
		// A probe within the window counts too, but never extends it.
		n, err := s.Hit(ctx, "w", h.TTL)
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	if !reset {
		t.Fatalf("window did not reset after %v", h.TTL)
	}
}
