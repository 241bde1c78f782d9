// Package postgres implements the store interfaces on PostgreSQL through a
// pgx v5 pool. Roster personal data is sealed by a store.Sealer before it is
// written; schema changes are the embedded goose migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/diarybroker/broker/pkg/store"
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	sealer  store.Sealer
	queries *atomic.Int64
	clock   func() time.Time
	// asyncTokens: WithAsyncTokenCommit.
	asyncTokens bool
}

var _ store.Store = (*Store)(nil)

// New returns a store on pool. sealer encrypts roster personal data; a
// store without one refuses to write or read roster records.
func New(pool *pgxpool.Pool, sealer store.Sealer) *Store {
	s := &Store{pool: pool, sealer: sealer, queries: new(atomic.Int64)}
	if c, ok := pool.Config().ConnConfig.Tracer.(*queryCounter); ok {
		s.queries = &c.n
	}
	return s
}

// WithSealer returns a store sharing s's pool that seals with sealer.
func (s *Store) WithSealer(sealer store.Sealer) *Store {
	c := *s
	c.sealer = sealer
	return &c
}

// WithAsyncTokenCommit returns a store sharing s's pool whose token
// writes that issue or rotate tokens (store.OAuthBatch.Revokes false)
// commit without waiting for the WAL to reach the disk
// (synchronous_commit off for their transaction only; BROKER_TOKEN_COMMIT
// = async, docs/configuration.md). A crash of the database then loses at
// most the last moment's such writes — the diaries that got those tokens
// log in again — while revocations and everything else stay durable.
func (s *Store) WithAsyncTokenCommit() *Store {
	c := *s
	c.asyncTokens = true
	return &c
}

// Pool returns the underlying pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Queries returns how many round trips (statements, or batches of them)
// pools opened with Connect have sent; benchmarks report it per login.
func (s *Store) Queries() int64 { return s.queries.Load() }

// DefaultMaxConns is the pool size when the database URL does not set
// pool_max_conns: four connections per CPU, at least eight. More made the
// token benchmarks slower on two cores (docs/performance.md).
var DefaultMaxConns = int32(max(8, 4*runtime.NumCPU()))

// Connect opens a pool for url that counts the statements it sends.
func Connect(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", err)
	}
	cfg.ConnConfig.Tracer = &queryCounter{}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (one connection per CPU, at least 4) starves a
		// broker whose requests each wait on a round trip; pool_max_conns
		// in the URL overrides this.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return pool, nil
}

// queryCounter is a pgx tracer that counts statements.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A batch is one round trip, however many statements it carries.
func (c *queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", mapErr(err))
	}
	return nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

type txKey struct{}

type txState struct {
	store *Store
	tx    pgx.Tx
}

func (s *Store) txOf(ctx context.Context) *txState {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.store.pool == s.pool {
		return st
	}
	return nil
}

// q returns the transaction of ctx, or the pool.
func (s *Store) q(ctx context.Context) querier {
	if st := s.txOf(ctx); st != nil {
		return st.tx
	}
	return s.pool
}

// InTx implements store.Transactor. Nested calls join the outer transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.txOf(ctx) != nil {
		return fn(ctx)
	}
	txCtx, err := s.BeginTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(txCtx); err != nil {
		if rbErr := s.RollbackTx(txCtx); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return s.CommitTx(txCtx)
}

// BeginTx starts a transaction and returns a context carrying it.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if s.txOf(ctx) != nil {
		return nil, errors.New("postgres: transaction already started")
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", mapErr(err))
	}
	return context.WithValue(ctx, txKey{}, &txState{store: s, tx: tx}), nil
}

// CommitTx commits the transaction carried by ctx.
func (s *Store) CommitTx(ctx context.Context) error {
	st := s.txOf(ctx)
	if st == nil {
		return errors.New("postgres: commit without a transaction")
	}
	if err := st.tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapErr(err))
	}
	return nil
}

// RollbackTx rolls back the transaction carried by ctx.
func (s *Store) RollbackTx(ctx context.Context) error {
	st := s.txOf(ctx)
	if st == nil {
		return errors.New("postgres: rollback without a transaction")
	}
	if err := st.tx.Rollback(context.WithoutCancel(ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("postgres: rollback: %w", err)
	}
	return nil
}

// mapErr turns PostgreSQL errors into the store's sentinel errors; an
// outage (see unavailable) keeps its cause behind store.ErrUnavailable.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w (%s)", store.ErrAlreadyExists, pgErr.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: refers to a missing entity (%s)", store.ErrInvalid, pgErr.ConstraintName)
		case "23502", "23514", "22001": // not null, check, string too long
			return fmt.Errorf("%w: %s", store.ErrInvalid, pgErr.ConstraintName)
		case "22021", "22P05", "54000":
			// A byte sequence the database cannot hold (NUL, invalid
			// UTF-8) or a key over the index row limit: the store's
			// checks (store.CheckText) keep these out; should one slip
			// through, it is still the caller's bad input.
			return fmt.Errorf("%w: %s", store.ErrInvalid, pgErr.Code)
		}
	}
	return err
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, mapErr(err))
}
