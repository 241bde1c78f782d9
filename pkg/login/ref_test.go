package login

import (
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

func TestRefRoundTrip(t *testing.T) {
	for i := 0; i < 100; i++ {
		r := NewRef()
		if len(r) != 10 || strings.ContainsAny(r, "ILOU") {
			t.Fatalf("NewRef = %q", r)
		}
		for _, typed := range []string{r, FormatRef(r), strings.ToLower(FormatRef(r)), " " + r[:5] + " " + r[5:] + " "} {
			got, err := ParseRef(typed)
			if err != nil || got != r {
				t.Fatalf("ParseRef(%q) = %q, %v", typed, got, err)
			}
		}
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"ABCDE-12345", "ABCDE12345", true},
		{"abcde12345", "ABCDE12345", true},
		{"OOOOO-IIIII", "0000011111", true}, // dictated O and I/L read as 0 and 1
		{"lllll-00000", "1111100000", true},
		{"ABCDE-1234", "", false},
		{"ABCDE-123456", "", false},
		{"ABCDE-1234U", "", false}, // U is not in Crockford's alphabet
		{"АБВГД-12345", "", false}, // Cyrillic
		{"", "", false},
	}
	for _, tc := range tests {
		got, err := ParseRef(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRef(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"ABCDE-12345", "abcde12345", "OOOOO-IIIII", "", "-----", "АБВ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if len(r) != 10 || strings.Trim(r, crockford) != "" {
			t.Fatalf("ParseRef(%q) = %q", s, r)
		}
		if again, err := ParseRef(FormatRef(r)); err != nil || again != r {
			t.Fatalf("not idempotent: %q → %q → %q", s, r, again)
		}
	})
}

func TestAgeGroup(t *testing.T) {
	policy := store.DefaultConsentPolicy()
	d := func(y, m, day int) store.Date { return store.Date{Year: y, Month: time.Month(m), Day: day} }
	tests := []struct {
		birth, today store.Date
		want         string
	}{
		{d(2012, 11, 24), d(2026, 11, 24), oauth.Age14to17},  // 14 today
		{d(2012, 11, 25), d(2026, 11, 24), oauth.AgeUnder14}, // 14 tomorrow
		{d(2008, 11, 24), d(2026, 11, 24), oauth.AgeAdult},
		{d(2008, 11, 25), d(2026, 11, 24), oauth.Age14to17},
		{d(2008, 2, 29), d(2026, 2, 28), oauth.Age14to17}, // born 29 Feb: 18 on 1 March in common years
		{d(2008, 2, 29), d(2026, 3, 1), oauth.AgeAdult},
		{store.Date{}, d(2026, 1, 1), ""},
	}
	for _, tc := range tests {
		if got := AgeGroup(tc.birth, tc.today, policy); got != tc.want {
			t.Errorf("AgeGroup(%v, %v) = %q, want %q", tc.birth, tc.today, got, tc.want)
		}
	}
	custom := store.ConsentPolicy{AdultAge: 16, OwnAccountAge: 12}
	if got := AgeGroup(d(2010, 1, 1), d(2026, 6, 1), custom); got != oauth.AgeAdult {
		t.Errorf("custom thresholds: %q", got)
	}
}
