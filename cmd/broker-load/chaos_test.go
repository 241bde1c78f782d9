package main

import (
	"strings"
	"testing"
)

// TestParsePersons: -persons takes oids and ranges, and refuses what it
// cannot read instead of logging in no one.
func TestParsePersons(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the oids joined by spaces, or "error"
	}{
		{"1000100001", "1000100001"},
		{"2000000001-2000000003,1000100011", "2000000001 2000000002 2000000003 1000100011"},
		{" 5-5 , 7", "5 7"},
		{"", "error"},
		{"3-1", "error"},
		{"a-b", "error"},
	} {
		got, err := parsePersons(tc.in)
		if s := strings.Join(got, " "); (err != nil && tc.want != "error") || (err == nil && s != tc.want) {
			t.Errorf("parsePersons(%q) = %q, %v; want %s", tc.in, s, err, tc.want)
		}
	}
}
