// Package sessions keeps short-lived login state shared by every broker
// replica: the pending downstream authorization request behind an ESIA
// state, consent-page state, and rate-limit counters. Redis backs it in
// production, an in-process map in dev mode; both pass sessionstest.
// Nothing durable lives here.
package sessions

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound means the key is absent or expired.
var ErrNotFound = errors.New("sessions: not found")

// ErrUnavailable means the store could not be used (Redis refused the
// connection, timed out, is loading or failing over). Every error of a
// Store other than ErrNotFound matches it, with the cause behind it.
var ErrUnavailable = errors.New("sessions: session store unavailable")

// Store is the ephemeral key-value store of login state. Values are opaque
// bytes; every value has a time to live.
type Store interface {
	// Put stores value under key for ttl, replacing any value.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Get returns the value of key.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take returns the value of key and deletes it, atomically: of two
	// concurrent Takes exactly one gets the value.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Hit counts one event for key in a fixed window that starts with the
	// first event, and returns the count so far in that window.
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
}
