package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/admin"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// The admin API (/api/v1/admin, scope admin): what `broker tenants`,
// `broker clients` and `broker keys rotate` do, over pkg/admin. A
// tenant's API client acts on its own tenant only; an operator-level API
// client (`broker clients create --operator`, no tenant) on every tenant,
// and alone creates, disables, enables and deletes tenants and rotates
// keys.

// routesAdmin mounts /api/v1/admin.
func (s *Server) routesAdmin(api *echo.Group) {
	g := api.Group("/admin", s.requireAdmin, checkAPIParams)
	g.GET("/tenants", s.adminTenants)
	g.POST("/tenants", s.adminCreateTenant)
	g.GET("/tenants/:tenant", s.adminTenant)
	g.PATCH("/tenants/:tenant", s.adminUpdateTenant)
	g.DELETE("/tenants/:tenant", s.adminDeleteTenant)
	g.POST("/tenants/:tenant/disable", s.adminSetTenant(true))
	g.POST("/tenants/:tenant/enable", s.adminSetTenant(false))
	g.GET("/clients", s.adminClients)
	g.POST("/clients", s.adminCreateClient)
	g.GET("/clients/:client", s.adminClient)
	g.PATCH("/clients/:client", s.adminUpdateClient)
	g.DELETE("/clients/:client", s.adminDeleteClient)
	g.POST("/clients/:client/rotate-secret", s.adminRotateSecret)
	g.POST("/clients/:client/disable", s.adminSetClient(true))
	g.POST("/clients/:client/enable", s.adminSetClient(false))
	g.POST("/keys/rotate", s.adminRotateKey)
}

// adminActorKey is where requireAdmin leaves the actor.
const adminActorKey = "admin_actor"

// requireAdmin admits a token with the admin scope, of a tenant's API
// client or of an operator-level one.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requireScopeOf(oauth.ScopeAdmin, true)(func(c echo.Context) error {
		caller := callerOf(c)
		a := admin.Actor{ID: caller.ClientID, Tenant: caller.TenantID}
		if caller.Operator {
			a.Tenant = ""
		}
		c.Set(adminActorKey, a)
		return next(c)
	})
}

func actorOf(c echo.Context) admin.Actor {
	a, _ := c.Get(adminActorKey).(admin.Actor)
	return a
}

func (s *Server) adminService() *admin.Service {
	return &admin.Service{Store: s.c.Store, Now: s.c.Now, ForgetClient: s.c.OAuth.ForgetClient, ForgetTenant: s.c.OAuth.ForgetTenant}
}

// adminError answers the service's errors as problem documents.
func adminError(c echo.Context, err error) error {
	var se *admin.SettingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return problemWith(c, http.StatusBadRequest, "Bad Request", se.Error(), map[string]any{"field": se.Setting})
	case errors.Is(err, admin.ErrNothingToUpdate):
		return problem(c, http.StatusBadRequest, "Bad Request", "nothing to update: give at least one setting")
	case errors.Is(err, admin.ErrNotFound):
		return problem(c, http.StatusNotFound, "Not Found", "no such tenant or client for this client")
	case errors.Is(err, admin.ErrOperatorOnly):
		return problem(c, http.StatusForbidden, "Forbidden", "only an operator-level API client may do this (docs/operations.md)")
	case errors.Is(err, admin.ErrExists):
		return problem(c, http.StatusConflict, "Conflict", "the id is taken")
	case errors.Is(err, admin.ErrNotDisabled):
		return problem(c, http.StatusConflict, "Conflict", "disable the tenant first: only a disabled tenant can be deleted")
	}
	return err
}

// decodeBody reads a JSON object body into v, refusing unknown members.
func decodeBody(c echo.Context, v any) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := "the body must be a JSON object of the settings documented in api/openapi.yaml"
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			msg = "unknown member " + f
		}
		return problem(c, http.StatusBadRequest, "Bad Request", msg)
	}
	return nil
}

// badBody reports whether decodeBody already answered.
func badBody(c echo.Context) bool { return c.Response().Committed }

