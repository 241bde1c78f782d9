package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/store"
)

// webhookView is an outbox event as support sees it.
type webhookView struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error,omitempty"`
	CreatedAt   string `json:"created_at"`
	NextAttempt string `json:"next_attempt_at,omitempty"`
	DeliveredAt string `json:"delivered_at,omitempty"`
}

// supportWebhooks is GET /api/v1/support/webhooks?status=dead|pending|delivered:
// the tenant's webhook deliveries, dead letters included.
func (s *Server) supportWebhooks(c echo.Context) error {
	caller := callerOf(c)
	status := store.EventStatus(c.QueryParam("status"))
	switch status {
	case "", store.EventPending, store.EventDelivered, store.EventDead:
	default:
		return problem(c, http.StatusBadRequest, "Bad Request", "status must be pending, delivered or dead")
	}
	limit := 100
	if q := c.QueryParam("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > maxWebhookList {
			return problemWith(c, http.StatusBadRequest, "Bad Request", fmt.Sprintf("limit must be an integer from 1 to %d", maxWebhookList),
				map[string]any{"field": "limit"})
		}
		limit = n
	}
	ctx := c.Request().Context()
	events, err := s.c.Consent.Store.ListEvents(ctx, caller.TenantID, status, limit)
	if err != nil {
		return err
	}
	// Like every support read, audited; a read that cannot be audited is
	// refused.
	if err := s.c.Store.AppendAudit(ctx, store.AuditEntry{At: s.c.Now().UTC(), TenantID: caller.TenantID, Actor: caller.ClientID,
		Action: "read_webhooks", Detail: mustJSON(map[string]any{"status": string(status), "events": len(events)})}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	out := make([]webhookView, 0, len(events))
	for _, e := range events {
		v := webhookView{ID: e.ID, Type: e.Type, Status: string(e.Status), Attempts: e.Attempts, LastError: e.LastError,
			CreatedAt: e.CreatedAt.Format(timeLayout)}
		if e.Status == store.EventPending {
			v.NextAttempt = e.NextAttemptAt.Format(timeLayout)
		}
		if !e.DeliveredAt.IsZero() {
			v.DeliveredAt = e.DeliveredAt.Format(timeLayout)
		}
		out = append(out, v)
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

// supportRetryWebhook is POST /api/v1/support/webhooks/{id}/retry: a dead
// letter is sent again at once.
func (s *Server) supportRetryWebhook(c echo.Context) error {
	caller := callerOf(c)
	ctx := c.Request().Context()
	// The retry and its audit entry land together or not at all.
	err := s.c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.c.Store.RetryEvent(ctx, caller.TenantID, c.Param("id"), s.c.Now().UTC()); err != nil {
			return err
		}
		if err := s.c.Store.AppendAudit(ctx, store.AuditEntry{At: s.c.Now().UTC(), TenantID: caller.TenantID, Actor: caller.ClientID,
			Action: "retry_webhook", Target: c.Param("id")}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem(c, http.StatusNotFound, "Not Found", "no such webhook event in your tenant")
	case errors.Is(err, store.ErrInactive):
		return problem(c, http.StatusConflict, "Conflict", "only a dead webhook can be retried")
	case err != nil:
		return err
	}
	s.c.DeliverWebhooks(ctx)
	return c.NoContent(http.StatusAccepted)
}

// maxWebhookList is the most events one GET /api/v1/support/webhooks
// lists (the maximum of its limit in api/openapi.yaml).
const maxWebhookList = 500

const timeLayout = "2006-01-02T15:04:05Z07:00"
