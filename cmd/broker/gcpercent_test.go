package main

import (
	"runtime/debug"
	"testing"
)

// TestSetGCPercent: BROKER_GOGC sets the collector's target unless it is
// 0 or GOGC is set.
func TestSetGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	for _, tc := range []struct {
		name string
		n    int
		gogc string
		set  bool
		want int
	}{
		{"unset: Go's default", 0, "", false, 100},
		{"BROKER_GOGC=400", 400, "", true, 400},
		{"GOGC wins", 400, "200", false, 100},
		{"negative refused", -1, "", false, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			t.Setenv("GOGC", tc.gogc)
			if got := setGCPercent(tc.n); got != tc.set {
				t.Fatalf("setGCPercent(%d) = %v, want %v", tc.n, got, tc.set)
			}
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Fatalf("GC percent %d, want %d", got, tc.want)
			}
		})
	}
}
