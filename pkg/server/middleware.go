package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/diarybroker/broker/pkg/sessions"
)

type ctxKey string

// requestLogger logs one JSON line per request: id, method, route pattern
// (never the raw path or query, which may carry codes or tokens), status
// and duration. It also counts the request in the metrics.
func requestLogger(log *slog.Logger, m *Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			status := c.Response().Status
			d := time.Since(start)
			m.HTTPRequests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
			m.HTTPDuration.WithLabelValues(route).Observe(d.Seconds())
			level := slog.LevelInfo
			switch {
			case status == http.StatusServiceUnavailable:
				// A service the broker needs is down (ESIA, PostgreSQL,
				// Redis): the failure is logged once where it is found (the
				// ESIA circuit breaker's line), not as an error per request.
				level = slog.LevelWarn
			case status >= 500:
				level = slog.LevelError
			}
			if route == "/healthz" || route == "/readyz" || route == "/metrics" {
				level = slog.LevelDebug
			}
			log.LogAttrs(c.Request().Context(), level, "http request",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000))
			return nil
		}
	}
}

// recoverer turns a panic into a 500 without echoing the panic value to
// the person; the log gets the stack, which never holds request bodies.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					buf := make([]byte, 8<<10)
					buf = buf[:runtime.Stack(buf, false)]
					log.Error("panic in handler", "route", c.Path(),
						"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "stack", string(buf))
					err = echo.NewHTTPError(http.StatusInternalServerError, "internal error")
				}
			}()
			return next(c)
		}
	}
}

// securityHeaders sets strict headers on every answer.
func securityHeaders(https bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			// Codes and states travel in URLs: never leak them in Referer.
			h.Set("Referrer-Policy", "no-referrer")
			csp := "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
			if strings.HasPrefix(c.Request().URL.Path, "/esia-sim/") {
				// The dev-mode simulator's pages carry their own inline styles.
				csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
			}
			h.Set("Content-Security-Policy", csp)
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if https {
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			if isAPIPath(c.Request().URL.Path) {
				// Tokens, claims and personal data: no cache may keep any
				// answer, success or error (RFC 6749 §5.1, RFC 6750 §5.3,
				// RFC 7662 §4), the 429 and 404 of the router included.
				h.Set("Cache-Control", "no-store")
				h.Set("Pragma", "no-cache")
			}
			return next(c)
		}
	}
}

// rateLimit allows perMinute requests per client IP and route, counted in
// the shared sessions store so that every replica sees the same counts.
// Over the limit: 429 with Retry-After, as JSON or a Russian page.
func rateLimit(st sessions.Store, perMinute int, m *Metrics, log *slog.Logger, json bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if perMinute <= 0 {
			return next
		}
		return func(c echo.Context) error {
			key := fmt.Sprintf("rl:%s:%s", c.Path(), c.RealIP())
			n, err := st.Hit(c.Request().Context(), key, time.Minute)
			if err != nil {
				// Fail open: a rate limiter outage must not stop logins.
				log.WarnContext(c.Request().Context(), "rate limiter unavailable", "error", err)
				return next(c)
			}
			if n <= int64(perMinute) {
				return next(c)
			}
			m.RateLimited.WithLabelValues(c.Path()).Inc()
			c.Response().Header().Set("Retry-After", "60")
			if json {
				return c.JSON(http.StatusTooManyRequests, map[string]string{
					"error": "temporarily_unavailable", "error_description": "too many requests, retry later"})
			}
			return errorPage(c, http.StatusTooManyRequests, "Слишком много попыток входа",
				"С вашего адреса было слишком много попыток входа. Подождите минуту и попробуйте снова.", "", "")
		}
	}
}

func requestID() echo.MiddlewareFunc {
	return middleware.RequestIDWithConfig(middleware.RequestIDConfig{})
}

func isAPIPath(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/oauth2/token") ||
		strings.HasPrefix(p, "/oauth2/introspect") || strings.HasPrefix(p, "/oauth2/revoke") || strings.HasPrefix(p, "/userinfo")
}
