// Package webhook delivers the outbox's events to the tenants' webhook
// URLs (DESIGN.md §4): POST JSON {"id","type","tenant","created_at","data"}
// signed by the Standard Webhooks specification (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of
// id.timestamp.body under the key of the tenant's whsec_ secret>; see
// standard.go and docs/webhooks.md) and, for receivers written before it,
// with X-Broker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// t + "." + body under the tenant's secret>, retried with exponential
// backoff and given up (dead letter, visible to support) after MaxAttempts.
// Delivery is at least once: receivers deduplicate by id.
package webhook
