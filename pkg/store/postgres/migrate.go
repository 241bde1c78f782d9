package postgres

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/diarybroker/broker/pkg/store/migrations"
)

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

func provider(pool *pgxpool.Pool, logger *slog.Logger) (*goose.Provider, func() error, error) {
	db := stdlib.OpenDBFromPool(pool)
	// A table lock rather than an advisory lock: PostgreSQL-compatible
	// distributed databases have no advisory locks, and several replicas
	// may start at once.
	locker, err := lock.NewPostgresTableLocker()
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithLocker(locker), goose.WithSlog(logger), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, db.Close, nil
}

// Migrate applies every pending migration and returns how many ran.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (int, error) {
	p, closeDB, err := provider(pool, logger)
	if err != nil {
		return 0, err
	}
	defer closeDB()
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: migrate up: %w", err)
	}
	return len(res), nil
}

// MigrateDown rolls back the newest applied migration.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	p, closeDB, err := provider(pool, logger)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("postgres: migrate down: %w", err)
	}
	return nil
}

// Migrations lists the embedded migrations and whether each is applied.
func Migrations(ctx context.Context, pool *pgxpool.Pool) ([]MigrationStatus, error) {
	p, closeDB, err := provider(pool, nil)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{Version: m.Source.Version, Name: m.Source.Path, Applied: m.State == goose.StateApplied})
	}
	return out, nil
}
