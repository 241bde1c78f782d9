package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

// TestTokenEndpoint: the exchange and refresh the timed runs send work
// against `broker dev` — a code's exchange, a rotation, a rotation of the
// new token — and what must not count as ok does not: a wrong client
// secret, an unknown refresh token, a second exchange of the code.
func TestTokenEndpoint(t *testing.T) {
	base := devBroker(t)
	c := config{target: base, clientID: server.DevClientID, secret: server.DevClientSecret,
		redirect: server.DevExternalRedirect, person: "1000100001", concurrency: 1}
	l := newLoader(c)
	te := newTokenEndpoint(l)
	var buf bytes.Buffer
	var out tokenAnswer
	code, verifier, err := l.code(c.person)
	if err != nil {
		t.Fatal(err)
	}
	if err := te.exchange(code, verifier, c.redirect, &buf, &out); err != nil || out.RefreshToken == "" {
		t.Fatalf("exchange: %v (%+v)", err, out)
	}
	first := out.RefreshToken
	if err := te.refresh(first, &buf, &out); err != nil || out.RefreshToken == first {
		t.Fatalf("refresh: %v (%+v)", err, out)
	}
	if err := te.refresh(out.RefreshToken, &buf, &out); err != nil {
		t.Fatalf("refresh of the new token: %v", err)
	}
	live := out.RefreshToken
	for _, tc := range []struct {
		name, secret, token string
	}{
		{"wrong client secret", "nope", live},
		{"unknown refresh token", server.DevClientSecret, "ory_rg_bm9uZQ.bm9uZQ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c
			c.secret = tc.secret
			if err := newTokenEndpoint(newLoader(c)).refresh(tc.token, &buf, &out); err == nil {
				t.Fatalf("counted as ok: %+v", out)
			}
		})
	}
	// Last: a code used again revokes its grant.
	if err := te.exchange(code, verifier, c.redirect, &buf, &out); err == nil {
		t.Fatal("a code exchanged twice counted as ok")
	}
}

// TestTokenEndpointChecksAnswers: an answer counts as ok only with 200,
// JSON and the tokens the grant gives.
func TestTokenEndpointChecksAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"tokens", 200, `{"access_token":"a","refresh_token":"r","id_token":"i","token_type":"bearer"}`, true},
		{"no refresh token", 200, `{"access_token":"a"}`, false},
		{"no access token", 200, `{"refresh_token":"r"}`, false},
		{"an error", 400, `{"error":"invalid_grant"}`, false},
		{"tokens with an error status", 500, `{"access_token":"a","refresh_token":"r"}`, false},
		{"not JSON", 200, `<html>`, false},
		{"cut JSON", 200, `{"access_token":"a","refresh_token":"r"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "rt+/=" {
					t.Errorf("form %v", r.Form)
				}
				if id, secret, _ := r.BasicAuth(); id != "a+b" || secret != "s%3A" {
					t.Errorf("basic auth %q %q (form-encoded id and secret expected)", id, secret)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			l := newLoader(config{target: srv.URL, clientID: "a b", secret: "s:", concurrency: 1})
			var buf bytes.Buffer
			var out tokenAnswer
			err := newTokenEndpoint(l).refresh("rt+/=", &buf, &out)
			if (err == nil) != tc.ok {
				t.Fatalf("refresh: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && strings.Contains(tc.body, "invalid_grant") && !strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("error %q does not name the answer's error", err)
			}
		})
	}
}
