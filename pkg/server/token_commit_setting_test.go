package server

import (
	"strings"
	"testing"
)

// TestTokenCommitSetting: token writes are durable unless
// BROKER_TOKEN_COMMIT says async; anything else is refused at start.
func TestTokenCommitSetting(t *testing.T) {
	for _, tc := range []struct {
		value, want, err string
	}{
		{"", "", ""},
		{"durable", "durable", ""},
		{"async", "async", ""},
		{"off", "", "token_commit"},
	} {
		env := map[string]string{}
		if tc.value != "" {
			env["BROKER_TOKEN_COMMIT"] = tc.value
		}
		s, err := LoadSettings("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err == nil {
			s.Dev = true // the checks of a dev broker: serve's would ask for ESIA first
			err = s.Resolve()
		}
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("%q: error %v, want one naming %s", tc.value, err, tc.err)
			}
			continue
		}
		if err != nil || s.TokenCommit != tc.want {
			t.Fatalf("%q: TokenCommit %q, %v; want %q", tc.value, s.TokenCommit, err, tc.want)
		}
	}
}
