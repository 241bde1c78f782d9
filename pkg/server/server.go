package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// Server is the broker's HTTP server.
type Server struct {
	c    *Components
	echo *echo.Echo
	demo *demo
	// corsOrigins caches the public clients' origins (cors.go).
	corsOrigins publicOrigins
	// handler is echo, wrapped by wrapHandler when the tests set it.
	handler http.Handler
}

// wrapHandler, when set (only by this package's tests), wraps every
// server's handler: the tests check each answer of /api/v1 against
// api/openapi.yaml through it.
var wrapHandler func(http.Handler) http.Handler

// New builds the HTTP routes over the components.
func New(c *Components) (*Server, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// echo's own logger (gommon) writes text of its own: into slog instead.
	e.Logger.SetHeader("echo ${level}")
	e.Logger.SetOutput(slog.NewLogLogger(c.Logger.Handler(), slog.LevelWarn).Writer())
	s := &Server{c: c, echo: e}
	var trust []echo.TrustOption
	for _, cidr := range c.Settings.TrustedProxies {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, fmt.Errorf("settings: trusted proxy %q: %w", cidr, err)
		}
		trust = append(trust, echo.TrustIPRange(n))
	}
	if len(trust) > 0 {
		e.IPExtractor = echo.ExtractIPFromXFFHeader(append(trust, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))...)
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	e.HTTPErrorHandler = s.handleError

	e.Use(requestID(), requestLogger(c.Logger, c.Metrics), recoverer(c.Logger),
		securityHeaders(strings.HasPrefix(c.Settings.Issuer, "https://")),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M",
			// The roster upload streams and bounds itself (MaxRosterBody).
			Skipper: func(ec echo.Context) bool { return ec.Request().URL.Path == "/api/v1/roster" }}))

	limitPage := rateLimit(c.Sessions, c.Settings.RateLimit, c.Metrics, c.Logger, false)
	limitAPI := rateLimit(c.Sessions, c.Settings.RateLimit, c.Metrics, c.Logger, true)
	p := c.OAuth

	discovery := func(ec echo.Context) error {
		ec.Response().Header().Set("Cache-Control", "public, max-age=300")
		return ec.JSON(http.StatusOK, s.discoveryMetadata(ec))
	}
	e.GET("/.well-known/openid-configuration", discovery, s.cors(corsPublicData))
	// RFC 8414: OAuth 2.0 clients (not OpenID Connect ones) look here; the
	// same metadata, whose issuer has no path, so no path is inserted.
	e.GET("/.well-known/oauth-authorization-server", discovery, s.cors(corsPublicData))
	e.GET("/.well-known/jwks.json", echo.WrapHandler(http.HandlerFunc(p.ServeJWKS)), s.cors(corsPublicData))
	e.GET("/oauth2/auth", s.authorize, limitPage)
	e.POST("/oauth2/token", echo.WrapHandler(http.HandlerFunc(p.ServeToken)), limitAPI, s.cors(corsFormClient))
	e.POST("/oauth2/revoke", echo.WrapHandler(http.HandlerFunc(p.ServeRevoke)), limitAPI, s.cors(corsFormClient))
	e.POST("/oauth2/introspect", echo.WrapHandler(http.HandlerFunc(p.ServeIntrospect)), limitAPI)
	e.GET("/userinfo", echo.WrapHandler(http.HandlerFunc(p.ServeUserinfo)), s.cors(corsTokenClient))
	e.POST("/userinfo", echo.WrapHandler(http.HandlerFunc(p.ServeUserinfo)), s.cors(corsTokenClient))
	s.routesCORS(e)
	e.GET("/esia/callback", s.esiaCallback, limitPage, s.csrf(), s.journaled)
	e.POST("/login/role", s.chosenRole, limitPage, s.csrf(), s.journaled)
	e.POST("/consent", s.consentAnswer, limitPage, s.csrf(), s.journaled)
	e.POST("/login/continue", s.continueLogin, limitPage, s.csrf(), s.journaled)
	e.GET("/login/result/:id", s.result, limitPage, s.csrf())
	e.GET("/parent", s.parentPage, limitPage, s.csrf())
	e.GET("/parent/qr.png", s.parentQR, limitPage)
	e.POST("/parent/consent", s.parentDecision, limitPage, s.csrf())
	e.POST("/parent/logout", s.parentLogout, s.csrf())
	e.GET("/support", s.supportHome, limitPage, s.csrf())
	e.POST("/support/search", s.supportSearch, limitPage, s.csrf())
	e.POST("/support/logout", s.supportLogout, s.csrf())
	e.GET("/support/attempts/:ref", s.supportAttemptPage, limitPage, s.csrf())
	e.POST("/support/attempts/:ref/recheck", s.supportRecheck, limitPage, s.csrf())
	e.POST("/support/unmask", s.supportUnmask, limitPage, s.csrf())
	s.routesSupportRecords(e, limitPage)
	e.GET("/oauth2/logout", s.logout, limitPage)
	e.GET("/esia/logout", s.logoutReturn)

	s.routesReport(e)
	s.routesTickets(e, limitPage)
	s.routesAPI(e)
	s.routesAPIDocs(e)
	s.routesMetadata(e, limitPage)

	e.GET("/healthz", func(ec echo.Context) error { return ec.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	if c.Settings.MetricsAddr == "" { // dev only: serve always has a metrics listener
		e.GET("/metrics", echo.WrapHandler(s.metricsHandler()))
	}
	e.GET("/static/*", echo.WrapHandler(staticHandler()))

	if c.Simulator != nil {
		sim := http.StripPrefix("/esia-sim", c.Simulator)
		e.Any("/esia-sim/*", echo.WrapHandler(sim))
	}
	if c.Settings.Dev {
		s.demo = newDemo(c)
		e.GET("/", func(ec echo.Context) error { return ec.Redirect(http.StatusFound, "/demo") })
		e.GET("/demo", s.demo.home)
		e.GET("/demo/login", s.demo.login)
		e.GET("/demo/callback", s.demo.callback)
	}
	s.handler = e
	if wrapHandler != nil {
		s.handler = wrapHandler(e)
	}
	return s, nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on l until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	return serveUntilDone(ctx, l, s.Handler(), s.c.Logger)
}

// MetricsHandler answers GET /metrics (Prometheus) and nothing else: the
// handler of the metrics listener (Settings.MetricsAddr).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	return mux
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.c.Metrics.Registry, promhttp.HandlerOpts{})
}

