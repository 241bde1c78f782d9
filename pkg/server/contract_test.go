package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/diarybroker/broker/api"
)

// The contract check: every server these tests build (server.New, so
// every harness and every httptest server) answers through checkContract,
// which validates each answer under /api/v1 — status, headers, content type
// and body — against api/openapi.yaml with kin-openapi's openapi3filter.
// An answer the spec does not describe, or a call to an /api/v1 route the
// spec lacks, is a failure: reported by the harness's clean-up
// (ContractFailures) to the test that made it, and by TestMain in any case,
// so that no API test can pass without its answers being validated.

// contract is the loaded spec and what the run has validated.
type contract struct {
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	failures map[*contractHandler][]string // not yet reported
	covered  map[string]bool               // "GET /api/v1/…" operations validated
}

var theContract = loadContract()

func loadContract() *contract {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	if err := doc.Validate(loader.Context); err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	closeSchemas(doc)
	// Any host: the servers' URL is the production one.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: router: %v", err))
	}
	return &contract{doc: doc, router: router, failures: map[*contractHandler][]string{}, covered: map[string]bool{}}
}

// closeSchemas makes every object schema of doc that names its properties
// and says nothing about others refuse others (additionalProperties:
// false), for these tests only: a member the server sends that the spec
// does not document is drift too. Schemas inside allOf are left open (a
// branch cannot know the others' members).
func closeSchemas(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.SchemaRef, inAllOf bool)
	walk = func(ref *openapi3.SchemaRef, inAllOf bool) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && !inAllOf && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p, false)
		}
		walk(s.Items, false)
		for _, a := range s.AllOf {
			walk(a, true)
		}
		for _, a := range s.OneOf {
			walk(a, false)
		}
		for _, a := range s.AnyOf {
			walk(a, false)
		}
	}
	for _, item := range doc.Webhooks {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema, false)
				}
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				for _, mt := range r.Value.Content {
					walk(mt.Schema, false)
				}
			}
		}
	}
}

// contractHandler checks the answers of one server.
type contractHandler struct{ next http.Handler }

func init() {
	wrapHandler = func(h http.Handler) http.Handler { return &contractHandler{next: h} }
}

func (h *contractHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (!strings.HasPrefix(r.URL.Path, "/api/v1/") && r.URL.Path != "/api/v1") || APIDocsPaths[r.URL.Path] {
		h.next.ServeHTTP(w, r)
		return
	}
	rec := &teeWriter{ResponseWriter: w}
	h.next.ServeHTTP(rec, r)
	if err := theContract.check(r, rec); err != nil {
		theContract.fail(h, fmt.Sprintf("%s %s answered %d: %v", r.Method, r.URL.Path, rec.status(), err))
	}
}

func (c *contract) check(r *http.Request, rec *teeWriter) error {
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		if rec.status() == http.StatusNotFound || rec.status() == http.StatusMethodNotAllowed {
			return nil // the router's own answer to a route that is not there
		}
		return fmt.Errorf("no operation in api/openapi.yaml: %w", err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 rec.status(),
		Header:                 rec.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	c.mu.Lock()
	c.covered[route.Method+" "+route.Path] = true
	c.mu.Unlock()
	return nil
}

func (c *contract) fail(h *contractHandler, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures[h] = append(c.failures[h], msg)
}

// ContractFailures returns, and forgets, the answers of s that
// api/openapi.yaml does not describe.
func ContractFailures(s *Server) []string {
	h, ok := s.handler.(*contractHandler)
	if !ok {
		return []string{"the server answers without the contract check"}
	}
	theContract.mu.Lock()
	defer theContract.mu.Unlock()
	out := theContract.failures[h]
	delete(theContract.failures, h)
	return out
}

// teeWriter passes an answer through and keeps a copy of it.
type teeWriter struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *teeWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// TestMain fails the run on an answer of /api/v1 that no test reported
// (a server built outside the harness), and — when the whole package runs
// — on an operation of the spec that no test called successfully enough
// to be validated.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	theContract.mu.Lock()
	var left []string
	for _, fs := range theContract.failures {
		left = append(left, fs...)
	}
	theContract.mu.Unlock()
	if len(left) > 0 {
		sort.Strings(left)
		fmt.Fprintf(os.Stderr, "FAIL: answers of /api/v1 that api/openapi.yaml does not describe:\n  %s\n", strings.Join(left, "\n  "))
		code = 1
	}
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		var missing []string
		for path, item := range theContract.doc.Paths.Map() {
			for method := range item.Operations() {
				if !theContract.covered[method+" "+path] {
					missing = append(missing, method+" "+path)
				}
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: operations of api/openapi.yaml that no test called (so none was validated):\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// ValidateWebhook checks a webhook body against the webhooks section of
// api/openapi.yaml: the operation whose type enum names the body's type.
func ValidateWebhook(body []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	for name, item := range theContract.doc.Webhooks {
		if item.Post == nil || item.Post.RequestBody == nil {
			continue
		}
		schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
		for _, branch := range schema.AllOf {
			tp := branch.Value.Properties["type"]
			if tp == nil || !slices.Contains(tp.Value.Enum, any(head.Type)) {
				continue
			}
			if err := schema.VisitJSON(v, openapi3.MultiErrors()); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
	}
	return fmt.Errorf("no webhook of api/openapi.yaml has type %q", head.Type)
}

// TestValidateWebhook: the webhook check accepts a documented body and
// refuses an undocumented member, a wrong type and an unknown event.
func TestValidateWebhook(t *testing.T) {
	ok := `{"id":"e1","type":"link.created","tenant":"t","created_at":"2026-12-07T10:00:00Z","data":{"person_id":"s-1","role":"student","rung":"snils","status":"active","sub":"x"}}`
	if err := ValidateWebhook([]byte(ok)); err != nil {
		t.Fatalf("documented body refused: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(ok, `"sub":"x"`, `"sub":"x","snils":"123"`, 1),
		strings.Replace(ok, `"rung":"snils"`, `"rung":7`, 1),
		strings.Replace(ok, `link.created`, `link.exploded`, 1),
	} {
		if ValidateWebhook([]byte(bad)) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
