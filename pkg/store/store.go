package store

import (
	"context"
	"errors"
)

// Errors returned by every implementation; callers branch with errors.Is.
var (
	// ErrNotFound means the entity does not exist (or belongs to another tenant).
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists means an entity with the same identity exists already.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrInactive means a single-use record was used already (an OAuth code
	// redeemed, a refresh token rotated). The record is returned with it.
	ErrInactive = errors.New("store: inactive")
	// ErrUnmet means a batch's requirement (OAuthBatch.Require) no longer
	// holds: the link or the consent it names has ended.
	ErrUnmet = errors.New("store: requirement no longer holds")
	// ErrInvalid means the entity breaks a rule of the store (empty id,
	// relation to an unknown person, ...). The message says which.
	ErrInvalid = errors.New("store: invalid")
	// ErrUnavailable means the backing database could not be reached or
	// dropped the connection (refused, reset, restarting, failed over, out
	// of connections): nothing is wrong with the request, and the same call
	// may succeed later. Callers answer "try again later", never "no such
	// entity" or "wrong credentials".
	ErrUnavailable = errors.New("store: database unavailable")
)

// Store is everything the broker keeps durably. Components take the narrow
// interface they need (Tenants, Links, ...), never the whole Store.
type Store interface {
	Tenants
	TenantDeleter
	Clients
	Roster
	Links
	Attempts
	Keys
	OAuthRecords
	Audit
	Consents
	Outbox
	Mail
	Retention
	Rechecks
	Staff
	Console
	Tickets
	AuditLog
	RecordConsole
	Transactor

	// Ping reports whether the backing database answers.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Transactor runs several writes atomically. Methods called with the context
// passed to fn take part in the transaction; fn's error rolls it back.
// BeginTx, CommitTx and RollbackTx are the same in three steps, for callers
// (fosite) that cannot pass a closure.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	BeginTx(ctx context.Context) (context.Context, error)
	CommitTx(ctx context.Context) error
	RollbackTx(ctx context.Context) error
}

// Sealer encrypts personal data before a store writes it and decrypts it
// after reading (DESIGN.md §5: AES-256-GCM, key id kept with the row). The
// associated data binds a ciphertext to its row so that it cannot be moved.
type Sealer interface {
	Seal(plaintext, associatedData []byte) (keyID string, ciphertext []byte, err error)
	Open(keyID string, ciphertext, associatedData []byte) ([]byte, error)
}
