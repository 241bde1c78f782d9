package store

import (
	"context"
	"time"
)

// KeyKind says what a key is for.
type KeyKind string

// Key kinds.
const (
	KeySigning  KeyKind = "signing"   // ID token signing keys
	KeyPII      KeyKind = "pii"       // personal-data encryption keys
	KeyPIIIndex KeyKind = "pii_index" // blind-index HMAC keys
	KeySubject  KeyKind = "subject"   // secret of the pairwise subject identifiers; never rotated
	KeyOAuth    KeyKind = "oauth"     // HMAC secret of opaque OAuth codes and tokens
)

// Key is one of the broker's own keys. The secret part is sealed under the
// key-encryption key (BROKER_KEK) before it reaches the store.
type Key struct {
	ID        string
	Kind      KeyKind
	Algorithm string // ES256, RS256, A256GCM, HS256
	Sealed    []byte // private/secret material, encrypted under the KEK
	Public    []byte // public JWK (signing keys only)
	CreatedAt time.Time
	// RetiredAt is when the key stopped being used for new signatures or
	// encryptions; zero while it is the active key of its kind.
	RetiredAt time.Time
	// PublishUntil is when a retired signing key may leave the JWKS: after
	// the last token it signed expires.
	PublishUntil time.Time
}

// Active reports whether k is the key in use for its kind and algorithm.
func (k Key) Active() bool { return k.RetiredAt.IsZero() }

// Keys stores the broker's keys.
type Keys interface {
	// CreateKey stores k as the first active key of its kind and
	// algorithm (signing keys: one ES256 and one RS256 key are active
	// together); when an active key of that kind and algorithm exists
	// already (another replica made one first) it returns ErrAlreadyExists
	// and stores nothing.
	CreateKey(ctx context.Context, k Key) error
	// RotateKey stores k as the active key of its kind and algorithm and
	// retires the previously active one of that kind and algorithm at
	// k.CreatedAt, to be published until publishUntil. Atomic.
	RotateKey(ctx context.Context, k Key, publishUntil time.Time) error
	// ListKeys lists the keys of a kind, newest first.
	ListKeys(ctx context.Context, kind KeyKind) ([]Key, error)
	// DeleteKey removes a key (a retired signing key past PublishUntil).
	DeleteKey(ctx context.Context, id string) error
}
