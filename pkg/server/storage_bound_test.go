package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions"
)

// putRecorder is a sessions store that remembers the largest entry (key
// and value) put since the last reset.
type putRecorder struct {
	sessions.Store
	mu      sync.Mutex
	largest int
	key     string
	puts    int
}

func (r *putRecorder) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	r.mu.Lock()
	r.puts++
	if n := len(key) + len(value); n > r.largest {
		r.largest, r.key = n, key
	}
	r.mu.Unlock()
	return r.Store.Put(ctx, key, value, ttl)
}

func (r *putRecorder) reset() {
	r.mu.Lock()
	r.largest, r.key, r.puts = 0, "", 0
	r.mu.Unlock()
}

func (r *putRecorder) stored() (largest, puts int, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.largest, r.puts, r.key
}

// recordingBroker starts a broker on each backend whose sessions store is
// a putRecorder.
func recordingBroker(t *testing.T, fn func(t *testing.T, b *broker, rec *putRecorder)) {
	var rec *putRecorder
	opts := server.BuildOptions{WrapSessions: func(s sessions.Store) sessions.Store {
		rec = &putRecorder{Store: s}
		return rec
	}}
	eachBackend(t, opts, func(t *testing.T, b *broker) { fn(t, b, rec) })
}

// maxUnauthenticated is what one request of someone who has not logged in
// may leave in the sessions store, key and value together.
const maxUnauthenticated = 4 << 10

// huge is larger than anything the broker keeps, and still fits in the
// request line Go's server accepts (1 MiB of headers).
var huge = strings.Repeat("x", 900<<10)

