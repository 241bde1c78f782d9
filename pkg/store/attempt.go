package store

import (
	"context"
	"encoding/json"
	"time"
)

// Attempt is one login through the broker, identified by the reference code
// the person sees on an error page. It carries no raw personal data: only
// masked values and outcomes.
type Attempt struct {
	Ref       string // 10 Crockford base32 characters
	TenantID  string
	ClientID  string
	ESIAOID   string
	Outcome   string // in_progress, linked, not_found, ambiguous, conflict, ...
	Reason    string // the error reason sent to the diary, if any
	CreatedAt time.Time
	UpdatedAt time.Time
	Events    []AttemptEvent
}

// AttemptEvent is one step of an attempt.
type AttemptEvent struct {
	Step   string          // authorize, esia_callback, link, consent, issued, failed
	At     time.Time       //
	Detail json.RawMessage // masked, step-specific detail (what was compared)
}

// Attempts stores login attempts for support.
type Attempts interface {
	// RecordAttempt creates the attempt when new, updates its summary
	// fields (ESIAOID, Outcome, Reason when non-empty) and appends ev.
	RecordAttempt(ctx context.Context, a Attempt, ev AttemptEvent) error
	// GetAttempt returns the attempt with its events in order.
	GetAttempt(ctx context.Context, ref string) (Attempt, error)
	// AttemptsByOID lists the newest attempts of an ESIA person (no events).
	AttemptsByOID(ctx context.Context, tenantID, oid string, limit int) ([]Attempt, error)
}
