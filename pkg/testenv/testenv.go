// Package testenv says what a test needs from the machine (PostgreSQL,
// Redis, OpenSSL's GOST engine, Chromium) and what happens when it is
// missing: the test is skipped on a developer's machine and fails under
// CI=true, so that CI can never pass by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it under CI=true, for a missing service or tool.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required under CI=true but unavailable: %v", what, err)
	}
	t.Skipf("%s unavailable (CI=true makes this a failure): %v", what, err)
}

// LookPath returns the path of a command, or calls Unavailable.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name, err)
	}
	return p
}
