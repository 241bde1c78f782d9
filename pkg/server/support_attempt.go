package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// unmaskWindow is the window of the support console's «Показать» limit.
const unmaskWindow = time.Hour

// attemptDesk is the support console's attempt page over the store and
// the logins' ladder.
func (s *Server) attemptDesk() *support.AttemptDesk {
	return &support.AttemptDesk{Store: s.c.Store, Ladder: s.c.Ladder, Now: s.c.Now}
}

// staffFor returns the signed-in staff member and their grants, or, when
// there is none, writes the answer itself (a new sign-in for a GET, «Сеанс
// истёк» for a form, the no-access page without grants) and returns nil.
func (s *Server) staffFor(c echo.Context, form bool) (*staffSession, []store.StaffGrant, error) {
	ss, grants, err := s.supportSession(c)
	switch {
	case err != nil:
		return nil, nil, err
	case ss == nil && form:
		return nil, nil, errorPage(c, http.StatusBadRequest, "Сеанс истёк", "Войдите в консоль поддержки заново.", "", "/support")
	case ss == nil:
		return nil, nil, s.beginSignIn(c, login.PurposeSupport, s.c.Login.BeginSupport)
	case len(grants) == 0:
		return nil, nil, noSupportAccess(c, "")
	}
	return ss, grants, nil
}

// supportAttemptPage is GET /support/attempts/{ref}?grant=: the attempt page
// within the scope of the grant, or the «не найдено» page — the same for
// an attempt outside the scope as for one that does not exist.
func (s *Server) supportAttemptPage(c echo.Context) error {
	ss, grants, err := s.staffFor(c, false)
	if ss == nil {
		return err
	}
	g := pickGrant(grants, c.QueryParam("grant"))
	d, err := s.attemptDesk().Attempt(c.Request().Context(), g.Scope(), g.ID, c.Param("ref"))
	if errors.Is(err, support.ErrNotFound) {
		return s.attemptNotFound(c, ss, grants, g)
	}
	if err != nil {
		return err
	}
	return s.renderSupportAttempt(c, ss, grants, g, d, attemptNotes{})
}

// supportRecheck is POST /support/attempts/{ref}/recheck: «Проверить
// снова» — what the next login would do with the roster as it is now,
// linking nothing.
func (s *Server) supportRecheck(c echo.Context) error {
	ss, grants, err := s.staffFor(c, true)
	if ss == nil {
		return err
	}
	g := pickGrant(grants, c.FormValue("grant"))
	d, r, err := s.attemptDesk().Recheck(c.Request().Context(), g.Scope(), g.ID, c.Param("ref"))
	switch {
	case errors.Is(err, support.ErrNotFound):
		return s.attemptNotFound(c, ss, grants, g)
	case errors.Is(err, support.ErrValuesGone):
		return s.renderSupportAttempt(c, ss, grants, g, d, attemptNotes{status: http.StatusConflict,
			Error: "Проверить снова нельзя: данные Госуслуг этой попытки уже уничтожены или не сохранялись. Попросите человека войти ещё раз."})
	case err != nil:
		return err
	}
	return s.renderSupportAttempt(c, ss, grants, g, d, attemptNotes{Recheck: r})
}

