package server_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/diarybroker/broker/pkg/server"
)

// TestOpenAPIDescribesEveryRoute keeps api/openapi.yaml true: every
// /api/v1 route the server answers is documented with its method.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	raw, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	b := startBroker(t, true, nil)
	srv, err := server.New(b.comp)
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:(\w+)`)
	n := 0
	for _, r := range srv.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1") || server.APIDocsPaths[r.Path] {
			continue // the spec and its page describe the API, they are not of it
		}
		n++
		path := param.ReplaceAllString(r.Path, "{$1}")
		if _, ok := doc.Paths[path][strings.ToLower(r.Method)]; !ok {
			t.Errorf("api/openapi.yaml lacks %s %s", r.Method, path)
		}
	}
	if n == 0 {
		t.Fatal("no /api/v1 routes found")
	}
}
