package store

import "context"

// PersonCopier is a faster write path for large batches of roster records,
// used by roster imports when the store has one (the PostgreSQL store
// streams new records with COPY). CopyPersons has exactly the effect of
// Roster.UpsertPersons: the same validation, and the batch lands whole or
// not at all.
type PersonCopier interface {
	CopyPersons(ctx context.Context, tenantID string, ps []Person) error
}

// KnownRelations writes relations without failing on the ones whose
// records do not exist (yet): a roster import applies relations in batches
// while it streams, and a relation may name a record further down the file.
type KnownRelations interface {
	// UpsertKnownRelations adds, as UpsertRelations does, the relations
	// whose parent and student records both exist with those roles, and
	// returns the positions in rs of the others (a record missing or of
	// another role), in order. A pair given twice takes
	// the kind of its last occurrence. Atomic.
	UpsertKnownRelations(ctx context.Context, tenantID string, rs []Relation) (missing []int, err error)
}
