package linking

import (
	"fmt"
	"runtime"
	"testing"
)

func TestIDSet(t *testing.T) {
	s := newIDSet()
	if _, dup := s.add("s-1", 3); dup {
		t.Fatal("new id reported twice")
	}
	if first, dup := s.add("s-1", 9); !dup || first != 3 {
		t.Fatalf("second add: %d %v", first, dup)
	}
	if !s.has("s-1") || s.has("s-2") {
		t.Fatal("has")
	}
}

// BenchmarkIDSetMemory reports the bytes the duplicate check keeps per
// person row.
func BenchmarkIDSetMemory(b *testing.B) {
	const n = 1_000_000
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newIDSet()
		for j := 0; j < n; j++ {
			s.add(fmt.Sprintf("s-%07d", j), j)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/id")
		runtime.KeepAlive(s)
	}
}
