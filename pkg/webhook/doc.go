// Package webhook delivers the outbox's events to the tenants' webhook
// URLs (DESIGN.md §4): POST JSON {"id","type","tenant","created_at","data"}
// signed with X-Broker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// t + "." + body under the tenant's secret>, retried with exponential
// backoff and given up (dead letter, visible to support) after MaxAttempts.
// Delivery is at least once: receivers deduplicate by id.
package webhook
