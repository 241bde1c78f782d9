package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// TestReadinessNamesTheServiceThatIsDown: /readyz answers 503 and names the
// service whose check failed, without the error's text (it may hold a
// connection string); /healthz stays 200, as the process itself is fine.
func TestReadinessNamesTheServiceThatIsDown(t *testing.T) {
	b := startBroker(t, true, nil)
	b.comp.Ready["postgres"] = func(context.Context) error { return nil }
	b.comp.Ready["redis"] = func(context.Context) error {
		return errors.New("dial tcp redis://:hunter2@cache:6379: connection refused")
	}
	br := newBrowser(t)
	r := br.get(b.URL + "/readyz")
	var body struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("readyz body %q: %v", r.Body, err)
	}
	if r.Status != http.StatusServiceUnavailable || body.Checks["redis"] != "unavailable" || body.Checks["postgres"] != "ok" || body.Status == "ok" {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "hunter2") || strings.Contains(r.Body, "refused") {
		t.Fatalf("readyz shows the error: %s", r.Body)
	}
	if h := br.get(b.URL + "/healthz"); h.Status != http.StatusOK {
		t.Fatalf("healthz %d while redis is down", h.Status)
	}
	if !strings.Contains(b.logs.String(), `"service":"redis"`) {
		t.Fatal("the failed readiness check was not logged")
	}
}

// TestEveryRequestIsLoggedWithItsID: the X-Request-Id a response carries is
// the request_id of its JSON log line, so support can find the line from a
// person's screenshot of the headers or from a diary's report.
func TestEveryRequestIsLoggedWithItsID(t *testing.T) {
	b := startBroker(t, true, nil)
	resp, err := http.Get(b.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	if len(id) < 16 {
		t.Fatalf("X-Request-Id = %q", id)
	}
	found := false
	sc := bufio.NewScanner(strings.NewReader(b.logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		if line["request_id"] == id {
			found = true
			if line["route"] != "/.well-known/openid-configuration" || line["status"] == nil {
				t.Fatalf("request log line: %v", line)
			}
		}
	}
	if !found {
		t.Fatalf("no log line with request_id %s", id)
	}
	// A request id sent by a proxy in front of the broker is kept.
	req, _ := http.NewRequest(http.MethodGet, b.URL+"/healthz", nil)
	req.Header.Set("X-Request-Id", "lb-7f3a9c2e5d1b4a60")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "lb-7f3a9c2e5d1b4a60" {
		t.Fatalf("the proxy's request id was replaced by %q", got)
	}
}

// TestRetiredSigningKeyIsDroppedAfterItsWindow: after a rotation the old
// public key stays in the JWKS until its publication period ends, and the
// background sweep removes it then (the clock is injected).
func TestRetiredSigningKeyIsDroppedAfterItsWindow(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	jwks := func() []string {
		t.Helper()
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal([]byte(newBrowser(t).get(b.URL+"/.well-known/jwks.json").Body), &set); err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		return kids
	}
	old := jwks()
	if len(old) != 2 {
		t.Fatalf("jwks before rotation: %v (want an ES256 and an RS256 key)", old)
	}
	newIDs, err := b.comp.Signing.Rotate(ctx, b.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if kids := jwks(); len(kids) != 4 {
		t.Fatalf("jwks after rotation: %v", kids)
	}
	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	b.clock.Advance(59 * time.Minute)
	b.comp.Sweep(ctx)
	if kids := jwks(); len(kids) != 4 {
		t.Fatalf("the retired keys went before their window ended: %v", kids)
	}
	b.clock.Advance(2 * time.Minute)
	b.comp.Sweep(ctx)
	if kids := jwks(); !sameSet(kids, newIDs) {
		t.Fatalf("jwks after the window: %v, want only %v", kids, newIDs)
	}
	// A token signed after the rotation still verifies against the pruned set.
	keys := oidc.NewRemoteKeySet(ctx, b.URL+"/.well-known/jwks.json")
	if _, err := keys.VerifySignature(ctx, tok.Extra("id_token").(string)); err != nil {
		t.Fatalf("an ID token of the new key: %v", err)
	}
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}
