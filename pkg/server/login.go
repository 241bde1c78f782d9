package server

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/oauth"
)

// simParams are the simulator's parameters dev mode passes from
// /oauth2/auth to the simulator (DESIGN.md §4); pkg/esia never adds them.
var simParams = []string{"sim_person", "sim_error", "sim_token_error"}

// authorize is GET /oauth2/auth: validate the diary's request, keep it, and
// send the person to ESIA.
func (s *Server) authorize(c echo.Context) error {
	ctx := c.Request().Context()
	req, err := s.c.OAuth.ParseAuthorize(ctx, c.Request())
	if err != nil {
		ae, ok := oauth.IsAuthorizeError(err)
		if ok && ae.Redirectable {
			s.c.OAuth.WriteAuthorizeError(ctx, c.Response(), ae)
			return nil
		}
		// RFC 6749 §4.1.2.1: an unknown client or redirect URI gets a page,
		// never a redirect.
		text := "Электронный дневник прислал неверный запрос на вход, поэтому мы не можем вернуть вас обратно автоматически. " +
			"Вернитесь в дневник и начните вход заново; если ошибка повторяется, сообщите в поддержку дневника."
		if ok {
			text += " Техническая причина: " + ae.Err.ErrorField + "."
		}
		return errorPage(c, http.StatusBadRequest, "Неверный запрос на вход", text, "", "")
	}
	extra := url.Values{}
	if s.c.Settings.Dev {
		for _, k := range simParams {
			if v := c.QueryParam(k); v != "" {
				extra.Set(k, v)
			}
		}
	}
	target, ref, err := s.c.Login.Begin(ctx, req, extra)
	if err != nil {
		// ESIA known to be down (its circuit breaker is open), or the
		// request to ESIA could not be made: the page at once.
		reason, m := login.Explain(err)
		s.c.Metrics.Logins.WithLabelValues(reason).Inc()
		s.c.Logger.ErrorContext(ctx, "login could not start", "ref", ref, "reason", reason, "error", err)
		back, _ := s.c.OAuth.ErrorRedirect(req, reason, ref)
		return errorPage(c, http.StatusServiceUnavailable, m.Title, m.Text, login.FormatRef(ref), back)
	}
	return c.Redirect(http.StatusFound, target)
}

// esiaCallback is GET /esia/callback: ESIA sends the person back here.
func (s *Server) esiaCallback(c echo.Context) error {
	ctx := c.Request().Context()
	res, err := s.c.Login.Callback(ctx, c.QueryParams())
	if errors.Is(err, login.ErrUnknownState) {
		s.c.Metrics.Logins.WithLabelValues("unknown_state").Inc()
		return errorPage(c, http.StatusBadRequest, "Сеанс входа устарел",
			"Вход занял слишком много времени или эта страница была открыта повторно. Вернитесь в электронный дневник и войдите заново.", "", "")
	}
	if err != nil {
		s.c.Metrics.Logins.WithLabelValues("error").Inc()
		s.c.Logger.ErrorContext(ctx, "login failed", "error", err)
		return errorPage(c, http.StatusInternalServerError, "Вход не удался",
			"Во время входа произошла ошибка. Вернитесь в электронный дневник и попробуйте ещё раз.", "", "")
	}
	ref := login.FormatRef(res.Pending.Ref)
	if res.Pending.Purpose == login.PurposeParent {
		if res.Reason != "" {
			return errorPage(c, http.StatusForbidden, res.Message.Title, res.Message.Text, ref, "")
		}
		return s.startParentSession(c, res.Parent)
	}
	if res.Reason != "" {
		s.c.Metrics.Logins.WithLabelValues(res.Reason).Inc()
		back, _ := s.c.OAuth.ErrorRedirect(&res.Pending.Request, res.Reason, res.Pending.Ref)
		return errorPage(c, http.StatusForbidden, res.Message.Title, res.Message.Text, ref, back)
	}
	if len(res.Options) > 0 {
		return s.chooseRole(c, res)
	}
	return s.proceed(c, res)
}

// issue completes the diary's authorization request with the claims.
func (s *Server) issue(c echo.Context, res *login.Result) error {
	ctx := c.Request().Context()
	ref := login.FormatRef(res.Pending.Ref)
	if err := s.c.OAuth.CompleteAuthorize(ctx, c.Response(), &res.Pending.Request, *res.Claims, res.AuthTime); err != nil {
		s.c.Metrics.Logins.WithLabelValues("error").Inc()
		s.c.Logger.ErrorContext(ctx, "issuing the code failed", "ref", res.Pending.Ref, "error", err)
		back, _ := s.c.OAuth.ErrorRedirect(&res.Pending.Request, "server_error", res.Pending.Ref)
		return errorPage(c, http.StatusInternalServerError, "Вход не удался",
			"Не удалось завершить вход. Вернитесь в электронный дневник и попробуйте ещё раз.", ref, back)
	}
	s.c.Metrics.Logins.WithLabelValues("linked").Inc()
	s.c.Login.Issued(ctx, res)
	return nil
}