// TestUnauthenticatedRequestsStoreLittle drives every route a stranger can
// reach with hostile requests and checks that none stores more than
// maxUnauthenticated in the sessions store (Redis in production): no
// request may store what it carries.
func TestUnauthenticatedRequestsStoreLittle(t *testing.T) {
	recordingBroker(t, func(t *testing.T, b *broker, rec *putRecorder) {
		d := newDiary(b)
		// A login begun in another browser: its callback URL is known.
		_, callback := beginLogin(t, b, d, oidTeacher)
		// A browser holding a CSRF token, to get past the forms' check.
		forms := newBrowser(t)
		forms.get(b.URL + "/parent?tenant=nonexistent")
		var csrf string
		u, _ := url.Parse(b.URL + "/")
		for _, c := range forms.client.Jar.Cookies(u) {
			if c.Name == "broker_csrf" {
				csrf = c.Value
			}
		}
		if csrf == "" {
			t.Fatal("no CSRF cookie")
		}
		worst := func(c string, n int) string { return strings.Repeat(c, n) }
		post := func(path string, form url.Values) func(t *testing.T) {
			return func(t *testing.T) {
				form.Set("csrf", csrf)
				resp, err := forms.client.PostForm(b.URL+path, form)
				if err != nil {
					t.Fatal(err)
				}
				forms.outcome(resp)
			}
		}
		get := func(u string) func(t *testing.T) {
			return func(t *testing.T) { newBrowser(t).get(u) }
		}
		cases := []struct {
			name string
			do   func(t *testing.T)
		}{
			{"authorize with 900 KiB of an unknown parameter", get(d.authURL(oauth2.SetAuthURLParam("junk", huge)))},
			{"authorize with 900 KiB of sim_person", get(d.authURL(oauth2.SetAuthURLParam("sim_person", huge)))},
			{"authorize with 900 KiB of state", get(d.authURL(oauth2.SetAuthURLParam("state", huge)))},
			{"authorize with 900 KiB of link_person_id", get(d.authURL(oauth2.SetAuthURLParam("link_person_id", huge)))},
			{"authorize with every kept parameter at its limit in quotes", get(d.authURL(
				oauth2.SetAuthURLParam("state", worst(`"`, 1024)), oauth2.SetAuthURLParam("nonce", worst(`"`, 256)),
				oauth2.SetAuthURLParam("link_person_id", worst(`"`, 128)), oauth2.SetAuthURLParam("role", "parent"),
				oauth2.SetAuthURLParam("acr_values", worst(`\`, 256)), oauth2.SetAuthURLParam("login_hint", worst(`"`, 256)),
				oauth2.SetAuthURLParam("max_age", "9999999999"), oauth2.SetAuthURLParam("prompt", "login")))},
			{"authorize with every kept parameter at its limit in <>&", get(d.authURL(
				oauth2.SetAuthURLParam("state", worst("<", 1024)), oauth2.SetAuthURLParam("nonce", worst("<", 256)),
				oauth2.SetAuthURLParam("link_person_id", worst(">", 128)), oauth2.SetAuthURLParam("acr_values", worst("&", 256))))},
			{"logout with 900 KiB of state", get(b.URL + "/oauth2/logout?state=" + huge)},
			{"logout with a forged hint and a registered URI", get(b.URL + "/oauth2/logout?" + url.Values{
				"id_token_hint": {"eyJhbGciOiJub25lIn0.e30."}, "post_logout_redirect_uri": {b.URL + "/demo"}, "state": {huge}}.Encode())},
			{"back from ESIA's logout with 900 KiB", get(b.URL + "/esia/logout?l=" + huge)},
			{"callback with 900 KiB of state", get(b.URL + "/esia/callback?code=c&state=" + huge)},
			{"callback of another browser's login", get(callback + "&junk=" + huge)},
			{"parent page with 900 KiB of tenant", get(b.URL + "/parent?tenant=" + huge)},
			{"parent page with 900 KiB of sim_person", get(b.URL + "/parent?tenant=" + server.DevTenant + "&sim_person=" + huge)},
			{"consent answer", post("/consent", url.Values{"login": {huge}, "decision": {"accept"}})},
			{"role answer", post("/login/role", url.Values{"login": {huge}, "role": {huge}})},
			{"continue", post("/login/continue", url.Values{"login": {huge}})},
			{"parent decision", post("/parent/consent", url.Values{"tenant": {server.DevTenant}, "child": {huge}, "decision": {"accept"}})},
			{"parent logout", post("/parent/logout", url.Values{"junk": {huge}})},
			{"demo diary login", get(b.URL + "/demo/login?person=" + huge)},
			{"result page with 900 KiB of id", get(b.URL + "/login/result/" + huge)},
			{"parent page's QR code with 900 KiB of tenant", get(b.URL + "/parent/qr.png?tenant=" + huge)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec.reset()
				tc.do(t)
				largest, puts, key := rec.stored()
				t.Logf("%d puts, largest %d bytes (%.20s…)", puts, largest, key)
				if largest > maxUnauthenticated {
					t.Fatalf("stored %d bytes under %.40q…, more than %d", largest, key, maxUnauthenticated)
				}
				if strings.Contains(tc.name, "at its limit") && puts == 0 {
					t.Fatal("the request at the limits was not taken")
				}
			})
		}
	})
}

// TestLogoutStoresNothingWithoutAHint: a logout is kept while the person
// is at ESIA only when it goes back to a diary, which takes a valid
// id_token_hint; with one, an oversized state is not kept either.
func TestLogoutStoresNothingWithoutAHint(t *testing.T) {
	recordingBroker(t, func(t *testing.T, b *broker, rec *putRecorder) {
		d := newDiary(b)
		tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
		hint := tok.Extra("id_token").(string)
		cases := []struct {
			name      string
			q         url.Values
			kept      bool
			backState string
		}{
			{"no hint", url.Values{"state": {"logout-state-1"}, "post_logout_redirect_uri": {b.URL + "/demo"}}, false, ""},
			{"no hint, 900 KiB of state", url.Values{"state": {huge}}, false, ""},
			{"valid hint, 900 KiB of state", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {b.URL + "/demo"}, "state": {huge}}, false, ""},
			{"valid hint, a control character in state", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {b.URL + "/demo"}, "state": {"a\x00b-state"}}, false, ""},
			{"valid hint, state at its limit", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {b.URL + "/demo"}, "state": {strings.Repeat("s", 1024)}}, true, strings.Repeat("s", 1024)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec.reset()
				br := newBrowser(t)
				br.stopAt = b.URL + "/demo"
				o := br.get(b.URL + "/oauth2/logout?" + tc.q.Encode())
				largest, puts, _ := rec.stored()
				if tc.kept != (puts > 0) || largest > maxUnauthenticated {
					t.Fatalf("%d puts, largest %d", puts, largest)
				}
				if tc.kept {
					if o.Redirect == nil || o.Redirect.Query().Get("state") != tc.backState {
						t.Fatalf("not back at the diary with its state: %d %v", o.Status, o.Redirect)
					}
					return
				}
				if o.Redirect != nil || o.Status != http.StatusOK || !strings.Contains(o.Body, "Вы вышли") {
					t.Fatalf("logout without a way back: %d %v %.200s", o.Status, o.Redirect, o.Body)
				}
			})
		}
	})
}
