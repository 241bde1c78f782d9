// Package pgtest gives tests a throw-away, migrated PostgreSQL database that
// is dropped when the test ends (a copy of a template database kept per
// schema version, named broker_tmpl_<hash>). The server comes from
// BROKER_TEST_DATABASE_URL (default: postgres@127.0.0.1:5432). When it cannot
// be reached the test is skipped, or fails under CI=true.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/diarybroker/broker/pkg/store/migrations"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/testenv"
)

// DefaultURL is used when BROKER_TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the URL of the test server's maintenance database.
func ServerURL() string {
	if u := os.Getenv("BROKER_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewDatabase creates a migrated database for t and returns its URL. The
// database is a copy of a template migrated once per schema version, which
// is much faster than migrating every test's database.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		testenv.Unavailable(t, "PostgreSQL", err)
	}
	defer admin.Close(context.Background())
	name := "broker_test_" + randomHex()
	var err2 error
	for attempt := 0; ; attempt++ {
		tmpl, err := template(ctx, admin)
		if err != nil {
			t.Fatalf("pgtest: template database: %v", err)
		}
		_, err2 = admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
		var pgErr *pgconn.PgError
		// 55006: another test is copying the template right now; 3D000:
		// another checkout's test process (other migrations) dropped it
		// as stale between the look-up and the copy: build it again.
		if err2 == nil || !errors.As(err2, &pgErr) || (pgErr.Code != "55006" && pgErr.Code != "3D000") || attempt > 100 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	err = err2
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, ServerURL())
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return databaseURL(name)
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func databaseURL(name string) string {
	u, err := url.Parse(ServerURL())
	if err != nil {
		return ""
	}
	u.Path = "/" + name
	return u.String()
}

// template returns the name of the migrated template database for the
// current migrations, building it when missing. Concurrent test processes
// build under private names and rename; the loser drops its copy.
func template(ctx context.Context, admin *pgx.Conn) (string, error) {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrations.FS, path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	name := "broker_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	build := "broker_tmplbuild_" + randomHex()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+build); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, databaseURL(build))
	if err != nil {
		return "", err
	}
	_, err = postgres.Migrate(ctx, pool, nil)
	pool.Close()
	if err != nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+build+" WITH (FORCE)")
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+build+" RENAME TO "+name); err != nil {
		// Another process won the race; use its template.
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+build+" WITH (FORCE)")
	}
	_, _ = admin.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS 'pgtest template built %d'", name, time.Now().Unix()))
	// Templates of other schema versions are dropped a day after they were
	// built: other checkouts (branches with other migrations) may be
	// running their tests against theirs right now.
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database d WHERE datname LIKE 'broker\_tmpl\_%' AND datname <> $1
		AND COALESCE(substring(shobj_description(d.oid, 'pg_database') from 'built ([0-9]+)')::bigint, 0) < $2`,
		name, time.Now().Add(-24*time.Hour).Unix())
	if err == nil {
		var old []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				old = append(old, n)
			}
		}
		rows.Close()
		for _, n := range old {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
		}
	}
	return name, nil
}

// NewPool returns a pool on a fresh migrated database, closed at cleanup.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Connect(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Cut makes the database of databaseURL unreachable, as a restart or a
// network partition does for the broker: new connections are refused
// (ALLOW_CONNECTIONS false) and the open ones terminated
// (pg_terminate_backend). The returned function lets connections in again;
// the database is dropped at cleanup either way.
func Cut(t testing.TB, databaseURL string) (restore func()) {
	t.Helper()
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		t.Fatalf("pgtest: cut: %v", err)
	}
	name := cfg.Database
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			t.Fatalf("pgtest: cut: %q is not a database of NewDatabase", name)
		}
	}
	admin(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	admin(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+name+"'")
	return func() { admin(t, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true") }
}

// admin runs one statement on the server's maintenance database.
func admin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		testenv.Unavailable(t, "PostgreSQL", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
