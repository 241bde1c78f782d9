package esiasim

import (
	"fmt"
	"testing"
)

// TestGrantTableStaysBounded: a table put to many times, with most entries
// removed as they would be redeemed, keeps at most max grants and an order
// list bounded by them, whatever the number of insertions.
func TestGrantTableStaysBounded(t *testing.T) {
	tbl := newGrantTable(100)
	for i := range 100000 {
		tok := fmt.Sprintf("token-%d", i)
		tbl.put(tok, &grant{})
		if i%3 != 0 {
			tbl.del(tok) // redeemed
		}
		if tbl.len() > 100 || len(tbl.order) > 2*tbl.len()+sweepEvery+1 {
			t.Fatalf("after %d: %d grants, order of %d", i, tbl.len(), len(tbl.order))
		}
	}
	if tbl.get("token-99999") == nil || tbl.get("token-0") != nil {
		t.Fatal("the newest grant is not kept, or the oldest not forgotten")
	}
}
