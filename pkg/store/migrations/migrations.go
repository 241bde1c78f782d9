// Package migrations embeds the PostgreSQL schema migrations of the store,
// applied with goose by `broker migrate up` and by `broker serve` at start.
package migrations

import "embed"

// FS holds the SQL migrations, named NNNNN_what.sql in goose's format.
//
//go:embed *.sql
var FS embed.FS
