package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// Pages of a login the operator stopped: a disabled tenant (`broker
// tenants disable`) or a disabled client (`broker clients disable`).
const (
	suspendedTitle = "Сервис приостановлен"
	suspendedText  = "Вход в этот электронный дневник через Госуслуги временно приостановлен оператором. " +
		"Ваши данные в безопасности. Обратитесь в поддержку дневника и назовите код обращения."
	clientOffTitle = "Вход через это приложение отключён"
	clientOffText  = "Вход через это приложение дневника временно отключён оператором. " +
		"Попробуйте войти через сайт дневника или обратитесь в его поддержку и назовите код обращения."
)

// refusedClient answers whether the authorization request's client exists
// but may not log anyone in — it, or its tenant, is disabled — with its
// page; ok is false when the request failed for another reason.
func (s *Server) refusedClient(c echo.Context, clientID string) (ok bool, err error) {
	ctx := c.Request().Context()
	cl, err := s.c.Store.GetClient(ctx, clientID)
	if err != nil {
		return false, nil // unknown, or unreadable: the caller's page says so
	}
	if cl.Disabled() {
		return true, s.suspended(c, cl.TenantID, cl.ID, clientOffTitle, clientOffText)
	}
	t, err := s.c.Store.GetTenant(ctx, cl.TenantID)
	if err != nil || !t.Disabled() {
		return false, nil
	}
	return true, s.suspended(c, t.ID, cl.ID, suspendedTitle, suspendedText)
}

// suspendedTenant answers the parent's page of a disabled tenant.
func (s *Server) suspendedTenant(c echo.Context, t store.Tenant) error {
	return s.suspended(c, t.ID, "", suspendedTitle, suspendedText)
}

// suspended is the page of a refused login with a reference code that the
// log line carries (tenant and client ids only, no personal data).
func (s *Server) suspended(c echo.Context, tenantID, clientID, title, text string) error {
	ref := login.NewRef()
	s.c.Metrics.Logins.WithLabelValues("suspended").Inc()
	s.c.Logger.InfoContext(c.Request().Context(), "login refused: disabled by the operator", "ref", ref,
		"tenant", tenantID, "client", clientID)
	return errorPage(c, http.StatusForbidden, title, text, login.FormatRef(ref), "")
}
