package store

import (
	"errors"
	"testing"
)

// TestTenantLocation: a tenant's zone is its IANA zone, Moscow when unset
// or unknown; LocationErr refuses an unknown one; a zone is loaded once
// and handed out again (the same *time.Location).
func TestTenantLocation(t *testing.T) {
	tests := []struct {
		zone, want string
		invalid    bool
	}{
		{"Asia/Yekaterinburg", "Asia/Yekaterinburg", false},
		{"Europe/Kaliningrad", "Europe/Kaliningrad", false},
		{"", "Europe/Moscow", true},
		{"Mars/Olympus", "Europe/Moscow", true},
		{"../../etc/passwd", "Europe/Moscow", true},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			tn := Tenant{ID: "t", TimeZone: tt.zone}
			first := tn.Location()
			if first.String() != tt.want {
				t.Fatalf("Location() = %s, want %s", first, tt.want)
			}
			if again := tn.Location(); again != first {
				t.Fatal("the zone was loaded again, not kept")
			}
			loc, err := tn.LocationErr()
			switch {
			case tt.invalid && tt.zone != "" && !errors.Is(err, ErrInvalid):
				t.Fatalf("LocationErr() = %v, want ErrInvalid", err)
			case !tt.invalid && (err != nil || loc != first):
				t.Fatalf("LocationErr() = %v, %v; want the kept %s", loc, err, first)
			}
		})
	}
	if _, ok := locations.Load("Mars/Olympus"); ok {
		t.Fatal("an unknown zone was kept")
	}
}
