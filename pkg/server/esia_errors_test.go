package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/server"
)

// oidUnconfirmedAdult is the simulator's fixture whose every login ends in
// ESIA-007055 (an unconfirmed account refused by ESIA).
const oidUnconfirmedAdult = "1000100034"

// TestESIAErrorsEndToEnd: each kind of ESIA error — on the callback, at the
// token endpoint, in the tokens — ends on its own Russian page, goes back to
// the diary with its own reason, and is stored under that reason with ESIA's
// code for support.
func TestESIAErrorsEndToEnd(t *testing.T) {
	b := startBroker(t, true, nil)
	tests := []struct {
		name   string
		oid    string
		param  string // sim_error or sim_token_error
		code   string
		setup  func(t *testing.T)
		title  string
		reason string
	}{
		{"refused on the callback", "", "sim_error", "ESIA-007004", nil, "Вход отменён", "user_refused"},
		{"unconfirmed account on the callback", "", "sim_error", "ESIA-007055", nil, "Нужна подтверждённая учётная запись", "account_not_confirmed"},
		{"unconfirmed account fixture", oidUnconfirmedAdult, "", "ESIA-007055", nil, "Нужна подтверждённая учётная запись", "account_not_confirmed"},
		{"certificate not of this system", "", "sim_error", "ESIA-007002", nil, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
		{"redirect_uri not registered", "", "sim_error", "ESIA-007023", nil, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
		{"client_secret wrong on the callback", "", "sim_error", "ESIA-007053", nil, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
		{"client_secret wrong at the token endpoint", oidTeacher, "sim_token_error", "ESIA-007053", nil, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
		{"client authentication failed at the token endpoint", oidTeacher, "sim_token_error", "ESIA-008010", nil, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
		{"skewed clock", oidTeacher, "sim_token_error", "ESIA-007015", nil, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
		{"ESIA under maintenance", "", "sim_error", "ESIA-007008", nil, "Госуслуги недоступны", "esia_unavailable"},
		{"code expired", oidTeacher, "sim_token_error", "ESIA-007011", nil, "Не удалось войти через Госуслуги", "esia_unavailable"},
		{"Digital Profile consent", "", "sim_error", "ESIA-036701", nil, "Не удалось войти через Госуслуги", "esia_unavailable"},
		{"token signed by an untrusted key", oidTeacher, "", "", func(t *testing.T) {
			_, other, err := esiasim.SelfSignedRSA("not ESIA", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			fake, err := esia.ParseKeySet(pemCert(other))
			if err != nil {
				t.Fatal(err)
			}
			keys := b.comp.ESIA.Keys
			b.comp.ESIA.Keys = fake
			t.Cleanup(func() { b.comp.ESIA.Keys = keys })
		}, "Ответ Госуслуг не прошёл проверку", "esia_token_invalid"},
		// Three minutes: beyond the 60 s leeway of the time claims, within
		// the 5 min ESIA allows the timestamp (a bigger skew is ESIA-007015).
		{"token not yet valid (broker clock three minutes behind)", oidTeacher, "", "", func(t *testing.T) {
			now := b.comp.ESIA.Now
			b.comp.ESIA.Now = func() time.Time { return time.Now().Add(-3 * time.Minute) }
			t.Cleanup(func() { b.comp.ESIA.Now = now })
		}, "Ответ Госуслуг не прошёл проверку", "esia_token_invalid"},
		{"token of another issuer", oidTeacher, "", "", func(t *testing.T) {
			iss := b.comp.ESIA.Issuer
			b.comp.ESIA.Issuer = "http://esia.example/"
			t.Cleanup(func() { b.comp.ESIA.Issuer = iss })
		}, "Ответ Госуслуг не прошёл проверку", "esia_token_invalid"},
		{"broker clock two hours ahead", oidTeacher, "", "ESIA-007015", func(t *testing.T) {
			now := b.comp.ESIA.Now
			b.comp.ESIA.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
			t.Cleanup(func() { b.comp.ESIA.Now = now })
		}, "Вход через Госуслуги настроен с ошибкой", "esia_misconfigured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			var extra []oauth2.AuthCodeOption
			if tc.param != "" {
				extra = append(extra, oauth2.SetAuthURLParam(tc.param, tc.code))
			}
			d := newDiary(b)
			o := loginAs(t, b, d, tc.oid, extra...)
			if !strings.Contains(o.Body, "<h1>"+tc.title+"</h1>") {
				t.Fatalf("page is not %q: %.600s", tc.title, o.Body)
			}
			ref := errorRedirect(t, o, d, tc.reason)
			a, err := b.comp.Store.GetAttempt(context.Background(), ref)
			if err != nil {
				t.Fatalf("attempt %s not stored: %v", ref, err)
			}
			if a.Outcome != tc.reason || a.Reason != tc.reason {
				t.Fatalf("attempt outcome %q reason %q, want %q", a.Outcome, a.Reason, tc.reason)
			}
			if tc.code != "" && !attemptHasCode(t, a.Events[len(a.Events)-1].Detail, tc.code) {
				t.Fatalf("last event %s lacks %s", a.Events[len(a.Events)-1].Detail, tc.code)
			}
		})
	}
}

// attemptHasCode reports whether an attempt event keeps ESIA's code.
func attemptHasCode(t *testing.T, detail []byte, code string) bool {
	t.Helper()
	var d struct {
		Code string `json:"esia_code"`
	}
	if err := json.Unmarshal(detail, &d); err != nil {
		t.Fatal(err)
	}
	return d.Code == code
}

// TestCallbackErrorsCounted: ESIA's errors on the callback are counted in
// broker_esia_calls_total as the endpoint "ac", one series per code, beside
// the back-channel calls.
func TestCallbackErrorsCounted(t *testing.T) {
	b := startBroker(t, true, nil)
	for _, login := range []struct{ oid, simError string }{
		{"", "ESIA-007004"}, {"", "ESIA-007004"}, {"", "ESIA-007053"}, {"", "ESIA-007023"},
		{"", "ESIA-036701"}, {oidUnconfirmedAdult, ""},
		// Codes ESIA.md does not list (the callback comes through the
		// browser: anyone can send any) share one series.
		{"", "ESIA-123456"}, {"", "ESIA-654321"},
	} {
		var extra []oauth2.AuthCodeOption
		if login.simError != "" {
			extra = append(extra, oauth2.SetAuthURLParam("sim_error", login.simError))
		}
		d := newDiary(b)
		loginAs(t, b, d, login.oid, extra...)
	}
	m := newBrowser(t).get(b.URL + "/metrics").Body
	for _, want := range []string{
		`broker_esia_calls_total{code="ESIA-007004",endpoint="ac"} 2`,
		`broker_esia_calls_total{code="ESIA-007053",endpoint="ac"} 1`,
		`broker_esia_calls_total{code="ESIA-007023",endpoint="ac"} 1`,
		`broker_esia_calls_total{code="ESIA-007055",endpoint="ac"} 1`,
		`broker_esia_calls_total{code="ESIA-0367xx",endpoint="ac"} 1`,
		`broker_esia_calls_total{code="ESIA-other",endpoint="ac"} 2`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, "ESIA-123456") {
		t.Error("an unlisted code became a label of its own")
	}
	if strings.Contains(m, `broker_esia_call_duration_seconds_count{endpoint="ac"}`) {
		t.Error("callback errors, which take no call, are in the duration histogram")
	}
}

// TestBeginWhileESIAIsDown: once ESIA's circuit breaker has opened (five
// logins in a row found its token endpoint down) the next person is not sent
// to ESIA's login page: the «Госуслуги недоступны» page comes at once, with
// the reference code and the way back to the diary.
func TestBeginWhileESIAIsDown(t *testing.T) {
	b := startBroker(t, true, nil)
	c := b.comp
	c.Simulator.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503, Times: esia.DefaultBreakerFailures})
	for range esia.DefaultBreakerFailures {
		d := newDiary(b)
		errorRedirect(t, loginAs(t, b, d, oidTeacher), d, "esia_unavailable")
	}
	if err := c.ESIA.Available(); !errors.Is(err, esia.ErrCircuitOpen) {
		t.Fatalf("the breaker did not open: %v", err)
	}
	d := newDiary(b)
	o := newBrowser(t).get(d.authURL())
	if o.Status != http.StatusServiceUnavailable || !strings.Contains(o.Body, "<h1>Госуслуги недоступны</h1>") {
		t.Fatalf("page: %d %.600s", o.Status, o.Body)
	}
	ref := errorRedirect(t, o, d, "esia_unavailable")
	a, err := c.Store.GetAttempt(context.Background(), ref)
	if err != nil || a.Reason != "esia_unavailable" || a.Outcome != "esia_unavailable" || len(a.Events) != 1 || a.Events[0].Step != "authorize" {
		t.Fatalf("attempt %+v, %v", a, err)
	}
	if m := newBrowser(t).get(b.URL + "/metrics").Body; !strings.Contains(m, fmt.Sprintf(`broker_logins_total{outcome="esia_unavailable"} %d`, esia.DefaultBreakerFailures+1)) {
		t.Error("the refused login is not counted")
	}
}

// TestESIADownPageStatus: «Госуслуги недоступны» is a 503 wherever it is
// shown — on the callback when ESIA's token endpoint fails or does not
// answer (a diary's login and the parent's page), and on /oauth2/auth while
// the circuit breaker is open — so that monitoring of 5xx sees an outage;
// the other failures stay 403. The breaker writes one WARN line when it
// opens, and the refused logins write no ERROR line each.
func TestESIADownPageStatus(t *testing.T) {
	b := startBroker(t, true, func(s *server.Settings) { s.ESIA.Timeout = 300 * time.Millisecond })
	sim := b.comp.Simulator
	parentLogin := func(t *testing.T) outcome {
		return newBrowser(t).get(b.URL + "/parent?tenant=" + server.DevTenant + "&sim_person=" + oidParent)
	}
	diaryLogin := func(oid string) func(t *testing.T) outcome {
		return func(t *testing.T) outcome { return loginAs(t, b, newDiary(b), oid) }
	}
	tests := []struct {
		name   string
		fault  *esiasim.Fault
		login  func(t *testing.T) outcome
		status int
		title  string
	}{
		{"token endpoint 5xx", &esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503, Times: 1}, diaryLogin(oidTeacher), 503, "Госуслуги недоступны"},
		{"token endpoint time-out", &esiasim.Fault{Endpoint: esiasim.EndpointToken, Hang: true, Times: 1}, diaryLogin(oidTeacher), 503, "Госуслуги недоступны"},
		{"token endpoint ESIA-007008", &esiasim.Fault{Endpoint: esiasim.EndpointToken, Code: "ESIA-007008", Times: 1}, diaryLogin(oidTeacher), 503, "Госуслуги недоступны"},
		{"parent's page, token endpoint 5xx", &esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503, Times: 1}, parentLogin, 503, "Госуслуги недоступны"},
		{"no diary record", nil, diaryLogin(oidNotInRoster), 403, "Ваш дневник не найден"},
		{"user refused at ESIA", nil, diaryLogin(oidRefuses), 403, "Вход отменён"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				sim.InjectFault(*tc.fault)
				t.Cleanup(sim.ClearFaults)
			}
			o := tc.login(t)
			if o.Redirect != nil || o.Status != tc.status || !strings.Contains(o.Body, "<h1>"+tc.title+"</h1>") {
				t.Fatalf("page: %d %v %.600s", o.Status, o.Redirect, o.Body)
			}
		})
	}

	t.Run("breaker open", func(t *testing.T) {
		sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503})
		t.Cleanup(sim.ClearFaults)
		for i := 0; b.comp.ESIA.Available() == nil; i++ {
			if i > esia.DefaultBreakerFailures {
				t.Fatal("the breaker did not open")
			}
			if o := loginAs(t, b, newDiary(b), oidTeacher); o.Status != 503 {
				t.Fatalf("login %d: %d", i+1, o.Status)
			}
		}
		for range 5 {
			if o := newBrowser(t).get(newDiary(b).authURL()); o.Status != 503 || !strings.Contains(o.Body, "<h1>Госуслуги недоступны</h1>") {
				t.Fatalf("/oauth2/auth while the breaker is open: %d %.600s", o.Status, o.Body)
			}
		}
		var opened, errorLines int
		for _, line := range strings.Split(strings.TrimSpace(b.logs.String()), "\n") {
			var l struct{ Level, Msg, Endpoint, Cause string }
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			switch {
			case strings.HasPrefix(l.Msg, "esia circuit breaker open"):
				opened++
				if l.Level != "WARN" || l.Endpoint != "token" || !strings.Contains(l.Cause, "503") {
					t.Errorf("breaker line: %s", line)
				}
			case l.Level == "ERROR":
				errorLines++
			}
		}
		if opened != 1 || errorLines != 0 {
			t.Errorf("%d lines of the breaker opening (want 1) and %d ERROR lines (want 0):\n%s", opened, errorLines, b.logs.String())
		}
	})
}
