package server_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLibraryTableNamesRealTests keeps docs/oauth.md's "Relying-party
// libraries" true: the table has a row per library, each library's section
// names the test that proves its settings, that test exists, and every
// file the section names is in the repository.
func TestLibraryTableNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("../../docs/oauth.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "\n## Relying-party libraries\n")
	if start < 0 {
		t.Fatal("docs/oauth.md has no Relying-party libraries section")
	}
	section := text[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	if err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range decl.FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile("(?m)^\\| (?:Apache|Node|Python|browser)[^|]*\\|").FindAllString(section, -1)
	libraries := []struct{ row, test string }{
		{"| Apache `mod_auth_openidc`", "TestModAuthOpenIDC"},
		{"| Node `openid-client`", "TestOpenIDClient"},
		{"| Python Authlib", "TestAuthlib"},
		{"| browser SPA", "TestDemoSPAInChromium"},
	}
	if len(rows) != len(libraries) {
		t.Errorf("the table has %d library rows, want %d: %q", len(rows), len(libraries), rows)
	}
	for _, l := range libraries {
		if !strings.Contains(section, "\n"+l.row) {
			t.Errorf("no table row %q", l.row)
		}
		if !strings.Contains(section, "(`"+l.test+"`)") || !defined[l.test] {
			t.Errorf("%s: the section does not name %s, or no test defines it", l.row, l.test)
		}
	}
	for _, m := range regexp.MustCompile("`((?:pkg|scripts)/[\\w./-]+)`").FindAllStringSubmatch(section, -1) {
		if _, err := os.Stat(filepath.Join("..", "..", m[1])); err != nil {
			t.Errorf("docs/oauth.md names %s: %v", m[1], err)
		}
	}
}
