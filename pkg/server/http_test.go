package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

func TestHealthReadinessMetrics(t *testing.T) {
	b := startBroker(t, true, nil)
	br := newBrowser(t)
	if o := br.get(b.URL + "/healthz"); o.Status != 200 {
		t.Fatalf("healthz %d", o.Status)
	}
	if o := br.get(b.URL + "/readyz"); o.Status != 200 || !strings.Contains(o.Body, `"status":"ok"`) {
		t.Fatalf("readyz %d %s", o.Status, o.Body)
	}
	d := newDiary(b)
	tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	m := br.get(b.URL + "/metrics")
	for _, want := range []string{`broker_logins_total{outcome="linked"} 1`, `broker_esia_calls_total{code="2xx",endpoint="token"}`,
		`broker_http_requests_total{code="302",method="GET",route="/oauth2/auth"}`} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestSecurityHeadersAndPages(t *testing.T) {
	b := startBroker(t, true, nil)
	resp, err := http.Get(b.URL + "/esia/callback?state=x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8",
	} {
		if h.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, h.Get(k), want)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Request-Id") == "" {
		t.Errorf("csp %q request id %q", h.Get("Content-Security-Policy"), h.Get("X-Request-Id"))
	}
	o := newBrowser(t).get(b.URL + "/no-such-page")
	if o.Status != 404 || !strings.Contains(o.Body, `lang="ru"`) || !strings.Contains(o.Body, "Страница не найдена") {
		t.Fatalf("404 page: %d %.200s", o.Status, o.Body)
	}
	// RFC 6750 §3.1: no credentials, a bare challenge (no error code, no page).
	resp, err = http.Get(b.URL + "/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "Bearer" || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("userinfo without a token: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestRateLimitOnLogin(t *testing.T) {
	b := startBroker(t, true, func(s *server.Settings) { s.RateLimit = 3 })
	d := newDiary(b)
	br := newBrowser(t)
	var last outcome
	for i := 0; i < 4; i++ {
		br.stopAt = b.URL + "/esia-sim/"
		last = br.get(d.authURL())
	}
	if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Body, "Слишком много попыток") {
		t.Fatalf("4th request: %d", last.Status)
	}
}

// TestNoPersonalDataInLogs runs logins of every kind and searches the logs
// for every fixture person's SNILS, names and birth date.
func TestNoPersonalDataInLogs(t *testing.T) {
	b := startBroker(t, true, nil)
	for _, oid := range []string{oidTeacher, oidParent, oidChild, oidSNILSTypo, oidNoSNILS, oidNotInRoster, oidRefuses} {
		d := newDiary(b)
		loginAs(t, b, d, oid)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, `"route":"/esia/callback"`) {
		t.Fatal("no request logs captured")
	}
	for _, p := range b.comp.Simulator.Persons() {
		for _, v := range []string{p.SNILS, strings.NewReplacer("-", "", " ", "").Replace(p.SNILS), p.LastName, p.BirthDate} {
			if v != "" && strings.Contains(logs, v) {
				t.Errorf("logs contain personal data of %s", p.OID)
			}
		}
	}
}

// TestRateLimitOnPublicDocuments: the documents discovery names — the
// policy pages, which read the store, and the served docs — are under the
// pages' rate limit like every other unauthenticated page.
func TestRateLimitOnPublicDocuments(t *testing.T) {
	for _, path := range []string{"/policy", "/policy/" + server.DevTenant, "/docs/oauth.md"} {
		t.Run(path, func(t *testing.T) {
			b := startBroker(t, true, func(s *server.Settings) { s.RateLimit = 3 })
			br := newBrowser(t)
			var statuses []int
			for i := 0; i < 4; i++ {
				statuses = append(statuses, br.get(b.URL+path).Status)
			}
			if statuses[0] != http.StatusOK || statuses[3] != http.StatusTooManyRequests {
				t.Fatalf("%s: statuses %v, want 200 first and 429 at the 4th", path, statuses)
			}
		})
	}
}
