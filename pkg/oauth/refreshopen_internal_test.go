package oauth

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestOpenInOnceARequest: within a request's cache, a refresh token is
// opened once and read back as open and key give it; a forged one fails
// every time and is not kept; without a cache, and in another request,
// nothing is shared; the memo holds at most maxOpenedRG tokens.
func TestOpenInOnceARequest(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	rg := newRGTokens(secret)
	_, sig, err := rg.mint("grant-1", newRefreshKey())
	if err != nil {
		t.Fatal(err)
	}
	want, err := rg.open(sig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  context.Context
		kept int
	}{
		{"no request cache", context.Background(), 0},
		{"a request's cache", withRequestCache(context.Background()), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				o, err := rg.openIn(tt.ctx, sig)
				if err != nil || o.payload != want || o.key != rg.key(sig) || o.sig != sig {
					t.Fatalf("openIn = %+v, %v; want %+v and key %s", o, err, want, rg.key(sig))
				}
				if _, err := rg.openIn(tt.ctx, sig[:len(sig)-2]+"xx"); !errors.Is(err, errBadRGToken) {
					t.Fatalf("a forged signature: %v, want errBadRGToken", err)
				}
			}
			if c := cacheOf(tt.ctx); c != nil && len(c.opened) != tt.kept {
				t.Fatalf("kept %d opened tokens, want %d", len(c.opened), tt.kept)
			}
		})
	}
	ctx := withRequestCache(context.Background())
	for i := range 2 * maxOpenedRG {
		_, s, _ := rg.mint(fmt.Sprintf("grant-%d", i), newRefreshKey())
		if _, err := rg.openIn(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cacheOf(ctx).opened); n != maxOpenedRG {
		t.Fatalf("kept %d opened tokens, want at most %d", n, maxOpenedRG)
	}
	if _, err := rg.openIn(withRequestCache(context.Background()), sig); err != nil {
		t.Fatal(err)
	}
}
