package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// apiRoutes are the /api/v1 routes FuzzAPI drives; {id} is the fuzzed
// path parameter.
var apiRoutes = []struct{ method, path string }{
	{"PUT", "/api/v1/roster/persons/{id}"},
	{"DELETE", "/api/v1/roster/persons/{id}"},
	{"GET", "/api/v1/roster/persons/{id}/links"},
	{"DELETE", "/api/v1/roster/persons/{id}/links"},
	{"POST", "/api/v1/roster"},
	{"GET", "/api/v1/consents"},
	{"GET", "/api/v1/support/attempts/{id}"},
	{"GET", "/api/v1/support/persons"},
	{"POST", "/api/v1/support/persons/{id}/links/suspend"},
	{"POST", "/api/v1/support/persons/{id}/links/resume"},
	{"DELETE", "/api/v1/support/persons/{id}/links"},
	{"GET", "/api/v1/support/webhooks"},
	{"POST", "/api/v1/support/webhooks/{id}/retry"},
}

// fuzzAPI is a dev broker (memory store) answering through its echo
// router in process, with a token of every API scope.
type fuzzAPI struct {
	comp    *server.Components
	handler http.Handler
	token   string
	calls   int
}

func newFuzzAPI(tb testing.TB) *fuzzAPI {
	tb.Helper()
	s := server.DefaultSettings()
	s.Dev, s.Addr, s.Issuer, s.RateLimit = true, "127.0.0.1:1", "http://127.0.0.1:1", 0
	comp, err := server.Build(context.Background(), s, server.BuildOptions{Logger: discardLogger()})
	if err != nil {
		tb.Fatalf("build: %v", err)
	}
	srv, err := server.New(comp)
	if err != nil {
		tb.Fatal(err)
	}
	a := &fuzzAPI{comp: comp, handler: srv.Handler()}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"roster support consent:read"}}
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(server.DevAPIClientID, server.DevAPIClientSecret)
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		tb.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	a.token = tok.AccessToken
	return a
}

// FuzzAPI drives the /api/v1 handlers through the real echo router over
// the memory store — which refuses, through the same checks, what
// PostgreSQL cannot keep — with fuzzed path parameters (the bytes a
// percent-decoded path may carry: NUL, invalid UTF-8, 8,000 characters),
// query strings and JSON/NDJSON bodies. No answer may be a 500 (a panic
// is one: the recoverer answers it so), and every 4xx is problem+json.
// Seeds are in testdata/fuzz/FuzzAPI; run with
//
//	go test -run '^$' -fuzz '^FuzzAPI$' -fuzztime 1000000x ./pkg/server
func FuzzAPI(f *testing.F) {
	row := `{"role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14","school":"Школа № 1","class":"5А"}`
	f.Add(uint8(0), "s-1", "", []byte(row))
	f.Add(uint8(0), "s-1", "", []byte(strings.Replace(row, "5А", `5\u0000`, 1)))
	f.Add(uint8(0), "s-1\x00", "", []byte(row))
	f.Add(uint8(0), "s-\xff", "", []byte(row))
	f.Add(uint8(0), strings.Repeat("x", 8000), "", []byte(row))
	f.Add(uint8(1), "s-1", "", []byte(nil))
	f.Add(uint8(2), "s-1\x00", "", []byte(nil))
	f.Add(uint8(3), "s-1", "esia_oid=%00", []byte(nil))
	f.Add(uint8(4), "", "", []byte(`{"external_id":"s-2","role":"teacher","last_name":"Хан","first_name":"Я","birth_date":"1990-01-01","class":"5\u0000"}`+"\n"+`{"op":"delete","external_id":"s-1\u0000"}`))
	f.Add(uint8(5), "", "person_id=%FF", []byte(nil))
	f.Add(uint8(6), "7KQ2M-X4TZA", "", []byte(nil))
	f.Add(uint8(7), "", "last_name=%D0%98%00&first_name=a&birth_date=2012-05-14", []byte(nil))
	f.Add(uint8(7), "", "snils=112-233-445%2095", []byte(nil))
	f.Add(uint8(8), "s-1", "esia_oid=1000", []byte(nil))
	f.Add(uint8(11), "", "status=dead&limit=%FF", []byte(nil))
	f.Add(uint8(12), "\x00", "", []byte(nil))
	a := newFuzzAPI(f)
	f.Fuzz(func(t *testing.T, route uint8, id, query string, body []byte) {
		if a.calls++; a.calls%20000 == 0 {
			// A fresh broker now and then: what the fuzzer wrote stays
			// bounded.
			a.comp.Close()
			a = newFuzzAPI(t)
		}
		r := apiRoutes[int(route)%len(apiRoutes)]
		req := &http.Request{
			Method: r.method,
			URL:    &url.URL{Path: strings.Replace(r.path, "{id}", id, 1), RawQuery: query},
			Proto:  "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Authorization": {"Bearer " + a.token}},
			Host:          "127.0.0.1:1",
			RemoteAddr:    "127.0.0.1:40000",
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		req = req.WithContext(context.Background())
		switch r.path {
		case "/api/v1/roster":
			req.Header.Set("Content-Type", "application/x-ndjson")
		default:
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q ?%q: %d %s", r.method, req.URL.Path, query, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s %q: %d with %q", r.method, req.URL.Path, rec.Code, rec.Header().Get("Content-Type"))
		}
		// Keep the roster small: what a PUT or an import wrote goes again.
		if rec.Code == 200 && (r.method == "PUT" || r.method == "POST") {
			ids := []string{id}
			for _, line := range bytes.Split(body, []byte("\n")) {
				if row, err := linking.ParseRosterRow(bytes.TrimSpace(line)); err == nil && row.ExternalID != "" {
					ids = append(ids, row.ExternalID)
				}
			}
			_ = a.comp.Store.DeletePersons(context.Background(), server.DevTenant, store.ValidKeyList(ids))
		}
	})
}