func (s *Server) adminTenants(c echo.Context) error {
	list, err := s.adminService().Tenants(c.Request().Context(), actorOf(c))
	if err != nil {
		return adminError(c, err)
	}
	out := make([]admin.TenantView, 0, len(list))
	for _, t := range list {
		out = append(out, admin.ViewOfTenant(t))
	}
	return c.JSON(http.StatusOK, map[string]any{"tenants": out})
}

func (s *Server) adminTenant(c echo.Context) error {
	t, err := s.adminService().Tenant(c.Request().Context(), actorOf(c), c.Param("tenant"))
	if err != nil {
		return adminError(c, err)
	}
	return c.JSON(http.StatusOK, admin.ViewOfTenant(t))
}

// newTenantBody is the body of POST /api/v1/admin/tenants.
type newTenantBody struct {
	ID string `json:"id"`
	admin.TenantSettings
}

func (s *Server) adminCreateTenant(c echo.Context) error {
	var body newTenantBody
	if err := decodeBody(c, &body); err != nil || badBody(c) {
		return err
	}
	t, err := s.adminService().CreateTenant(c.Request().Context(), actorOf(c), body.ID, body.TenantSettings)
	if err != nil {
		return adminError(c, err)
	}
	return c.JSON(http.StatusCreated, map[string]any{"tenant": admin.ViewOfTenant(t), "webhook_secret": t.WebhookSecret})
}

// tenantChangeBody is the body of PATCH /api/v1/admin/tenants/{tenant}.
type tenantChangeBody struct {
	admin.TenantSettings
	RotateWebhookSecret bool `json:"rotate_webhook_secret,omitempty"`
}

func (s *Server) adminUpdateTenant(c echo.Context) error {
	var body tenantChangeBody
	if err := decodeBody(c, &body); err != nil || badBody(c) {
		return err
	}
	u, err := s.adminService().UpdateTenant(c.Request().Context(), actorOf(c), c.Param("tenant"), body.TenantSettings, body.RotateWebhookSecret)
	if err != nil {
		return adminError(c, err)
	}
	out := map[string]any{"tenant": admin.ViewOfTenant(u.After)}
	if body.RotateWebhookSecret {
		out["webhook_secret"] = u.After.WebhookSecret
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) adminSetTenant(disabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		svc, ctx, a, id := s.adminService(), c.Request().Context(), actorOf(c), c.Param("tenant")
		var t store.Tenant
		var err error
		if disabled {
			t, err = svc.DisableTenant(ctx, a, id)
		} else {
			t, err = svc.EnableTenant(ctx, a, id)
		}
		if err != nil {
			return adminError(c, err)
		}
		return c.JSON(http.StatusOK, admin.ViewOfTenant(t))
	}
}

func (s *Server) adminDeleteTenant(c echo.Context) error {
	d, err := s.adminService().DeleteTenant(c.Request().Context(), actorOf(c), c.Param("tenant"))
	if err != nil {
		return adminError(c, err)
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) adminClients(c echo.Context) error {
	list, err := s.adminService().Clients(c.Request().Context(), actorOf(c), c.QueryParam("tenant"))
	if err != nil {
		return adminError(c, err)
	}
	out := make([]admin.ClientView, 0, len(list))
	for _, cl := range list {
		out = append(out, admin.ViewOfClient(cl))
	}
	return c.JSON(http.StatusOK, map[string]any{"clients": out})
}

func (s *Server) adminClient(c echo.Context) error {
	cl, err := s.adminService().Client(c.Request().Context(), actorOf(c), c.Param("client"))
	if err != nil {
		return adminError(c, err)
	}
	return c.JSON(http.StatusOK, admin.ViewOfClient(cl))
}

// newClientBody is the body of POST /api/v1/admin/clients.
type newClientBody struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	Operator bool   `json:"operator"`
	Public   bool   `json:"public"`
	admin.ClientSettings
}

