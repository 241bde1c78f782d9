package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/webhook"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// TestDeliveryFailuresLogged: failed deliveries are logged — with the
// tenant, the endpoint's host and the HTTP status (or the kind of failure
// when there was no answer), never the URL's path or query nor the body —
// at most one line per endpoint per minute, the next line counting the
// failures left out. Two tenants, one whose endpoint answers 500 and one
// whose endpoint is gone, each with events failing again and again.
func TestDeliveryFailuresLogged(t *testing.T) {
	const secretPath = "/hooks/tok-3f9a?key=s3cr3t"
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error, see "+r.URL.String(), http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	goneAddr := gone.Addr().String()
	gone.Close() // nothing listens there: connection refused

	clk := &testClock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	st := memory.New(clk.Now)
	ctx := context.Background()
	tenants := []struct{ id, url, host string }{
		{"msk", failing.URL + secretPath, strings.TrimPrefix(failing.URL, "http://")},
		{"spb", "http://" + goneAddr + secretPath, goneAddr},
	}
	for _, tn := range tenants {
		if err := st.CreateTenant(ctx, store.Tenant{ID: tn.id, DisplayName: tn.id, WebhookURL: tn.url, WebhookSecret: "whsec-" + tn.id}); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if err := st.EnqueueEvent(ctx, store.OutboxEvent{ID: fmt.Sprintf("%s-%d", tn.id, i), TenantID: tn.id, Type: "consent.granted",
				Data: json.RawMessage(`{"record":"r-private-7"}`), NextAttemptAt: clk.Now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var logs bytes.Buffer
	d := &webhook.Deliverer{Outbox: st, Tenants: st, Now: clk.Now, Backoff: func(int) time.Duration { return 0 },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}

	type line struct {
		Msg, Tenant, Host, Error string
		Status                   int
		Suppressed               int
	}
	read := func() []line {
		var out []line
		for _, raw := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if raw == "" {
				continue
			}
			var l line
			if err := json.Unmarshal([]byte(raw), &l); err != nil {
				t.Fatalf("log line %q: %v", raw, err)
			}
			if l.Msg == "webhook delivery failed" {
				out = append(out, l)
			}
		}
		logs.Reset()
		return out
	}
	rounds := []struct {
		after time.Duration
		want  map[string]int // tenant → suppressed count of its line; absent: no line
	}{
		{0, map[string]int{"msk": 0, "spb": 0}},
		{30 * time.Second, map[string]int{}},                   // within the minute: nothing
		{30 * time.Second, map[string]int{"msk": 7, "spb": 7}}, // 3 + 4 left out
		{59 * time.Second, map[string]int{}},
	}
	for i, r := range rounds {
		clk.Advance(r.after)
		if _, failed, err := d.RunOnce(ctx); err != nil || failed != 8 {
			t.Fatalf("round %d: %d failed, %v", i+1, failed, err)
		}
		lines := read()
		if len(lines) != len(r.want) {
			t.Fatalf("round %d: %d lines, want %d: %+v", i+1, len(lines), len(r.want), lines)
		}
		for _, l := range lines {
			var tn struct{ id, url, host string }
			for _, x := range tenants {
				if x.id == l.Tenant {
					tn = x
				}
			}
			suppressed, ok := r.want[l.Tenant]
			if !ok || l.Suppressed != suppressed || l.Host != tn.host {
				t.Errorf("round %d: %+v, want host %s, %d suppressed", i+1, l, tn.host, suppressed)
			}
			switch l.Tenant {
			case "msk":
				if l.Status != 500 || l.Error != "HTTP 500" {
					t.Errorf("round %d: %+v, want status 500", i+1, l)
				}
			case "spb":
				if l.Status != 0 || !strings.Contains(l.Error, "connection refused") {
					t.Errorf("round %d: %+v, want a refused connection", i+1, l)
				}
			}
		}
	}
	// Nothing of the path, the query or a body anywhere — in the log or in
	// the events' last error.
	clk.Advance(time.Minute)
	_, _, _ = d.RunOnce(ctx)
	all := logs.String()
	if all == "" {
		t.Fatal("no line after the minute")
	}
	for _, secret := range []string{"/hooks", "tok-3f9a", "s3cr3t", "r-private-7", "internal error", "whsec"} {
		if strings.Contains(all, secret) {
			t.Errorf("the log holds %q:\n%s", secret, all)
		}
	}
	evs, err := st.ClaimEvents(ctx, clk.Now(), time.Minute, 100)
	if err != nil || len(evs) != 8 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for _, e := range evs {
		if strings.Contains(e.LastError, "tok-3f9a") || strings.Contains(e.LastError, "s3cr3t") {
			t.Errorf("event %s: last error %q holds the URL", e.ID, e.LastError)
		}
	}
}
