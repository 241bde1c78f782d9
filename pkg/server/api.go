package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// callerKey is where requireScope leaves the authenticated API caller.
const callerKey = "api_caller"

// requireScope admits a request whose bearer token — an access token of
// the client_credentials grant of an API client, in the Authorization
// header — has scope; the caller (client and tenant) is bound to the request.
func (s *Server) requireScope(scope string) echo.MiddlewareFunc {
	return s.requireScopeOf(scope, false)
}

// requireScopeOf is requireScope that, with operators, also admits an
// operator-level API client (of no tenant).
func (s *Server) requireScopeOf(scope string, operators bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			caller, err := s.c.OAuth.AuthenticateAPI(c.Request().Context(), c.Request(), scope)
			h := c.Response().Header()
			switch {
			case errors.Is(err, oauth.ErrNoToken):
				// RFC 6750 §3.1: no credentials, no error code.
				h.Set("WWW-Authenticate", "Bearer")
				return problem(c, http.StatusUnauthorized, "Unauthorized", "a bearer token from the client_credentials grant is required in the Authorization header")
			case errors.Is(err, oauth.ErrTokenMethod):
				h.Set("WWW-Authenticate", `Bearer error="invalid_request"`)
				return problem(c, http.StatusBadRequest, "Bad Request", "send the access token in the Authorization header, never in the URL")
			case errors.Is(err, oauth.ErrInvalidToken):
				h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				return problem(c, http.StatusUnauthorized, "Unauthorized", "a valid bearer token from the client_credentials grant is required")
			case errors.Is(err, oauth.ErrNotAPIClient):
				return problem(c, http.StatusForbidden, "Forbidden", "only client_credentials tokens of API clients may call the API; a login client's token may not, whatever its scopes")
			case errors.Is(err, oauth.ErrInsufficientScope):
				h.Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
				return problem(c, http.StatusForbidden, "Forbidden", "the token lacks the scope "+scope)
			case err != nil:
				return err
			}
			if caller.TenantID == "" && !(operators && caller.Operator) {
				return problem(c, http.StatusForbidden, "Forbidden", "the client belongs to no tenant: an operator-level client calls /api/v1/admin only")
			}
			c.Set(callerKey, caller)
			return next(c)
		}
	}
}

func callerOf(c echo.Context) *oauth.APICaller {
	caller, _ := c.Get(callerKey).(*oauth.APICaller)
	return caller
}

// routesAPI mounts /api/v1 (api/openapi.yaml).
func (s *Server) routesAPI(e *echo.Echo) {
	api := e.Group("/api/v1")
	// checkAPIParams runs after the caller is known and before any query.
	roster := api.Group("/roster", s.requireScope(oauth.ScopeRoster), checkAPIParams)
	roster.POST("", s.rosterImport)
	roster.PUT("/persons/:id", s.rosterPutPerson)
	roster.DELETE("/persons/:id", s.rosterDeletePerson)
	roster.GET("/persons/:id/links", s.rosterLinks)
	roster.DELETE("/persons/:id/links", s.rosterUnlink)

	api.GET("/consents", s.consentsAPI, s.requireScope(oauth.ScopeConsentRead), checkAPIParams)

	sup := api.Group("/support", s.requireScope(oauth.ScopeSupport), checkAPIParams)
	sup.GET("/attempts/:ref", s.supportAttempt)
	sup.GET("/persons", s.supportPersons)
	sup.POST("/persons/:id/links/suspend", s.supportSuspend)
	sup.POST("/persons/:id/links/resume", s.supportResume)
	sup.DELETE("/persons/:id/links", s.supportUnlink)
	sup.GET("/webhooks", s.supportWebhooks)
	sup.POST("/webhooks/:id/retry", s.supportRetryWebhook)

	s.routesAdmin(api)

	staff := api.Group("/staff", s.requireScope(oauth.ScopeAdmin))
	staff.GET("", s.staffList)
	staff.POST("", s.staffGrant)
	staff.DELETE("/:id", s.staffRevoke)
}

func (s *Server) supportService() *support.Service {
	return &support.Service{Attempts: s.c.Store, Roster: s.c.Store, Links: s.c.Store, Audit: s.c.Store, Index: s.c.PII, Now: s.c.Now}
}

