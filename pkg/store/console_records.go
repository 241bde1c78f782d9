package store

import "context"

// MaxConsoleResults bounds the records one console search returns.
const MaxConsoleResults = 50

// RecordConsole is the support console's side of roster records: the
// searches and the reads of a record's page, each within a Scope and
// filtered in the query itself. A record outside the scope is answered
// exactly like one that does not exist: left out of a list, ErrNotFound for
// one record.
type RecordConsole interface {
	// FindRecordsInScope returns the records in sc whose blind index of
	// kind equals value — in every tenant for an operator, in sc's tenant
	// otherwise, and only of sc's schools for a school_admin —, ordered by
	// tenant and id, at most limit of them (0 or more than
	// MaxConsoleResults: MaxConsoleResults).
	FindRecordsInScope(ctx context.Context, sc Scope, kind IndexKind, value string, limit int) ([]Person, error)
	// RecordsByIDInScope returns the records with the external id id that
	// are in sc (an operator may see one per tenant), ordered by tenant.
	RecordsByIDInScope(ctx context.Context, sc Scope, externalID string) ([]Person, error)
	// LinksInScope lists the links of a record in sc, as
	// Links.LinksByRecord; ErrNotFound when the record does not exist or
	// is outside sc.
	LinksInScope(ctx context.Context, sc Scope, tenantID, externalID string) ([]Link, error)
	// RecordEventsInScope lists the newest outbox events whose data names
	// the record ("person_id"), newest first, at most limit (0 or more than
	// MaxConsoleResults: MaxConsoleResults); ErrNotFound when the record
	// does not exist or is outside sc.
	RecordEventsInScope(ctx context.Context, sc Scope, tenantID, externalID string, limit int) ([]OutboxEvent, error)
}

// ConsoleLimit is the number of rows a console query returns when asked
// for limit: limit, or MaxConsoleResults when limit is 0 or above it.
func ConsoleLimit(limit int) int {
	if limit <= 0 || limit > MaxConsoleResults {
		return MaxConsoleResults
	}
	return limit
}
