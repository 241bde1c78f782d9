package store

import "context"

// SealedTable names what a Resealer re-seals: a table whose rows hold data
// sealed by a Sealer, with the key id beside it.
type SealedTable string

// The sealed tables.
const (
	SealedRoster   SealedTable = "roster"   // roster records' personal data
	SealedOAuth    SealedTable = "oauth"    // OAuth codes, tokens and sessions (they hold claims)
	SealedEvidence SealedTable = "evidence" // the personal data of consent evidence
	// SealedAttemptValues: the ESIA-side values kept for re-checks.
	SealedAttemptValues SealedTable = "attempt_values"
	// SealedTickets: the contact and comment of support tickets.
	SealedTickets SealedTable = "tickets"
	// SealedTicketNotes and SealedTicketResolutions: what staff wrote on
	// support tickets, their comments and resolutions.
	SealedTicketNotes       SealedTable = "ticket_notes"
	SealedTicketResolutions SealedTable = "ticket_resolutions"
	// SealedOAuthGrants: the sessions OAuth grants' tokens share (claims).
	SealedOAuthGrants SealedTable = "oauth_grants"
)

// SealedTables lists every sealed table.
var SealedTables = []SealedTable{SealedRoster, SealedOAuth, SealedEvidence, SealedAttemptValues, SealedTickets,
	SealedTicketNotes, SealedTicketResolutions, SealedOAuthGrants}

// Resealer re-encrypts sealed data with the sealer's active key, so that a
// personal-data key can be rotated and the old one retired without
// downtime. Stores that keep personal data only in memory do not seal and
// have nothing to re-seal.
type Resealer interface {
	// SealedKeys counts, per table, the rows sealed under each key id.
	SealedKeys(ctx context.Context) (map[SealedTable]map[string]int64, error)
	// Reseal re-seals, with the sealer's active key and in one
	// transaction, up to limit rows of table sealed under one of keyIDs,
	// taking them in the table's key order from the position after (""
	// for the start). The rows are claimed with FOR UPDATE SKIP LOCKED,
	// so any number of processes can run it at once, and each row changes
	// in one update: readable under its old key before, under the new one
	// after. It returns how many rows it re-sealed and the position to
	// go on from, "" at the end of the table. A pass from "" to "" visits
	// every row once, whatever the database's plans and dead rows; rows
	// another transaction held are left for the next pass.
	Reseal(ctx context.Context, table SealedTable, keyIDs []string, limit int, after string) (n int, next string, err error)
	// DeleteSealingKey deletes a retired key when no row of any sealed
	// table uses it, in one statement; false when a row still does.
	DeleteSealingKey(ctx context.Context, id string) (bool, error)
}
