package server

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
)

// journaled keeps the attempt events a login page's request records and
// writes them — one write per attempt, where one by one they were a
// transaction each (issue 13) — just before its answer is written, so
// that the person's reference code finds them stored, or when it ends
// without writing one (login.WithJournal).
func (s *Server) journaled(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := login.WithJournal(c.Request().Context())
		c.SetRequest(c.Request().WithContext(ctx))
		c.Response().Before(func() { s.c.Login.FlushJournal(ctx) })
		defer s.c.Login.FlushJournal(ctx)
		return next(c)
	}
}

// heldAnswer is an http.ResponseWriter that keeps an answer, to be
// written later (writeTo): the code's redirect is held until the
// attempt's "issued" event joins the request's journal.
type heldAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newHeldAnswer() *heldAnswer { return &heldAnswer{header: http.Header{}} }

// Header implements http.ResponseWriter.
func (h *heldAnswer) Header() http.Header { return h.header }

// Write implements http.ResponseWriter.
func (h *heldAnswer) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

// WriteHeader implements http.ResponseWriter.
func (h *heldAnswer) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

// writeTo writes the held answer to w, its headers over those w has.
func (h *heldAnswer) writeTo(w http.ResponseWriter) error {
	for k, v := range h.header {
		w.Header()[k] = v
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	_, err := w.Write(h.body.Bytes())
	return err
}
