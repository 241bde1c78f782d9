package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store/postgres"
)

// StoreFlags select the database of an operator command.
type StoreFlags struct {
	DatabaseURL *string `name:"database-url" help:"PostgreSQL URL (BROKER_DATABASE_URL)." placeholder:"URL"`
}

// operatorSettings loads the settings of an operator command: the
// database is --database-url when given, and one is required.
func operatorSettings(g *Globals, f StoreFlags) (server.Settings, error) {
	s, err := server.LoadSettings(g.Config, nil)
	if err != nil {
		return s, err
	}
	if f.DatabaseURL != nil {
		s.DatabaseURL = *f.DatabaseURL
	}
	if s.DatabaseURL == "" {
		return s, fmt.Errorf("BROKER_DATABASE_URL (or --database-url) is required")
	}
	return s, nil
}

// openStorage opens the storage of an operator command.
func openStorage(g *Globals, f StoreFlags) (*server.Storage, error) {
	st, _, err := openStorageSettings(g, f)
	return st, err
}

// openStorageSettings opens the storage of an operator command and answers
// the settings it was opened with, for commands that need more of them.
func openStorageSettings(g *Globals, f StoreFlags) (*server.Storage, server.Settings, error) {
	s, err := operatorSettings(g, f)
	if err != nil {
		return nil, s, err
	}
	st, err := server.OpenStorage(g.Ctx, s, false, nil, nil)
	return st, s, err
}

// MigrateCmd is `broker migrate`.
type MigrateCmd struct {
	Up     MigrateUpCmd     `cmd:"" default:"1" help:"Apply every pending migration."`
	Down   MigrateDownCmd   `cmd:"" help:"Roll back the newest migration."`
	Status MigrateStatusCmd `cmd:"" help:"List migrations and whether each is applied."`
}

// MigrateUpCmd is `broker migrate up`.
type MigrateUpCmd struct{ StoreFlags }

// withPool runs fn on a pool for the configured database.
func withPool(g *Globals, f StoreFlags, fn func(pool *pgxpool.Pool) error) error {
	s, err := operatorSettings(g, f)
	if err != nil {
		return err
	}
	pool, err := postgres.Connect(g.Ctx, s.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(pool)
}

// Run applies migrations.
func (c *MigrateUpCmd) Run(g *Globals) error {
	return withPool(g, c.StoreFlags, func(pool *pgxpool.Pool) error {
		n, err := postgres.Migrate(g.Ctx, pool, nil)
		if err == nil {
			fmt.Printf("applied %d migration(s)\n", n)
		}
		return err
	})
}

// MigrateDownCmd is `broker migrate down`.
type MigrateDownCmd struct{ StoreFlags }

// Run rolls back one migration.
func (c *MigrateDownCmd) Run(g *Globals) error {
	return withPool(g, c.StoreFlags, func(pool *pgxpool.Pool) error { return postgres.MigrateDown(g.Ctx, pool, nil) })
}

// MigrateStatusCmd is `broker migrate status`.
type MigrateStatusCmd struct{ StoreFlags }

// Run lists migrations.
func (c *MigrateStatusCmd) Run(g *Globals) error {
	return withPool(g, c.StoreFlags, func(pool *pgxpool.Pool) error {
		list, err := postgres.Migrations(g.Ctx, pool)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tAPPLIED\tFILE")
		for _, m := range list {
			fmt.Fprintf(w, "%d\t%v\t%s\n", m.Version, m.Applied, m.Name)
		}
		return w.Flush()
	})
}
