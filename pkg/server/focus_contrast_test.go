package server_test

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestFocusRingContrast: the keyboard focus ring stands out from what it
// is drawn on — the card and the page background — by at least 3:1 (WCAG
// 2.2, 1.4.11 non-text contrast); #f0a202 on white was 2.1:1.
func TestFocusRingContrast(t *testing.T) {
	css, err := os.ReadFile("static/broker.css")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z]+):\s*(#[0-9a-fA-F]{3,6})`).FindAllStringSubmatch(string(css), -1) {
		vars[m[1]] = m[2]
	}
	if !regexp.MustCompile(`:focus[^{]*\{[^}]*outline:[^;]*var\(--focus\)`).Match(css) {
		t.Fatal("the focus outline does not use var(--focus)")
	}
	for _, behind := range []string{"card", "bg"} {
		if r := contrast(t, vars["focus"], vars[behind]); r < 3 {
			t.Errorf("focus %s on --%s %s: %.2f:1, want at least 3:1", vars["focus"], behind, vars[behind], r)
		}
	}
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is WCAG's relative luminance of a #rgb or #rrggbb colour.
func luminance(t *testing.T, hex string) float64 {
	h := hex[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		t.Fatalf("colour %q", hex)
	}
	var c [3]float64
	for i := range c {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		s := float64(v) / 255
		if s <= 0.03928 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}
