package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// unavailable reports whether err means that the database could not be
// used at all — no connection, a connection lost, a server shutting down,
// restarting, out of connections or read-only after a failover — rather
// than that it refused this statement. Such errors become
// store.ErrUnavailable (mapErr), so that the broker answers "try again
// later" instead of taking the outage for a missing client or token.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		// The caller gave up (a person closed the page): not an outage.
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection_exception
			return true
		case strings.HasPrefix(pgErr.Code, "53"): // insufficient_resources: too many connections, disk full
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin_shutdown (pg_terminate_backend), crash_shutdown, cannot_connect_now
			return true
		case pgErr.Code == "25006": // read_only_sql_transaction: a standby after a failover
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || pgconn.Timeout(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}
