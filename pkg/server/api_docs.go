package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/api"
)

// apiDocsCSP is the API page's policy: the strict one of every page plus
// the vendored Swagger UI's own script, and fetching the spec from the
// broker itself ('self' only: still no inline script, no other origin).
// Swagger UI draws its icons as data: images.
const apiDocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// apiDocsPage is /api/v1/docs: Swagger UI (pkg/server/static/apidocs),
// and without JavaScript a link to the spec itself.
const apiDocsPage = `<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API брокера ЕСИА — описание</title>
<link rel="stylesheet" href="/static/apidocs/swagger-ui.css">
<script src="/static/apidocs/swagger-ui-bundle.js" defer></script>
<script src="/static/apidocs/apidocs.js" defer></script>
</head>
<body>
<main>
<h1>API брокера ЕСИА</h1>
<div id="swagger-ui"></div>
<noscript><p>Эта страница показывает описание API с помощью JavaScript. Без него описание доступно файлом:
<a href="/api/v1/openapi.yaml">openapi.yaml</a> (OpenAPI 3.1).</p></noscript>
</main>
</body>
</html>
`

// APIDocsPaths are the paths under /api/v1 that describe the API rather
// than belong to it: public, and not operations of api/openapi.yaml.
var APIDocsPaths = map[string]bool{"/api/v1/openapi.yaml": true, "/api/v1/docs": true}

// routesAPIDocs serves the API's description: the spec itself
// (api/openapi.yaml, as built in) and a readable page of it. Both are
// public: no token is needed to read what the API answers.
func (s *Server) routesAPIDocs(e *echo.Echo) {
	e.GET("/api/v1/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", api.OpenAPI)
	})
	e.GET("/api/v1/docs", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", apiDocsCSP)
		return c.HTML(http.StatusOK, apiDocsPage)
	})
}
