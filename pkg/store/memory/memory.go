// Package memory is the in-process implementation of the store interfaces,
// used by `broker dev` and by tests. It keeps everything in maps guarded by
// one lock; InTx holds that lock for the whole transaction and undoes the
// writes when the transaction fails. Nothing is persisted, so personal data
// is kept in plaintext in memory only.
package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Store is the in-memory store. The zero value is not usable; call New.
type Store struct {
	mu   sync.RWMutex
	now  func() time.Time
	undo []func() // writes of the running transaction, newest last

	tenants   map[string]store.Tenant
	clients   map[string]store.Client
	persons   map[string]map[string]store.Person                        // tenant → external id
	indexes   map[string]map[store.IndexKind]map[string]map[string]bool // tenant → kind → value → ids
	relations map[string]map[store.Relation]bool                        // tenant → relation (TenantID cleared)
	links     map[string]map[string]map[string]store.Link               // tenant → oid → external id
	attempts  map[string]*store.Attempt
	keys      map[string]store.Key
	oauth     map[store.OAuthKind]map[string]store.OAuthRecord
	audit     []store.AuditEntry
	auditSeq  int64 // the last audit entry's ID; never reused, as entries may be destroyed
	// oauthByRequest indexes oauth by request id: kind → request → signatures.
	oauthByRequest map[store.OAuthKind]map[string]map[string]bool
	// oauthGrants are the grants' shared sessions, by request id.
	oauthGrants map[string]store.OAuthGrant
	// attemptRecords are the roster records each attempt named: ref → ids.
	attemptRecords map[string]map[string]bool

	consents        map[string]consentRow // id → consent
	consentRequests map[string]requestRow // id → request
	evidence        []store.Evidence      // append-only but for a tenant's deletion
	evidenceSeq     int64                 // the last evidence's ID; never reused
	events          map[string]eventRow   // id → outbox event
	mail            map[string]mailRow    // id → mail job
	seq             int64                 // insertion order of consents, requests and events

	staff map[string]store.StaffGrant // id → staff grant

	values map[string]store.AttemptValues // ref → values kept for re-checks

	tickets map[string]store.Ticket // id → support ticket, with its notes

	limits Limits // how many rows the growing tables keep (bound)
	// recordsMark and attemptsMark are the sizes of the OAuth records
	// and of attempts after the last bounding pass, or their lows since
	// (bound).
	recordsMark, attemptsMark int
}

var _ store.Store = (*Store)(nil)

// New returns an empty store bounded by DefaultLimits. now is the clock
// used for timestamps the store sets itself and for telling what has
// expired (nil: time.Now).
func New(now func() time.Time) *Store { return NewLimited(now, Limits{}) }

// NewLimited returns an empty store bounded by limits (a field left 0 is
// DefaultMaxRows, a negative one leaves its table unbounded); see Limits
// for what is dropped first.
func NewLimited(now func() time.Time, limits Limits) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:       now,
		limits:    limits.withDefaults(),
		tenants:   map[string]store.Tenant{},
		clients:   map[string]store.Client{},
		persons:   map[string]map[string]store.Person{},
		indexes:   map[string]map[store.IndexKind]map[string]map[string]bool{},
		relations: map[string]map[store.Relation]bool{},
		links:     map[string]map[string]map[string]store.Link{},
		attempts:  map[string]*store.Attempt{},
		keys:      map[string]store.Key{},
		oauth:     map[store.OAuthKind]map[string]store.OAuthRecord{},

		oauthByRequest: map[store.OAuthKind]map[string]map[string]bool{},
		oauthGrants:    map[string]store.OAuthGrant{},
		attemptRecords: map[string]map[string]bool{},

		consents:        map[string]consentRow{},
		consentRequests: map[string]requestRow{},
		events:          map[string]eventRow{},
		staff:           map[string]store.StaffGrant{},
		values:          map[string]store.AttemptValues{},
		tickets:         map[string]store.Ticket{},
	}
}

type txKey struct{}

// txToken marks a context as inside a transaction of one store, until the
// transaction ends.
type txToken struct {
	store *Store
	done  bool // guarded by store.mu, which the transaction holds
}

// inTx reports whether ctx belongs to a running transaction of s (which then
// holds the write lock already).
func (s *Store) inTx(ctx context.Context) bool {
	t, _ := ctx.Value(txKey{}).(*txToken)
	return t != nil && t.store == s && !t.done
}

func (s *Store) endTx(ctx context.Context) {
	ctx.Value(txKey{}).(*txToken).done = true
}

// write locks s for writing unless ctx is inside s's transaction.
func (s *Store) write(ctx context.Context) func() {
	if s.inTx(ctx) {
		return func() {}
	}
	s.mu.Lock()
	return s.unlockWrite
}

// unlockWrite bounds the tables that the write grew and unlocks.
func (s *Store) unlockWrite() {
	s.bound()
	s.mu.Unlock()
}

// read locks s for reading unless ctx is inside s's transaction.
func (s *Store) read(ctx context.Context) func() {
	if s.inTx(ctx) {
		return func() {}
	}
	s.mu.RLock()
	return s.mu.RUnlock
}

// onUndo records how to undo a write when inside a transaction.
func (s *Store) onUndo(ctx context.Context, f func()) {
	if s.inTx(ctx) {
		s.undo = append(s.undo, f)
	}
}

// InTx implements store.Transactor. Nested calls join the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.inTx(ctx) {
		return fn(ctx)
	}
	txCtx, err := s.BeginTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(txCtx); err != nil {
		_ = s.RollbackTx(txCtx)
		return err
	}
	return s.CommitTx(txCtx)
}

// BeginTx implements store.Transactor: it takes the store's write lock
// until CommitTx or RollbackTx.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if s.inTx(ctx) {
		return nil, errors.New("memory: transaction already started")
	}
	s.mu.Lock()
	s.undo = s.undo[:0]
	return context.WithValue(ctx, txKey{}, &txToken{store: s}), nil
}

// CommitTx implements store.Transactor.
func (s *Store) CommitTx(ctx context.Context) error {
	if !s.inTx(ctx) {
		return errors.New("memory: commit without a transaction")
	}
	s.undo = s.undo[:0]
	s.endTx(ctx)
	s.unlockWrite()
	return nil
}

// RollbackTx implements store.Transactor: the transaction's writes are undone.
func (s *Store) RollbackTx(ctx context.Context) error {
	if !s.inTx(ctx) {
		return errors.New("memory: rollback without a transaction")
	}
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.undo[i]()
	}
	s.undo = s.undo[:0]
	s.endTx(ctx)
	s.mu.Unlock()
	return nil
}

// Ping implements store.Store; the memory store is always there.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements store.Store.
func (s *Store) Close() error { return nil }

func cloneStrings(in []string) []string {
	if in == nil {
		return nil
	}
	return append([]string(nil), in...)
}
