package server_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

// TestConfigurationDocumented keeps docs/configuration.md true: every
// variable the broker reads is documented there.
func TestConfigurationDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range server.EnvVars {
		if !strings.Contains(string(doc), "`"+ev.Name+"`") {
			t.Errorf("docs/configuration.md does not document %s", ev.Name)
		}
	}
}

func TestLoadSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/broker.yaml"
	if err := os.WriteFile(file, []byte("addr: 127.0.0.1:7000\nrate_limit: 7\nesia:\n  timeout: 3s\n  client_id: FROMFILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BROKER_RATE_LIMIT": "9", "BROKER_ESIA_SCOPES": "openid snils"}
	s, err := server.LoadSettings(file, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:7000" || s.RateLimit != 9 || s.ESIA.ClientID != "FROMFILE" || s.ESIA.Timeout.String() != "3s" ||
		strings.Join(s.ESIA.Scopes, ",") != "openid,snils" || s.LoginTimeout.String() != "15m0s" {
		t.Fatalf("settings = %+v", s)
	}
	if err := os.WriteFile(file, []byte("adr: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.LoadSettings(file, func(string) (string, bool) { return "", false }); err == nil {
		t.Fatal("unknown YAML key accepted")
	}
	_, err = server.LoadSettings("", func(k string) (string, bool) {
		if k == "BROKER_ESIA_TIMEOUT" {
			return "s3cr3t", true
		}
		return "", false
	})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("bad value error = %v (must not quote the value)", err)
	}
	// serve names what is missing.
	s = server.DefaultSettings()
	if err := s.Resolve(); err == nil || !strings.Contains(err.Error(), "BROKER_DATABASE_URL") {
		t.Fatalf("serve without settings: %v", err)
	}
}

// TestSecurityDocNamesRealTests keeps docs/security.md true: every test or
// fuzz target it names as the proof of a promise exists in the repository.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)\w+)\(`)
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range decl.FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile("`((?:Test|Fuzz)\\w+)`").FindAllStringSubmatch(string(doc), -1)
	if len(named) < 20 {
		t.Fatalf("docs/security.md names %d tests; the table lost its proofs?", len(named))
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("docs/security.md names %s, which no _test.go defines", m[1])
		}
	}
}

// TestDocsLinksResolve keeps the README and docs/ whole in a clone: every
// relative link and image they carry names a file of the repository (the
// support guide's screenshots among them).
func TestDocsLinksResolve(t *testing.T) {
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	images := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if strings.HasSuffix(target, ".png") {
				images++
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", filepath.Base(page), m[1])
			}
		}
	}
	if images < 8 {
		t.Errorf("the docs show %d screenshots; the support guide lost its pictures?", images)
	}
}
