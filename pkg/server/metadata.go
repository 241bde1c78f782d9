package server

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/docs"
)

// discoveryMetadata is the provider's discovery metadata and what only the
// server knows: the integration guide (service_documentation) and the
// personal-data policy pages (op_policy_uri, policy.go).
func (s *Server) discoveryMetadata(c echo.Context) map[string]any {
	m := s.c.OAuth.Discovery(c.Request().Context())
	iss := s.c.Settings.Issuer
	doc := s.c.Settings.ServiceDocumentation
	if doc == "" {
		doc = iss + "/docs/oauth.md"
	}
	m["service_documentation"] = doc
	m["op_policy_uri"] = iss + "/policy"
	return m
}

// serveDoc is GET /docs/{name}.md: a guide of docs/, as built in, as
// Markdown text.
func serveDoc(c echo.Context) error {
	name := c.Param("name")
	if !strings.HasSuffix(name, ".md") || path.Base(name) != name {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	b, err := fs.ReadFile(docs.Files, name)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", b)
}

// routesMetadata serves the documents the discovery metadata names, under
// the pages' rate limit (the policy pages read the store).
func (s *Server) routesMetadata(e *echo.Echo, limit echo.MiddlewareFunc) {
	e.GET("/docs/:name", serveDoc, limit)
	e.GET("/policy", s.policyIndex, limit)
	e.GET("/policy/:tenant", s.policyPage, limit)
}
