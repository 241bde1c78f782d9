// Package docs holds the broker's documentation, embedded: the broker
// serves it at /docs/<name>.md (discovery's service_documentation is
// /docs/oauth.md unless BROKER_SERVICE_DOCUMENTATION names another URL).
package docs

import "embed"

// Files are docs/*.md as they were built in.
//
//go:embed *.md
var Files embed.FS
