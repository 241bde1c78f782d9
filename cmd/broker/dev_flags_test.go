package main_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDevFixtureFlags runs `broker dev` with the fixture flags the README
// names: --esia-persons and --roster used to fail in kong before anything
// ran ("existingfile" type must be applied to a string not *string).
func TestDevFixtureFlags(t *testing.T) {
	dir := t.TempDir()
	persons := writeFile(t, dir, "persons.json", readFile(t, filepath.Join("..", "..", "pkg", "esia", "esiasim", "fixtures", "persons.json")))
	demo := strings.SplitAfterN(string(readFile(t, filepath.Join("..", "..", "pkg", "server", "demo", "roster.ndjson"))), "\n", 3)
	roster := writeFile(t, dir, "roster.ndjson", []byte(demo[0]+demo[1]))
	notJSON := writeFile(t, dir, "persons.txt", []byte("not json"))

	t.Run("both files", func(t *testing.T) {
		p := startBroker(t, nil, "dev", "--addr", "127.0.0.1:0", "--esia-persons", persons, "--roster", roster)
		p.waitFor(regexp.MustCompile(`demo roster loaded" persons=2 `))
		p.waitFor(regexp.MustCompile(`dev mode ready`))
	})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing persons file", []string{"--esia-persons", filepath.Join(dir, "missing.json")}, "--esia-persons: stat"},
		{"missing roster file", []string{"--roster", filepath.Join(dir, "missing.ndjson")}, "--roster: stat"},
		{"persons not JSON", []string{"--esia-persons", notJSON}, "esia persons " + notJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startBroker(t, nil, append([]string{"dev", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if code := p.exitCode(); code == 0 {
				t.Fatalf("exit 0, want an error:\n%s", p.out)
			}
			if out := p.out.String(); !strings.Contains(out, tc.want) || strings.Contains(out, "must be applied") {
				t.Fatalf("output %q, want it to contain %q", out, tc.want)
			}
		})
	}
}
