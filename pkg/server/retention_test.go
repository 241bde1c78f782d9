package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// TestJanitorAbandonsAndDestroysAttempts: with the clock injected, a login
// left at ESIA's page stays in progress within the login time-out, becomes
// abandoned after it — support sees it so, with advice — and a year later
// its reference code, and that of a failed login support read, no longer
// resolve; the metrics count both, by kind.
func TestJanitorAbandonsAndDestroysAttempts(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	sup := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")

	// A person goes to ESIA's page and never comes back.
	d := newDiary(b)
	br := newBrowser(t)
	br.stopAt = b.comp.ESIA.BaseURL
	o := br.get(d.authURL())
	if o.Redirect == nil || o.Redirect.Query().Get("state") == "" {
		t.Fatalf("not sent to ESIA: %d %v", o.Status, o.Redirect)
	}
	raw, err := b.comp.Sessions.Get(ctx, "login:"+o.Redirect.Query().Get("state"))
	if err != nil {
		t.Fatal(err)
	}
	var pending login.Pending
	if err := json.Unmarshal(raw, &pending); err != nil || pending.Ref == "" {
		t.Fatalf("pending login %s: %v", raw, err)
	}
	left := pending.Ref
	// Another fails, and support reads it (an audit entry).
	d2 := newDiary(b)
	failed := errorRedirect(t, loginAs(t, b, d2, oidSNILSTypo), d2, "not_found")

	attempt := func(token, ref string) (int, string, []string) {
		t.Helper()
		r := call(t, "GET", b.URL+"/api/v1/support/attempts/"+ref, token, "", "")
		var a struct {
			Outcome string
			Advice  []string
		}
		if r.Status == 200 {
			r.json(t, &a)
		}
		return r.Status, a.Outcome, a.Advice
	}
	if code, outcome, _ := attempt(sup, failed); code != 200 || outcome != "not_found" {
		t.Fatalf("failed login: %d %q", code, outcome)
	}

	b.clock.Advance(14 * time.Minute) // within the login time-out (15 min)
	b.comp.RunRetention(ctx)
	if code, outcome, _ := attempt(sup, left); code != 200 || outcome != "in_progress" {
		t.Fatalf("within the time-out: %d %q", code, outcome)
	}
	b.clock.Advance(2 * time.Minute)
	b.comp.RunRetention(ctx)
	code, outcome, advice := attempt(sup, left)
	if code != 200 || outcome != "abandoned" || !strings.Contains(strings.Join(advice, " "), "не вернулся") {
		t.Fatalf("after the time-out: %d %q %v", code, outcome, advice)
	}
	metric(t, b, `broker_attempts_abandoned_total 1`)

	b.clock.Advance(364 * 24 * time.Hour) // not yet a year since the logins
	b.comp.RunRetention(ctx)
	sup = apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	if code, _, _ := attempt(sup, failed); code != 200 {
		t.Fatalf("within the retention: %d", code)
	}
	b.clock.Advance(2 * 24 * time.Hour)
	if n := b.comp.RunRetention(ctx); n != 6 {
		t.Fatalf("destroyed %d rows, want the two attempts and their four audit entries", n)
	}
	sup = apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	for _, ref := range []string{left, failed} {
		if code, _, _ := attempt(sup, ref); code != 404 {
			t.Fatalf("%s after the retention: %d, want 404", ref, code)
		}
	}
	metric(t, b, `broker_retention_destroyed_total{kind="attempt"} 2`)
	metric(t, b, `broker_retention_destroyed_total{kind="audit_entry"} 4`) // each read twice
	entries, err := b.comp.Store.ListAudit(ctx, server.DevTenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Target == left || e.Target == failed {
			t.Fatalf("audit entry of a destroyed attempt left: %+v", e)
		}
	}
}

// metric checks that /metrics has a line.
func metric(t *testing.T, b *broker, line string) {
	t.Helper()
	if m := newBrowser(t).get(b.URL + "/metrics").Body; !strings.Contains(m, line+"\n") {
		t.Fatalf("metrics lack %q", line)
	}
}

// TestRunBackgroundRunsTheJanitor: the servers' background loop runs the
// retention janitor on its own (a short period here; the login time-out
// passes on the injected clock).
func TestRunBackgroundRunsTheJanitor(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.comp.Store.RecordAttempt(ctx, store.Attempt{Ref: "LEFTATESIA", TenantID: server.DevTenant, Outcome: store.OutcomeInProgress},
		store.AttemptEvent{Step: "authorize", At: b.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(16 * time.Minute)
	go b.comp.RunBackground(ctx, 20*time.Millisecond, nil)
	for deadline := time.Now().Add(10 * time.Second); ; {
		a, err := b.comp.Store.GetAttempt(ctx, "LEFTATESIA")
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome == store.OutcomeAbandoned {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q after 10 s of background runs", a.Outcome)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
