package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"rsc.io/qr"

	"github.com/diarybroker/broker/pkg/login"
)

// qrScale is the pixels per module of the parent page's QR code: with
// the quiet zone, about 300 px for the page's address, sharp on a phone.
const qrScale = 6

// parentQR is GET /parent/qr.png?tenant=T: the QR code of the tenant's
// parent page, for the child's page (an image the strict CSP allows, from
// 'self'). It stores nothing and says nothing a login URL does not.
func (s *Server) parentQR(c echo.Context) error {
	t, err := s.c.Store.GetTenant(c.Request().Context(), c.QueryParam("tenant"))
	if login.StoreFailure(err) != "" {
		return err
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	code, err := qr.Encode(s.parentURL(t.ID), qr.M)
	if err != nil {
		return err
	}
	code.Scale = qrScale
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "image/png", code.PNG())
}
