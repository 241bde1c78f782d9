package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the broker's Prometheus metrics. Labels are routes, outcomes
// and ESIA codes — never personal data, client input or oids.
type Metrics struct {
	Registry     *prometheus.Registry
	HTTPRequests *prometheus.CounterVec
	HTTPDuration *prometheus.HistogramVec
	Logins       *prometheus.CounterVec
	ESIACalls    *prometheus.CounterVec
	ESIADuration *prometheus.HistogramVec
	RateLimited  *prometheus.CounterVec
	Webhooks     *prometheus.CounterVec
	// Destroyed counts the rows the retention janitor destroyed, by kind
	// (attempt, audit_entry, outbox_delivered, outbox_dead, attempt_values).
	Destroyed *prometheus.CounterVec
	// OAuthRemoved counts the OAuth records the janitor removed, by kind
	// (code, pkce, oidc, access, refresh, grant).
	OAuthRemoved *prometheus.CounterVec
	// Abandoned counts the attempts marked abandoned after the login time-out.
	Abandoned prometheus.Counter
	// SupportUnmask counts the support console's «Показать», by kind
	// (attempt, record) and outcome (shown, no_reason, rate_limited,
	// not_found); no personal data, no staff member.
	SupportUnmask *prometheus.CounterVec
	// StoreUnavailable counts requests a store outage stopped, by store
	// (database, session_store) and route.
	StoreUnavailable *prometheus.CounterVec
}

// NewMetrics registers the metrics on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "broker_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_logins_total", Help: "Finished logins by outcome (linked, not_found, ambiguous, conflict, user_refused, esia_unavailable, esia_invalid_answer, session_store_unavailable, database_unavailable, ...).",
		}, []string{"outcome"}),
		ESIACalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_esia_calls_total", Help: "Calls to ESIA by endpoint and outcome (ESIA code, 2xx/4xx/5xx, timeout, network).",
		}, []string{"endpoint", "code"}),
		ESIADuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "broker_esia_call_duration_seconds", Help: "ESIA call latency by endpoint.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		SupportUnmask: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_support_unmask_total", Help: "Values the support console was asked to show in full, by kind (attempt, record) and outcome (shown, no_reason, rate_limited, not_found).",
		}, []string{"kind", "outcome"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_rate_limited_total", Help: "Requests refused by the rate limiter, by route.",
		}, []string{"route"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_webhook_deliveries_total", Help: "Webhook delivery attempts by event type and outcome (delivered, failed, dead).",
		}, []string{"type", "outcome"}),
		Destroyed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_retention_destroyed_total", Help: "Rows destroyed past their tenant's retention, by kind (attempt, audit_entry, outbox_delivered, outbox_dead, attempt_values, ticket).",
		}, []string{"kind"}),
		OAuthRemoved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_oauth_removed_total", Help: "OAuth records (codes, their PKCE and OpenID sessions, tokens) removed by the janitor once expired, used or revoked, by kind (code, pkce, oidc, access, refresh, grant).",
		}, []string{"kind"}),
		Abandoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "broker_attempts_abandoned_total", Help: "Login attempts still in progress after the login time-out, marked abandoned.",
		}),
		StoreUnavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_store_unavailable_total", Help: "Requests answered 503 because a store could not be used, by store (database, session_store) and route.",
		}, []string{"store", "route"}),
	}
	m.Registry.MustRegister(m.StoreUnavailable, m.Webhooks, m.Destroyed, m.OAuthRemoved, m.Abandoned, m.HTTPRequests, m.HTTPDuration, m.Logins, m.ESIACalls, m.ESIADuration, m.RateLimited,
		m.SupportUnmask,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveESIA is the esia.Config.Observe hook. Outcomes that took no HTTP
// call — an error ESIA put on the callback ("ac"), a call the circuit
// breaker refused — are counted but kept out of the duration histogram.
func (m *Metrics) ObserveESIA(endpoint, code string, d time.Duration) {
	m.ESIACalls.WithLabelValues(endpoint, code).Inc()
	if d > 0 {
		m.ESIADuration.WithLabelValues(endpoint).Observe(d.Seconds())
	}
}
