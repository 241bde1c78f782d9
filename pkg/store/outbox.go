package store

import (
	"context"
	"encoding/json"
	"time"
)

// EventStatus is where an outbox event is in its delivery.
type EventStatus string

// Outbox event states.
const (
	EventPending   EventStatus = "pending"
	EventDelivered EventStatus = "delivered"
	EventDead      EventStatus = "dead" // gave up after the last attempt; support can retry it
)

// OutboxEvent is a notification to a tenant (a webhook), written in the
// same transaction as the change it reports and delivered at least once
// afterwards (DESIGN.md §4: consent.requested, consent.granted, …,
// link.suspended). Data holds no raw personal data: record ids, oids,
// states.
type OutboxEvent struct {
	ID            string // UUID; receivers deduplicate by it
	TenantID      string
	Type          string
	Data          json.RawMessage
	CreatedAt     time.Time
	Status        EventStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     string // the last delivery failure (status code, time-out), never the body
	DeliveredAt   time.Time
}

// Outbox stores events until they are delivered.
type Outbox interface {
	// EnqueueEvent adds an event; inside InTx it commits with the change.
	EnqueueEvent(ctx context.Context, e OutboxEvent) error
	// ClaimEvents takes up to limit pending events due at now for delivery,
	// leasing them until now+lease so that no other replica takes them
	// meanwhile (FOR UPDATE SKIP LOCKED in PostgreSQL).
	ClaimEvents(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxEvent, error)
	// MarkDelivered records a successful delivery.
	MarkDelivered(ctx context.Context, id string, at time.Time) error
	// MarkFailed records a failed attempt: the event is retried at next,
	// or becomes dead when dead is true.
	MarkFailed(ctx context.Context, id string, next time.Time, lastError string, dead bool) error
	// ListEvents lists a tenant's events of a status ("" for all), newest first.
	ListEvents(ctx context.Context, tenantID string, status EventStatus, limit int) ([]OutboxEvent, error)
	// RetryEvent makes a dead event pending again, due at now.
	RetryEvent(ctx context.Context, tenantID, id string, now time.Time) error
}

// ValidateOutboxEvent checks what every store requires of an event: an
// id, a tenant, and strings and data a store can keep (*FieldError
// otherwise).
func ValidateOutboxEvent(e OutboxEvent) error {
	switch {
	case e.ID == "":
		return required("id")
	case e.TenantID == "":
		return required("tenant_id")
	}
	return check(
		CheckID("id", e.ID),
		CheckID("tenant_id", e.TenantID),
		CheckText("type", e.Type, MaxWordLength),
		CheckText("last_error", e.LastError, MaxTextLength),
		CheckJSON("data", e.Data),
	)
}