func (s *Server) linkAdmin() *linking.LinkAdmin {
	return &linking.LinkAdmin{Links: s.c.Store, Tokens: s.c.OAuth, Subjects: s.c.Subjects, Events: s.c.Consent}
}

func (s *Server) supportAttempt(c echo.Context) error {
	caller := callerOf(c)
	v, err := s.supportService().Attempt(c.Request().Context(), support.Caller{ClientID: caller.ClientID, TenantID: caller.TenantID}, c.Param("ref"))
	if err != nil {
		return supportError(c, err)
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) supportPersons(c echo.Context) error {
	caller := callerOf(c)
	q := support.PersonQuery{SNILS: c.QueryParam("snils"), LastName: c.QueryParam("last_name"), FirstName: c.QueryParam("first_name"),
		MiddleName: c.QueryParam("middle_name"), BirthDate: c.QueryParam("birth_date")}
	list, err := s.supportService().SearchPersons(c.Request().Context(), support.Caller{ClientID: caller.ClientID, TenantID: caller.TenantID}, q)
	if err != nil {
		return supportError(c, err)
	}
	if list == nil {
		list = []support.PersonView{}
	}
	return c.JSON(http.StatusOK, map[string]any{"persons": list})
}

func supportError(c echo.Context, err error) error {
	switch {
	case errors.Is(err, support.ErrNotFound):
		return problem(c, http.StatusNotFound, "Not Found", "nothing with this reference or id in your tenant")
	case errors.Is(err, support.ErrBadQuery):
		return problem(c, http.StatusBadRequest, "Bad Request", strings.TrimPrefix(err.Error(), "support: bad query: "))
	}
	return err
}

// linkChange runs a link change (unlink, suspend, resume) for a record,
// audits it and answers with the links it touched.
func (s *Server) linkChange(c echo.Context, action string, change func(tenant, id, oid string) ([]store.Link, error)) error {
	caller := callerOf(c)
	id, oid := c.Param("id"), c.QueryParam("esia_oid")
	links, err := change(caller.TenantID, id, oid)
	if errors.Is(err, store.ErrNotFound) {
		return problem(c, http.StatusNotFound, "Not Found", "the record has no such link")
	}
	if err != nil {
		return err
	}
	if err := s.c.Store.AppendAudit(c.Request().Context(), store.AuditEntry{At: s.c.Now().UTC(), TenantID: caller.TenantID,
		Actor: caller.ClientID, Action: action, Target: id}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"links": linkViews(links)})
}

// linkViews are links as the APIs show them (never null).
func linkViews(links []store.Link) []support.LinkView {
	out := make([]support.LinkView, 0, len(links))
	for _, l := range links {
		out = append(out, support.LinkView{ESIAOID: l.ESIAOID, Rung: l.Rung, Status: string(l.Status), Reason: l.Reason, CreatedAt: l.CreatedAt})
	}
	return out
}

func (s *Server) supportSuspend(c echo.Context) error {
	return s.linkChange(c, "suspend_link", func(t, id, oid string) ([]store.Link, error) {
		return s.linkAdmin().Suspend(c.Request().Context(), t, id, oid, linking.SuspendBySupport)
	})
}

func (s *Server) supportResume(c echo.Context) error {
	return s.linkChange(c, "resume_link", func(t, id, oid string) ([]store.Link, error) {
		return s.linkAdmin().Resume(c.Request().Context(), t, id, oid)
	})
}

func (s *Server) supportUnlink(c echo.Context) error {
	return s.linkChange(c, "unlink", func(t, id, oid string) ([]store.Link, error) {
		return s.linkAdmin().Unlink(c.Request().Context(), t, id, oid)
	})
}

func (s *Server) rosterUnlink(c echo.Context) error {
	return s.linkChange(c, "unlink", func(t, id, oid string) ([]store.Link, error) {
		return s.linkAdmin().Unlink(c.Request().Context(), t, id, oid)
	})
}

func (s *Server) rosterLinks(c echo.Context) error {
	caller := callerOf(c)
	links, err := s.c.Store.LinksByRecord(c.Request().Context(), caller.TenantID, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"links": linkViews(links)})
}
