package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
	// fields (ESIAOID, Outcome, Reason when non-empty) and appends evs in
	// order, atomically (an event without a step updates the summary and
	// appends nothing); UpdatedAt becomes the last event's time (the
	// store's now without events). The roster records the events' details
	// name (RecordsNamedIn) are remembered for AttemptsByRecord. Several
	// events of one request are one write (login.Journal).
	RecordAttempt(ctx context.Context, a Attempt, evs ...AttemptEvent) error
	// GetAttempt returns the attempt with its events in order.
	GetAttempt(ctx context.Context, ref string) (Attempt, error)
	// AttemptsByOID lists the newest attempts of an ESIA person (no events).
	AttemptsByOID(ctx context.Context, tenantID, oid string, limit int) ([]Attempt, error)
	// AttemptsByRecord lists the newest attempts of a tenant whose events
	// named the roster record externalID (no events): the failed logins
	// that compared it as a candidate as well as those that matched it.
	AttemptsByRecord(ctx context.Context, tenantID, externalID string, limit int) ([]Attempt, error)
}

// RecordsNamedIn returns the roster record ids an attempt event's detail
// names, sorted and without repeats: the candidates the ladder compared
// ("candidates": [{"record": id, ...}]), the record a diary asked to link
// ("manual_record") and the links a re-check suspended ("suspended_links":
// [{"record": id, ...}]). A member of another shape is skipped; nil when
// none names a record. Stores index attempts by them.
func RecordsNamedIn(detail json.RawMessage) []string {
	var d struct {
		Candidates     json.RawMessage `json:"candidates"`
		SuspendedLinks json.RawMessage `json:"suspended_links"`
		ManualRecord   json.RawMessage `json:"manual_record"`
	}
	if len(detail) == 0 || json.Unmarshal(detail, &d) != nil {
		return nil
	}
	var out []string
	for _, list := range []json.RawMessage{d.Candidates, d.SuspendedLinks} {
		var named []struct{ Record string }
		if json.Unmarshal(list, &named) == nil {
			for _, n := range named {
				out = append(out, n.Record)
			}
		}
	}
	var manual string
	if json.Unmarshal(d.ManualRecord, &manual) == nil {
		out = append(out, manual)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == "" {
		out = out[1:]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ValidateAttempt checks what every store requires of an attempt and the
// events recorded with it: a reference code, strings a store can keep and
// details that are JSON a store can keep (*FieldError otherwise), at most
// MaxAttemptEventsPerWrite of them.
func ValidateAttempt(a Attempt, evs ...AttemptEvent) error {
	if a.Ref == "" {
		return required("ref")
	}
	if len(evs) > MaxAttemptEventsPerWrite {
		return fmt.Errorf("%w: %d attempt events in one write, at most %d", ErrInvalid, len(evs), MaxAttemptEventsPerWrite)
	}
	if err := check(
		CheckID("ref", a.Ref),
		CheckID("tenant_id", a.TenantID),
		CheckID("client_id", a.ClientID),
		CheckID("esia_oid", a.ESIAOID),
		CheckText("outcome", a.Outcome, MaxWordLength),
		CheckText("reason", a.Reason, MaxWordLength),
	); err != nil {
		return err
	}
	for _, ev := range evs {
		if err := check(CheckText("step", ev.Step, MaxWordLength), CheckJSON("detail", ev.Detail)); err != nil {
			return err
		}
	}
	return nil
}

// MaxAttemptEventsPerWrite bounds the events one RecordAttempt appends: a
// request records a handful (login.Journal).
const MaxAttemptEventsPerWrite = 32
