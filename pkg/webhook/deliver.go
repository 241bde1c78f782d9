package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Tenants looks up a tenant's webhook URL and secret.
type Tenants interface {
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
}

// Deliverer posts outbox events to tenants.
type Deliverer struct {
	Outbox  store.Outbox
	Tenants Tenants
	Client  *http.Client // default: 10 s time-out, no redirects
	Now     func() time.Time
	Logger  *slog.Logger
	// MaxAttempts before an event is dead (default 12: about a day of
	// retries with the default backoff).
	MaxAttempts int
	// Backoff is the wait before attempt n+1 after n failures (default
	// 10 s · 2^(n-1), at most 1 h, with ±20 % jitter).
	Backoff func(failures int) time.Duration
	// Observe, when set, is called per attempt with the event type and
	// outcome (delivered, failed, dead).
	Observe func(eventType, outcome string)

	// failures logs failed deliveries, rate-limited per endpoint.
	failures failureLog
}

// Payload is the JSON body of a webhook.
type Payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Tenant    string          `json:"tenant"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

func (d *Deliverer) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

// DefaultBackoff is 10 s · 2^(failures-1), capped at 1 h, ±20 % jitter.
func DefaultBackoff(failures int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < failures && d < time.Hour; i++ {
		d *= 2
	}
	if d > time.Hour {
		d = time.Hour
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// RunOnce claims the due events and delivers them; it returns how many
// were delivered and how many failed.
func (d *Deliverer) RunOnce(ctx context.Context) (delivered, failed int, err error) {
	now := d.now()
	events, err := d.Outbox.ClaimEvents(ctx, now, 2*time.Minute, 50)
	if err != nil {
		return 0, 0, fmt.Errorf("webhook: claim: %w", err)
	}
	for _, e := range events {
		if ok := d.deliver(ctx, e); ok {
			delivered++
		} else {
			failed++
		}
	}
	return delivered, failed, nil
}

func (d *Deliverer) deliver(ctx context.Context, e store.OutboxEvent) bool {
	t, err := d.Tenants.GetTenant(ctx, e.TenantID)
	if err != nil {
		return d.fail(ctx, e, "", 0, "tenant unavailable")
	}
	if t.WebhookURL == "" {
		return d.fail(ctx, e, "", 0, "no webhook URL configured")
	}
	body, _ := json.Marshal(Payload{ID: e.ID, Type: e.Type, Tenant: e.TenantID, CreatedAt: e.CreatedAt, Data: e.Data})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return d.fail(ctx, e, "", 0, "bad webhook URL")
	}
	host := req.URL.Host
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "diary-broker-webhooks/1")
	// Standard Webhooks (webhook-id, -timestamp, -signature), and the
	// broker's older X-Broker-Signature for receivers written against it.
	SetStandardHeaders(req.Header, SecretKey(t.WebhookSecret), e.ID, d.now(), body)
	req.Header.Set(Header, Sign([]byte(t.WebhookSecret), d.now(), body))
	resp, err := d.client().Do(req)
	if err != nil {
		return d.fail(ctx, e, host, 0, "no answer: "+shortErr(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return d.fail(ctx, e, host, resp.StatusCode, fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	if err := d.Outbox.MarkDelivered(ctx, e.ID, d.now()); err != nil {
		d.log().ErrorContext(ctx, "marking a webhook delivered failed", "event", e.ID, "error", err)
	}
	d.observe(e.Type, "delivered")
	return true
}

// fail records a failed delivery to host (empty when none was tried) and
// logs it (see failureLog); status is the endpoint's HTTP status, if any.
func (d *Deliverer) fail(ctx context.Context, e store.OutboxEvent, host string, status int, why string) bool {
	failures := e.Attempts + 1
	max := d.MaxAttempts
	if max <= 0 {
		max = 12
	}
	backoff := d.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	dead := failures >= max
	if err := d.Outbox.MarkFailed(ctx, e.ID, d.now().Add(backoff(failures)), why, dead); err != nil {
		d.log().ErrorContext(ctx, "marking a webhook failed failed", "event", e.ID, "error", err)
	}
	d.failures.log(ctx, d.log(), d.now(), failure{tenant: e.TenantID, host: host, eventType: e.Type, status: status,
		why: why, attempt: failures, dead: dead})
	outcome := "failed"
	if dead {
		outcome = "dead"
		d.log().WarnContext(ctx, "webhook given up", "event", e.ID, "type", e.Type, "tenant", e.TenantID, "attempts", failures, "last_error", why)
	}
	d.observe(e.Type, outcome)
	return false
}

func (d *Deliverer) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (d *Deliverer) log() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

func (d *Deliverer) observe(typ, outcome string) {
	if d.Observe != nil {
		d.Observe(typ, outcome)
	}
}

// shortErr keeps a transport error short and free of the URL (whose path
// or query may carry a secret): net/http's *url.Error names it.
func shortErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}