// ServeMetrics answers MetricsHandler on l until ctx is done.
func (s *Server) ServeMetrics(ctx context.Context, l net.Listener) error {
	return serveUntilDone(ctx, l, s.MetricsHandler(), s.c.Logger)
}

// serveUntilDone answers h on l until ctx is done, then shuts down
// gracefully. net/http's own complaints (TLS handshakes, panics, bad
// requests) go to log, not to the standard logger's text.
func serveUntilDone(ctx context.Context, l net.Listener, h http.Handler, log *slog.Logger) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ready is /readyz: every backing service must answer.
func (s *Server) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	out := map[string]string{}
	status := http.StatusOK
	for name, check := range s.c.Ready {
		if err := check(ctx); err != nil {
			out[name] = "unavailable"
			status = http.StatusServiceUnavailable
			s.c.Logger.WarnContext(ctx, "readiness check failed", "service", name, "error", err)
		} else {
			out[name] = "ok"
		}
	}
	return c.JSON(status, map[string]any{"status": map[bool]string{true: "ok", false: "unavailable"}[status == http.StatusOK], "checks": out})
}

// handleError answers errors that handlers returned: problem JSON for APIs,
// a Russian page for people. Internal details are logged, never shown.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed || s.handleStoreFailure(err, c) {
		return
	}
	code := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
	}
	// A string no store keeps that a handler did not check first is still
	// the client's bad input, not the server's failure.
	if errors.Is(err, store.ErrInvalidField) {
		if isAPIPath(c.Request().URL.Path) {
			_ = fieldProblem(c, err)
			return
		}
		code = http.StatusBadRequest
	}
	ref := ""
	if code >= 500 {
		ref = login.NewRef() // shown on the page, so that support finds this line
		s.c.Logger.ErrorContext(c.Request().Context(), "request failed", "route", c.Path(),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "ref", ref, "error", err)
	}
	if isAPIPath(c.Request().URL.Path) {
		_ = problem(c, code, http.StatusText(code), "")
		return
	}
	title, text, hint := "Ошибка", "Что-то пошло не так. Попробуйте ещё раз.", ""
	switch code {
	case http.StatusNotFound:
		title, text = "Страница не найдена", "Такой страницы нет. Проверьте адрес."
		hint = "Если вы пришли сюда из электронного дневника, вернитесь в него."
	case http.StatusMethodNotAllowed:
		title, text = "Неверный запрос", "Эта страница так не открывается. Вернитесь в электронный дневник."
	case http.StatusRequestEntityTooLarge:
		title, text = "Слишком большой запрос", "Запрос слишком большой."
	}
	_ = render(c, code, "error", Page{Title: title, Text: text, Ref: login.FormatRef(ref), Hint: hint})
}

// problem writes an RFC 9457 problem document.
func problem(c echo.Context, status int, title, detail string) error {
	body := map[string]any{"type": "about:blank", "title": title, "status": status}
	if detail != "" {
		body["detail"] = detail
	}
	c.Response().Header().Set("Content-Type", "application/problem+json")
	c.Response().WriteHeader(status)
	return json.NewEncoder(c.Response()).Encode(body)
}

// Route is one registered route.
type Route struct{ Method, Path string }

// Routes lists the server's routes (for documentation checks).
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		if strings.HasPrefix(r.Method, "echo_") { // echo's group placeholders
			continue
		}
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}
