package server

import (
	"log/slog"

	"github.com/diarybroker/broker/pkg/sessions"
)

// RouteLibraryLogs makes the libraries that log on their own write through
// logger, so that standard error carries nothing but the broker's JSON
// lines: the standard library's log package (and so anything calling
// log.Print) through slog.SetDefault, and go-redis through its SetLogger.
// The others take the logger where they are made: goose per migration
// (postgres.Migrate), echo's logger in New, http.Server's ErrorLog in
// Serve; pgx logs nothing without a tracer. Process-wide: the server
// commands call it once at start-up; tests do not.
func RouteLibraryLogs(logger *slog.Logger) {
	slog.SetDefault(logger)
	sessions.RouteRedisLogs(logger)
}