// supportUnmask is POST /support/unmask: one field shown in full on the
// page it was asked on, for this answer only (nothing is kept in the
// session). It needs a reason, checks the scope, is limited per staff
// member (Settings.SupportUnmaskPerHour, counted in the sessions store so
// that every replica sees the same count), audited and counted.
func (s *Server) supportUnmask(c echo.Context) error {
	ss, grants, err := s.staffFor(c, true)
	if ss == nil {
		return err
	}
	g := pickGrant(grants, c.FormValue("grant"))
	kind, field, reason := c.FormValue("kind"), c.FormValue("field"), strings.TrimSpace(c.FormValue("reason"))
	ctx := c.Request().Context()
	count := func(outcome string) { s.c.Metrics.SupportUnmask.WithLabelValues(kind, outcome).Inc() }
	switch kind {
	case "attempt":
	case "record":
		return s.unmaskRecord(c, ss, grants, g, field, reason, count)
	default:
		return errorPage(c, http.StatusBadRequest, "Неизвестный запрос", "Консоль не может показать это значение.", "", "/support")
	}
	desk := s.attemptDesk()
	ref := c.FormValue("target")
	if reason == "" {
		count("no_reason")
		d, err := desk.Attempt(ctx, g.Scope(), g.ID, ref)
		if errors.Is(err, support.ErrNotFound) {
			return s.attemptNotFound(c, ss, grants, g)
		}
		if err != nil {
			return err
		}
		return s.renderSupportAttempt(c, ss, grants, g, d, attemptNotes{status: http.StatusUnprocessableEntity,
			Error: "Укажите причину, по которой нужно увидеть значение полностью: без неё значение не показывается."})
	}
	limited, limit, err := s.unmaskLimited(c, ss)
	if err != nil {
		return err
	}
	if limited {
		count("rate_limited")
		d, err := desk.Attempt(ctx, g.Scope(), g.ID, ref)
		if errors.Is(err, support.ErrNotFound) {
			return s.attemptNotFound(c, ss, grants, g)
		}
		if err != nil {
			return err
		}
		c.Response().Header().Set("Retry-After", "3600")
		return s.renderSupportAttempt(c, ss, grants, g, d, attemptNotes{status: http.StatusTooManyRequests,
			Error: fmt.Sprintf("Слишком много раскрытий: за час можно посмотреть полностью не больше %d значений. Значение не показано; попробуйте позже.", limit)})
	}
	d, err := desk.Unmask(ctx, g.Scope(), g.ID, ref, field, reason)
	switch {
	case errors.Is(err, support.ErrNotFound):
		count("not_found")
		return s.attemptNotFound(c, ss, grants, g)
	case errors.Is(err, support.ErrBadQuery):
		return errorPage(c, http.StatusBadRequest, "Неизвестное поле", "Консоль не может показать это значение.", "", "/support")
	case err != nil:
		return err
	}
	count("shown")
	return s.renderSupportAttempt(c, ss, grants, g, d, attemptNotes{})
}

// unmaskLimited counts one «Показать» of the staff member (by their
// SNILS's blind index, whatever the grant) in the sessions store, shared
// by every replica, and reports whether it is over the hour's limit
// (Settings.SupportUnmaskPerHour, default 30), and the limit. An unmask
// that cannot be counted is refused (the error): the limiter fails closed.
func (s *Server) unmaskLimited(c echo.Context, ss *staffSession) (bool, int, error) {
	limit := s.c.Settings.SupportUnmaskPerHour
	if limit <= 0 {
		limit = 30
	}
	n, err := s.c.Sessions.Hit(c.Request().Context(), "unmask:"+ss.SNILSIndex, unmaskWindow)
	if err != nil {
		return false, limit, fmt.Errorf("support: unmask limit: %w", err)
	}
	return n > int64(limit), limit, nil
}

// attemptNotes are what a form added to the attempt page.
type attemptNotes struct {
	status  int
	Error   string
	Recheck *support.Recheck
}

// attemptNotFound is the page of an attempt that does not exist or is
// outside the scope: the two are the same page.
func (s *Server) attemptNotFound(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant) error {
	token, _ := c.Get("csrf").(string)
	data := map[string]any{"Name": ss.Name, "Grant": g.ID, "CSRF": token, "NotFound": true, "Home": homeURL(g)}
	return render(c, http.StatusNotFound, "support_attempt", Page{Brand: "Консоль поддержки", Title: "Не найдено", Data: data})
}

func homeURL(g store.StaffGrant) string {
	return "/support?grant=" + url.QueryEscape(g.ID)
}

func (s *Server) renderSupportAttempt(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant, d *support.AttemptDetail, n attemptNotes) error {
	token, _ := c.Get("csrf").(string)
	v := d.View
	outcome := v.Outcome
	if t, ok := outcomeTitles[v.Outcome]; ok {
		outcome = t
	} else if v.Reason != "" {
		outcome = login.MessageFor(v.Reason).Title
	}
	data := map[string]any{"Name": ss.Name, "RoleTitle": staffRoleTitles[g.Role], "ScopeText": grantTitle(g), "Grant": g.ID,
		"CSRF": token, "D": d, "Ref": v.Ref, "Outcome": outcome, "OutcomeCode": v.Outcome,
		"Home": homeURL(g), "Tenant": v.Tenant,
		"Started":   v.CreatedAt.In(d.Location).Format("02.01.2006 15:04:05 MST"),
		"KeptUntil": dateText(d.KeptUntil, d.Location), "DestroyedAt": dateText(d.DestroyedAt, d.Location),
		"Error": n.Error, "Recheck": n.Recheck}
	status := n.status
	if status == 0 {
		status = http.StatusOK
	}
	return render(c, status, "support_attempt", Page{Brand: "Консоль поддержки", Title: "Попытка входа " + v.Ref, Data: data})
}

func dateText(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("02.01.2006 15:04 MST")
}
