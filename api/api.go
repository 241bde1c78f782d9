// Package api holds the broker's OpenAPI description, openapi.yaml,
// embedded: the broker serves it at /api/v1/openapi.yaml, and the server's
// tests check every answer of /api/v1 against it.
package api

import _ "embed"

// OpenAPI is api/openapi.yaml as it was built in.
//
//go:embed openapi.yaml
var OpenAPI []byte
