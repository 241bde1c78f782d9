package main_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEShowsServeRecipe: the README's serve recipe is scripts/serve-demo.sh's, line
// for line, and no other shell block of the README starts `broker serve` — so what CI runs
// (scripts/test.sh runs the script) is what an operator reads.
func TestREADMEShowsServeRecipe(t *testing.T) {
	script, err := os.ReadFile("../../scripts/serve-demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "# ---- recipe begins (README.md shows these lines) ----\n", "# ---- recipe ends ----\n"
	_, after, ok := strings.Cut(string(script), begin)
	recipe, _, ok2 := strings.Cut(after, end)
	if !ok || !ok2 || !strings.Contains(recipe, "broker serve") || !strings.Contains(recipe, "broker gost selfsign") {
		t.Fatalf("scripts/serve-demo.sh has no recipe between %q and %q with broker serve and gost selfsign", begin, end)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	shown := 0
	for _, b := range blocks {
		switch {
		case b[1] == recipe:
			shown++
		case regexp.MustCompile(`(?m)^\s*broker serve\b`).MatchString(b[1]):
			t.Errorf("README has another shell block running broker serve, which CI does not run:\n%s", b[1])
		}
	}
	if shown != 1 {
		t.Fatalf("README shows the recipe of scripts/serve-demo.sh %d times, want once (copy it between the markers)", shown)
	}
}
