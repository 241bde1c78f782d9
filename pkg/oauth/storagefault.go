package oauth

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// RetryAfter is what the endpoints ask a client to wait (Retry-After)
// when the store is unavailable.
const RetryAfter = 30 * time.Second

// StorageError is a failure of the store behind the provider. It is never
// the client's fault, whatever fosite wraps it in: fosite answers any error
// of GetClient as invalid_client, and a revocation or an introspection that
// could not read the token as if the token were gone.
type StorageError struct {
	Op  string // "get client", "get oauth record", …
	Err error
}

func (e *StorageError) Error() string { return "oauth: " + e.Op + ": " + e.Err.Error() }

func (e *StorageError) Unwrap() error { return e.Err }

// Unavailable reports whether the store could not be used at all
// (store.ErrUnavailable): the same request may succeed later. Other
// storage errors are the broker's own fault (server_error).
func (e *StorageError) Unavailable() bool { return errors.Is(e.Err, store.ErrUnavailable) }

// StorageFailure returns the storage failure in err's chain, or nil.
func StorageFailure(err error) *StorageError {
	var se *StorageError
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// failureNote keeps the first storage failure of one request. fosite drops
// the cause on some paths (a revocation answers a bare
// temporarily_unavailable, which it then writes as 200 OK), so the
// endpoints read the note rather than the error they are handed.
type failureNote struct {
	mu  sync.Mutex
	err *StorageError
}

type noteKey struct{}

func withFailureNote(ctx context.Context) (context.Context, *failureNote) {
	n := &failureNote{}
	return context.WithValue(ctx, noteKey{}, n), n
}

func (n *failureNote) failure() *StorageError {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// noteFailure turns err, if it is a failure of the store rather than one of
// its answers about an entity (not found, inactive, already exists,
// invalid, a requirement that no longer holds), into a *StorageError noted
// in ctx's request.
func noteFailure(ctx context.Context, op string, err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInactive) ||
		errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrUnmet) {
		return err
	}
	se := &StorageError{Op: op, Err: err}
	if n, ok := ctx.Value(noteKey{}).(*failureNote); ok {
		n.mu.Lock()
		if n.err == nil {
			n.err = se
		}
		n.mu.Unlock()
	}
	return se
}

// checkedStore is the provider's Store with every failure of the calls the
// provider makes turned into a *StorageError and noted (noteFailure).
type checkedStore struct{ Store }

func (s checkedStore) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := s.Store.GetClient(ctx, id)
	return c, noteFailure(ctx, "get client", err)
}

func (s checkedStore) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	return noteFailure(ctx, "create oauth record", s.Store.CreateOAuthRecord(ctx, r))
}

func (s checkedStore) GetOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) (store.OAuthRecord, error) {
	r, err := s.Store.GetOAuthRecord(ctx, kind, sig)
	return r, noteFailure(ctx, "get oauth record", err)
}

func (s checkedStore) GetOAuthRecordSet(ctx context.Context, sig string, kinds []store.OAuthKind) (map[store.OAuthKind]store.OAuthRecord, error) {
	set, err := s.Store.GetOAuthRecordSet(ctx, sig, kinds)
	return set, noteFailure(ctx, "get oauth records", err)
}

func (s checkedStore) ApplyOAuth(ctx context.Context, b store.OAuthBatch) error {
	return noteFailure(ctx, "write oauth records", s.Store.ApplyOAuth(ctx, b))
}

func (s checkedStore) DeleteOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
	return noteFailure(ctx, "delete oauth record", s.Store.DeleteOAuthRecord(ctx, kind, sig))
}

func (s checkedStore) DeactivateOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
	return noteFailure(ctx, "deactivate oauth record", s.Store.DeactivateOAuthRecord(ctx, kind, sig))
}

func (s checkedStore) DeactivateOAuthRequest(ctx context.Context, kind store.OAuthKind, requestID string) error {
	return noteFailure(ctx, "deactivate oauth records", s.Store.DeactivateOAuthRequest(ctx, kind, requestID))
}

func (s checkedStore) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := s.Store.GetTenant(ctx, id)
	return t, noteFailure(ctx, "get tenant", err)
}

func (s checkedStore) GetOAuthGrant(ctx context.Context, requestID string) (store.OAuthGrant, error) {
	g, err := s.Store.GetOAuthGrant(ctx, requestID)
	return g, noteFailure(ctx, "get oauth grant", err)
}
