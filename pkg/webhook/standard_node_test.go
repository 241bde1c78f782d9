package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/testenv"
	"github.com/diarybroker/broker/pkg/webhook"
)

// delivery is one POST a receiver got.
type delivery struct {
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// TestDeliveriesVerifyWithStandardWebhooks: deliveries verify with the
// reference implementation of the Standard Webhooks specification — the npm
// package standardwebhooks run by Node (scripts/node/verify-webhook.js) —
// for a tenant with a whsec_ secret and for one with a secret of the older
// form (given to the library as StandardSecret); a delivery whose body or
// id was changed on the way does not. A retry keeps webhook-id. Node or the
// package missing skips the test, or fails it under CI=true.
func TestDeliveriesVerifyWithStandardWebhooks(t *testing.T) {
	node := testenv.LookPath(t, "node")
	tools, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "node"))
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "standardwebhooks")); err != nil {
		testenv.Unavailable(t, "standardwebhooks (npm ci in scripts/node)", err)
	}

	var mu sync.Mutex
	got := map[string][]delivery{}
	fail := true
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{Headers: map[string]string{}, Body: string(body)}
		for _, h := range []string{webhook.HeaderID, webhook.HeaderTimestamp, webhook.HeaderSignature, webhook.Header} {
			d.Headers[h] = r.Header.Get(h)
		}
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path] = append(got[r.URL.Path], d)
		if fail && r.URL.Path == "/new" {
			fail = false // the first attempt fails: the retry must keep its id
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(recv.Close)

	st := memory.New(time.Now)
	ctx := context.Background()
	secrets := map[string]string{
		"new": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // the form broker tenants create makes
		"old": "q3Jz0-older-form-secret_without-prefix",
	}
	for id, secret := range secrets {
		if err := st.CreateTenant(ctx, store.Tenant{ID: id, DisplayName: id, WebhookURL: recv.URL + "/" + id, WebhookSecret: secret}); err != nil {
			t.Fatal(err)
		}
		if err := st.EnqueueEvent(ctx, store.OutboxEvent{ID: "evt-" + id, TenantID: id, Type: "consent.granted",
			Data: json.RawMessage(`{"person_id":"s-1","kind":"parental"}`), NextAttemptAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// The real clock: the library checks webhook-timestamp against it.
	d := &webhook.Deliverer{Outbox: st, Tenants: st, Now: time.Now, Backoff: func(int) time.Duration { return 0 }}
	for range 2 {
		if _, _, err := d.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got["/new"]) != 2 || len(got["/old"]) != 1 {
		t.Fatalf("deliveries: new %d, old %d", len(got["/new"]), len(got["/old"]))
	}
	if a, b := got["/new"][0].Headers[webhook.HeaderID], got["/new"][1].Headers[webhook.HeaderID]; a != "evt-new" || b != a {
		t.Errorf("webhook-id %q then %q, want evt-new both times", a, b)
	}

	verify := func(secret string, ds []delivery) []string {
		t.Helper()
		in, _ := json.Marshal(map[string]any{"secret": secret, "deliveries": ds})
		cmd := exec.Command(node, "verify-webhook.js")
		cmd.Dir = tools
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node verify-webhook.js: %v: %s", err, stderr.String())
		}
		var res []string
		if err := json.Unmarshal(out, &res); err != nil || len(res) != len(ds) {
			t.Fatalf("node verify-webhook.js: %s", out)
		}
		return res
	}
	for _, tc := range []struct {
		tenant, secret string
	}{
		{"new", secrets["new"]},
		{"old", webhook.StandardSecret(secrets["old"])},
	} {
		ds := got["/"+tc.tenant]
		tampered := ds[len(ds)-1]
		tampered.Body = strings.Replace(tampered.Body, "parental", "self", 1)
		otherID := ds[len(ds)-1]
		otherID.Headers = map[string]string{webhook.HeaderID: "evt-other", webhook.HeaderTimestamp: otherID.Headers[webhook.HeaderTimestamp],
			webhook.HeaderSignature: otherID.Headers[webhook.HeaderSignature]}
		res := verify(tc.secret, append(append([]delivery{}, ds...), tampered, otherID))
		for i, r := range res[:len(ds)] {
			if r != "ok" {
				t.Errorf("%s: delivery %d refused by standardwebhooks: %s", tc.tenant, i, r)
			}
		}
		for i, r := range res[len(ds):] {
			if r == "ok" {
				t.Errorf("%s: a changed delivery (%d) verified", tc.tenant, i)
			}
		}
		// The broker's own verifier agrees, and the older header is still sent.
		h := http.Header{}
		for k, v := range ds[0].Headers {
			h.Set(k, v)
		}
		if err := webhook.VerifyStandard(webhook.SecretKey(tc.secret), h, []byte(ds[0].Body), time.Now(), 5*time.Minute); err != nil {
			t.Errorf("%s: VerifyStandard: %v", tc.tenant, err)
		}
		if err := webhook.Verify([]byte(secrets[tc.tenant]), ds[0].Headers[webhook.Header], []byte(ds[0].Body), time.Now(), 5*time.Minute); err != nil {
			t.Errorf("%s: X-Broker-Signature: %v", tc.tenant, err)
		}
	}
}