func (s *Server) adminCreateClient(c echo.Context) error {
	var body newClientBody
	if err := decodeBody(c, &body); err != nil || badBody(c) {
		return err
	}
	cl, secret, err := s.adminService().CreateClient(c.Request().Context(), actorOf(c), admin.NewClient{ID: body.ID, Tenant: body.TenantID,
		Operator: body.Operator, Public: body.Public, Settings: body.ClientSettings})
	if err != nil {
		return adminError(c, err)
	}
	out := map[string]any{"client": admin.ViewOfClient(cl)}
	if secret != "" {
		out["client_secret"] = secret
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) adminUpdateClient(c echo.Context) error {
	var body admin.ClientSettings
	if err := decodeBody(c, &body); err != nil || badBody(c) {
		return err
	}
	cl, err := s.adminService().UpdateClient(c.Request().Context(), actorOf(c), c.Param("client"), body)
	if err != nil {
		return adminError(c, err)
	}
	return c.JSON(http.StatusOK, admin.ViewOfClient(cl))
}

func (s *Server) adminDeleteClient(c echo.Context) error {
	if err := s.adminService().DeleteClient(c.Request().Context(), actorOf(c), c.Param("client")); err != nil {
		return adminError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// rotateBody is the body of POST /api/v1/admin/clients/{client}/rotate-secret.
type rotateBody struct {
	GraceSeconds *int `json:"grace_seconds"`
}

func (s *Server) adminRotateSecret(c echo.Context) error {
	var body rotateBody
	if err := decodeBody(c, &body); err != nil || badBody(c) {
		return err
	}
	grace := 24 * time.Hour
	if body.GraceSeconds != nil {
		grace = time.Duration(*body.GraceSeconds) * time.Second
	}
	cl, secret, err := s.adminService().RotateSecret(c.Request().Context(), actorOf(c), c.Param("client"), grace)
	if err != nil {
		return adminError(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"client": admin.ViewOfClient(cl), "client_secret": secret})
}

func (s *Server) adminSetClient(disabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		svc, ctx, a, id := s.adminService(), c.Request().Context(), actorOf(c), c.Param("client")
		var cl store.Client
		var err error
		if disabled {
			cl, err = svc.DisableClient(ctx, a, id)
		} else {
			cl, err = svc.EnableClient(ctx, a, id)
		}
		if err != nil {
			return adminError(c, err)
		}
		return c.JSON(http.StatusOK, admin.ViewOfClient(cl))
	}
}

// keyBody is the body of POST /api/v1/admin/keys/rotate.
type keyBody struct {
	Kind string `json:"kind"`
}

// adminRotateKey is what `broker keys rotate` does, for the operator: a
// new ID token signing key (the old ones published until their tokens
// expire) or a new personal-data key (older rows re-encrypted by `broker
// keys reseal`, which the API leaves to the operator's cron).
func (s *Server) adminRotateKey(c echo.Context) error {
	var body keyBody
	if err := decodeBody(c, &body); err != nil || badBody(c) {
		return err
	}
	a, ctx := actorOf(c), c.Request().Context()
	if !a.Operator() {
		return adminError(c, admin.ErrOperatorOnly)
	}
	out := map[string]any{"kind": body.Kind}
	switch body.Kind {
	case "signing":
		until := s.c.Now().Add(s.c.Settings.IDTokenLifespan + 5*time.Minute).UTC()
		ids, err := s.c.Signing.Rotate(ctx, until)
		if err != nil {
			return err
		}
		if _, err := s.c.Signing.Prune(ctx); err != nil {
			return err
		}
		out["key_ids"], out["previous_published_until"] = ids, until
	case "pii":
		id, err := s.c.PII.Rotate(ctx)
		if err != nil {
			return err
		}
		out["key_ids"] = []string{id}
	default:
		return problemWith(c, http.StatusBadRequest, "Bad Request", "kind must be signing or pii", map[string]any{"field": "kind"})
	}
	detail, _ := json.Marshal(out)
	if err := s.c.Store.AppendAudit(ctx, store.AuditEntry{At: s.c.Now().UTC(), TenantID: admin.OperatorAuditTenant, Actor: a.ID,
		Action: "rotate_key", Target: body.Kind, Detail: detail}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
