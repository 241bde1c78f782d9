package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/esia"
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
	if se := oauth.StorageFailure(err); se != nil {
		// The client could not be looked up: not an invalid request.
		return s.authorizeStorageFailed(c, se)
	}
	if err != nil {
		ae, ok := oauth.IsAuthorizeError(err)
		if ok && ae.Redirectable {
			s.c.OAuth.WriteAuthorizeError(ctx, c.Response(), ae)
			return nil
		}
		// A disabled client, or a client of a disabled tenant, is unknown
		// to the provider; its page says that the operator stopped it.
		if refused, err := s.refusedClient(c, c.QueryParam("client_id")); refused {
			return err
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
	st, err := s.c.Login.Begin(ctx, req, s.simExtra(c))
	if err != nil {
		// ESIA known to be down (its circuit breaker is open), the
		// pending login could not be kept, or the request to ESIA could
		// not be made: the page at once.
		reason, m := login.Classify(err)
		s.c.Metrics.Logins.WithLabelValues(reason).Inc()
		if login.StoreUnavailable(reason) {
			s.storeUnavailable(c, reason)
		}
		if errors.Is(err, esia.ErrCircuitOpen) {
			// The breaker logged once why it refuses; a line per person would
			// bury it.
			s.c.Logger.DebugContext(ctx, "login refused: ESIA circuit breaker open", "ref", st.Ref)
		} else {
			s.c.Logger.ErrorContext(ctx, "login could not start", "ref", st.Ref, "reason", reason, "error", err)
		}
		back, _ := s.c.OAuth.ErrorRedirect(req, reason, st.Ref)
		return errorPage(c, http.StatusServiceUnavailable, m.Title, m.Text, login.FormatRef(st.Ref), back)
	}
	s.setBinding(c, st.Binding)
	if req.FreshLogin() {
		// ESIA documents no parameter that forces a new authentication:
		// ending the person's ESIA session first does, and ESIA's logout
		// comes back to /esia/logout, which goes on to ESIA's login. Should
		// that fail, ESIA's auth_time is still checked (CompleteAuthorize).
		err := s.endESIASession(c, http.StatusFound, pendingLogout{Target: st.URL})
		if err == nil {
			return nil
		}
		s.c.Logger.WarnContext(ctx, "prompt=login: ESIA's session could not be ended first", "ref", st.Ref, "error", err)
	}
	return c.Redirect(http.StatusFound, st.URL)
}

// simExtra is the simulator's parameters of the request in dev mode, and
// nothing otherwise.
func (s *Server) simExtra(c echo.Context) url.Values {
	extra := url.Values{}
	if s.c.Settings.Dev {
		for _, k := range simParams {
			if v := c.QueryParam(k); v != "" {
				extra.Set(k, v)
			}
		}
	}
	return extra
}

// beginSignIn sends the browser of the parent's page or the support
// console (purpose) to ESIA: begin keeps the pending login, given the
// simulator's parameters in dev mode, and the browser gets its binding
// cookie. A pending login that could not be kept gets loginFailed's page
// with its reference code.
func (s *Server) beginSignIn(c echo.Context, purpose string, begin func(context.Context, url.Values) (login.Started, error)) error {
	ctx := c.Request().Context()
	st, err := begin(ctx, s.simExtra(c))
	if reason := login.StoreFailure(err); reason != "" && st.Ref != "" {
		s.c.Logger.ErrorContext(ctx, "login could not start", "ref", st.Ref, "reason", reason, "error", err)
		return s.loginFailed(c, &login.Result{Pending: login.Pending{Ref: st.Ref, Purpose: purpose},
			Reason: reason, Message: login.MessageFor(reason)})
	}
	if err != nil {
		return err
	}
	s.setBinding(c, st.Binding)
	return c.Redirect(http.StatusFound, st.URL)
}

// setBinding gives the browser the cookie that binds its pending login
// (login.Binding): sent back only to ESIA's callback, only with top-level
// navigations from other sites (SameSite=Lax lets ESIA's redirect carry
// it), never readable by scripts.
func (s *Server) setBinding(c echo.Context, b login.Binding) {
	c.SetCookie(&http.Cookie{Name: b.Name, Value: b.Value, Path: s.callbackPath(), MaxAge: int(b.TTL.Seconds()),
		HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
}

// clearBinding expires the binding cookie of a login that is over.
func (s *Server) clearBinding(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: s.callbackPath(), MaxAge: -1,
		HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
}

// callbackPath is the path of ESIA's redirect_uri, where the binding
// cookie is sent.
func (s *Server) callbackPath() string {
	if u, err := url.Parse(s.c.Settings.ESIA.RedirectURL); err == nil && u.Path != "" {
		return u.Path
	}
	return "/esia/callback"
}

// esiaCallback is GET /esia/callback: ESIA sends the person back here.
func (s *Server) esiaCallback(c echo.Context) error {
	ctx := c.Request().Context()
	var binding string
	name := login.BindingName(c.QueryParam("state"))
	if ck, err := c.Cookie(name); err == nil {
		binding = ck.Value
	}
	res, err := s.c.Login.Callback(ctx, c.QueryParams(), binding)
	if err == nil && res.Reason == login.ReasonOtherBrowser {
		return s.otherBrowser(c, res)
	}
	if err == nil || binding != "" {
		s.clearBinding(c, name) // the login is over, or gone
	}
	if errors.Is(err, login.ErrUnknownState) {
		s.c.Metrics.Logins.WithLabelValues("unknown_state").Inc()
		return errorPage(c, http.StatusBadRequest, "Сеанс входа устарел",
			"Вход занял слишком много времени или эта страница была открыта повторно. Вернитесь в электронный дневник и войдите заново.", "", "")
	}
	if err != nil {
		ref := login.NewRef() // the person's code for the ERROR line
		s.c.Metrics.Logins.WithLabelValues("error").Inc()
		s.c.Logger.ErrorContext(ctx, "login failed", "ref", ref, "error", err)
		return errorPage(c, http.StatusInternalServerError, "Вход не удался",
			"Во время входа произошла ошибка. Вернитесь в электронный дневник и попробуйте ещё раз.", login.FormatRef(ref), "")
	}
	if res.Pending.Purpose == login.PurposeSupport {
		return s.supportSignedIn(c, res)
	}
	if res.Pending.Purpose == login.PurposeParent {
		if res.Reason != "" {
			return s.loginFailed(c, res)
		}
		return s.startParentSession(c, res.Parent)
	}
	if res.Reason != "" {
		return s.loginFailed(c, res)
	}
	if len(res.Options) > 0 {
		return s.chooseRole(c, res)
	}
	return s.proceed(c, res)
}

// otherBrowser is the page for ESIA's answer reaching a browser that did
// not begin the login: no code, nothing consumed (the login waits for its
// own browser), and a way back — to the diary named by the pending
// request, with error=access_denied and the reference code, or to the
// parent's page or the support console.
func (s *Server) otherBrowser(c echo.Context, res *login.Result) error {
	s.c.Metrics.Logins.WithLabelValues(res.Reason).Inc()
	var back string
	switch res.Pending.Purpose {
	case login.PurposeParent:
		back = "/parent?tenant=" + url.QueryEscape(res.Pending.Request.TenantID)
	case login.PurposeSupport:
		back = "/support"
	default:
		back, _ = s.c.OAuth.ErrorRedirect(&res.Pending.Request, res.Reason, res.Pending.Ref)
	}
	return errorPage(c, http.StatusBadRequest, res.Message.Title, res.Message.Text, login.FormatRef(res.Pending.Ref), back)
}

// failureStatus is the status of the page of a login that failed with a
// reason: 503 for «Госуслуги недоступны» (ESIA down, so that monitoring of
// 5xx sees an outage), 403 otherwise.
func failureStatus(res *login.Result) int {
	if res.Reason == login.ReasonESIAUnavailable && res.Message.Title == login.MessageFor(login.ReasonESIAUnavailable).Title {
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// issue completes the diary's authorization request with the claims.
func (s *Server) issue(c echo.Context, res *login.Result) error {
	ctx := c.Request().Context()
	ref := login.FormatRef(res.Pending.Ref)
	// The code's answer is held until its "issued" event is recorded: the
	// request's journal (journaled) writes it with the others then.
	held := newHeldAnswer()
	err := s.c.OAuth.CompleteAuthorize(ctx, held, &res.Pending.Request, *res.Claims, res.AuthTime, res.Basis())
	if ae, ok := oauth.IsAuthorizeError(err); ok && ae.Redirectable {
		// prompt=login or max_age that ESIA's auth_time does not satisfy.
		s.c.Metrics.Logins.WithLabelValues(ae.Err.ErrorField).Inc()
		s.c.Logger.InfoContext(ctx, "login refused by the request's prompt or max_age", "ref", res.Pending.Ref, "error", ae.Err.ErrorField)
		// The attempt ends here too, not at its matching step's "linked":
		// support sees why the diary got no code.
		s.c.Login.RecordStep(ctx, res.Pending.Ref, "failed", ae.Err.ErrorField, ae.Err.ErrorField,
			map[string]any{"why": "prompt_or_max_age", "auth_time": res.AuthTime.UTC()})
		s.c.OAuth.WriteAuthorizeError(ctx, c.Response(), ae)
		return nil
	}
	if err != nil {
		if reason := login.StoreFailure(err); reason != "" {
			s.c.Logger.ErrorContext(ctx, "issuing the code failed", "ref", res.Pending.Ref, "reason", reason, "error", err)
			res.Reason, res.Message = reason, login.MessageFor(reason)
			return s.loginFailed(c, res)
		}
		// The client, or its tenant, was disabled while the person was at ESIA.
		if refused, perr := s.refusedClient(c, res.Pending.Request.ClientID); refused {
			return perr
		}
		s.c.Metrics.Logins.WithLabelValues("error").Inc()
		s.c.Logger.ErrorContext(ctx, "issuing the code failed", "ref", res.Pending.Ref, "error", err)
		back, _ := s.c.OAuth.ErrorRedirect(&res.Pending.Request, "server_error", res.Pending.Ref)
		return errorPage(c, http.StatusInternalServerError, "Вход не удался",
			"Не удалось завершить вход. Вернитесь в электронный дневник и попробуйте ещё раз.", ref, back)
	}
	s.c.Metrics.Logins.WithLabelValues("linked").Inc()
	s.c.Login.Issued(ctx, res)
	return held.writeTo(c.Response())
}
