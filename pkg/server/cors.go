package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/store"
)

// CORS for browser apps (issue 9, provider 6; docs/oauth.md "Browser
// apps"). A public client (PKCE, no secret) may call the token,
// revocation and userinfo endpoints from the origins of its registered
// redirect URIs, and from those only:
//
//   - token and revocation: the client is the form's client_id;
//   - userinfo: the client is the access token's;
//   - a preflight carries neither, so it is answered for any origin of some
//     public client's redirect URIs; the answer itself decides, as above,
//     whether the browser may read it;
//   - discovery and the JWKS are public data that any origin may read.
//
// No credentials (cookies) are ever allowed: browser apps send tokens.

// corsKind says how an endpoint decides which origin may read it.
type corsKind int

const (
	corsPublicData  corsKind = iota // discovery, JWKS: any origin
	corsFormClient                  // token, revocation: the form's client_id
	corsTokenClient                 // userinfo: the access token's client
)

// corsOriginsTTL is how long a replica keeps the union of the public
// clients' origins that answers preflights.
const corsOriginsTTL = 30 * time.Second

// publicOrigins caches the origins of every public client's redirect URIs.
type publicOrigins struct {
	mu      sync.Mutex
	origins map[string]bool
	until   time.Time
}

// cors is the middleware of an endpoint of kind k.
func (s *Server) cors(k corsKind) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			h := c.Response().Header()
			h.Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			if origin == "" {
				return next(c)
			}
			if k == corsPublicData {
				h.Set("Access-Control-Allow-Origin", "*")
				return next(c)
			}
			if s.corsAllows(r, k, origin) {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			}
			return next(c)
		}
	}
}

// corsAllows says whether origin may read the answer to r.
func (s *Server) corsAllows(r *http.Request, k corsKind, origin string) bool {
	ctx := r.Context()
	switch k {
	case corsFormClient:
		// The form is parsed here already; the endpoint reads r.PostForm.
		if err := r.ParseForm(); err != nil {
			return false
		}
		return s.clientAllowsOrigin(ctx, r.PostForm.Get("client_id"), origin)
	case corsTokenClient:
		clientID, ok := s.c.OAuth.AccessTokenClient(ctx, r)
		if !ok {
			// No valid token: the answer is an error that says nothing, which
			// a browser app must be able to read to sign in again.
			return s.publicOrigin(ctx, origin)
		}
		return s.clientAllowsOrigin(ctx, clientID, origin)
	}
	return false
}

// clientAllowsOrigin: the client is public and origin is that of one of
// its redirect URIs.
func (s *Server) clientAllowsOrigin(ctx context.Context, clientID, origin string) bool {
	if clientID == "" {
		return false
	}
	cl, err := s.c.Store.GetClient(ctx, clientID)
	if err != nil || !cl.Public || !cl.DisabledAt.IsZero() {
		return false
	}
	return slices.Contains(clientOrigins(cl), origin)
}

// publicOrigin: origin is that of some public client's redirect URI.
func (s *Server) publicOrigin(ctx context.Context, origin string) bool {
	p := &s.corsOrigins
	p.mu.Lock()
	defer p.mu.Unlock()
	now := s.c.Now()
	if p.origins == nil || now.After(p.until) {
		clients, err := s.c.Store.ListClients(ctx, "")
		if err != nil {
			return false
		}
		p.origins = map[string]bool{}
		for _, cl := range clients {
			if cl.Public && cl.DisabledAt.IsZero() {
				for _, o := range clientOrigins(cl) {
					p.origins[o] = true
				}
			}
		}
		p.until = now.Add(corsOriginsTTL)
	}
	return p.origins[origin]
}

// clientOrigins are the web origins (scheme://host[:port]) of a client's
// redirect URIs; custom schemes of native apps have none.
func clientOrigins(cl store.Client) []string {
	var out []string
	for _, raw := range cl.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			continue
		}
		o := u.Scheme + "://" + strings.ToLower(u.Host)
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// preflight answers a CORS preflight (OPTIONS) of an endpoint of kind k
// that takes methods and, from a browser app, headers.
func (s *Server) preflight(k corsKind, methods, headers string) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Add("Vary", "Origin")
		origin := c.Request().Header.Get("Origin")
		allowed := origin != "" && (k == corsPublicData || s.publicOrigin(c.Request().Context(), origin))
		if allowed {
			if k == corsPublicData {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", headers)
			h.Set("Access-Control-Max-Age", "600")
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// routesCORS answers the preflights of the endpoints browser apps call.
func (s *Server) routesCORS(e *echo.Echo) {
	e.OPTIONS("/oauth2/token", s.preflight(corsFormClient, "POST", "Content-Type"))
	e.OPTIONS("/oauth2/revoke", s.preflight(corsFormClient, "POST", "Content-Type"))
	e.OPTIONS("/userinfo", s.preflight(corsTokenClient, "GET, POST", "Authorization, Content-Type"))
	e.OPTIONS("/.well-known/jwks.json", s.preflight(corsPublicData, "GET", "Content-Type"))
	e.OPTIONS("/.well-known/openid-configuration", s.preflight(corsPublicData, "GET", "Content-Type"))
	e.OPTIONS("/.well-known/oauth-authorization-server", s.preflight(corsPublicData, "GET", "Content-Type"))
}
