package server

import (
	"testing"
	"time"
)

// TestGrantCacheTTLSetting: the revocation bound of login access tokens
// is 5 s unless BROKER_GRANT_CACHE_TTL sets it.
func TestGrantCacheTTLSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want time.Duration
	}{
		{map[string]string{}, 5 * time.Second},
		{map[string]string{"BROKER_GRANT_CACHE_TTL": "2s"}, 2 * time.Second},
	} {
		s, err := LoadSettings("", func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		if s.GrantCacheTTL != tc.want {
			t.Fatalf("%v: GrantCacheTTL %v, want %v", tc.env, s.GrantCacheTTL, tc.want)
		}
	}
}
