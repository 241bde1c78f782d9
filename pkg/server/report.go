package server

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/support"
)

// «Сообщить о проблеме» (docs/support.md): the pages of a login that found
// no record, several, or a conflicting one offer a short form that opens a
// support ticket bound to the reference code. The form is anonymous, so
// it is bounded: reportsPerMinute per client IP, reportBodyLimit bytes a
// request, and the store keeps at most a contact and a comment of
// store.MaxContactLength and store.MaxTicketComment characters.
const (
	reportsPerMinute = 5
	reportBodyLimit  = "8K"
)

// reportForm is the form on a failure page (templates/error.html).
type reportForm struct {
	CSRF, ReportRef  string
	Contact, Comment string
	Problem          string // why the last submission was refused
}

// reportFormFor is the form of a failed login's page when its reason is
// one a ticket can help with, nil otherwise (or without a CSRF token: the
// page was not rendered by a route of the CSRF middleware).
func reportFormFor(c echo.Context, res *login.Result) *reportForm {
	token, _ := c.Get("csrf").(string)
	if token == "" || res.Pending.Ref == "" || res.Pending.Purpose == login.PurposeSupport || !support.Reportable(res.Reason) {
		return nil
	}
	return &reportForm{CSRF: token, ReportRef: login.FormatRef(res.Pending.Ref)}
}

// routesReport adds POST /login/report.
func (s *Server) routesReport(e *echo.Echo) {
	limit := rateLimit(s.c.Sessions, reportsPerMinute, s.c.Metrics, s.c.Logger, false)
	e.POST("/login/report", s.report, middleware.BodyLimit(reportBodyLimit), limit, s.csrf())
}

// report is POST /login/report: a ticket for the failed login of the
// form's reference code. The contact is never logged.
func (s *Server) report(c echo.Context) error {
	ref, contact, comment := c.FormValue("ref"), c.FormValue("contact"), c.FormValue("comment")
	desk := s.ticketDesk()
	_, err := desk.File(c.Request().Context(), ref, contact, comment)
	formatted := ref
	if r, perr := login.ParseRef(ref); perr == nil {
		formatted = login.FormatRef(r)
	}
	again := func(problem string) error {
		token, _ := c.Get("csrf").(string)
		return render(c, http.StatusUnprocessableEntity, "error", Page{Title: "Проверьте сообщение", Text: problem, Ref: formatted,
			Data: &reportForm{CSRF: token, ReportRef: formatted, Contact: contact, Comment: comment, Problem: problem}})
	}
	switch {
	case errors.Is(err, support.ErrBadContact):
		return again("Укажите адрес электронной почты (например, ivanova@mail.ru) или номер телефона (например, +7 900 123-45-67) — или оставьте поле пустым.")
	case errors.Is(err, support.ErrBadComment):
		return again("Комментарий слишком длинный: не больше 1000 символов.")
	case errors.Is(err, support.ErrBadQuery), errors.Is(err, support.ErrNotFound):
		return errorPage(c, http.StatusNotFound, "Сообщение не отправлено",
			"Код обращения не найден или по нему нельзя сообщить о проблеме. Вернитесь в электронный дневник и попробуйте войти снова.", "", "")
	case errors.Is(err, support.ErrTicketOpen):
		return render(c, http.StatusOK, "report", Page{Title: "Сообщение уже получено",
			Text: "О проблеме с этим кодом обращения уже сообщили, его проверяют в школе или в службе поддержки дневника.", Ref: formatted})
	case err != nil:
		return err
	}
	return render(c, http.StatusOK, "report", Page{Title: "Сообщение отправлено",
		Text: "Спасибо! Школа или служба поддержки дневника проверит вашу запись по коду обращения.", Ref: formatted})
}
