package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/oauth"
)

// retryAfter is the Retry-After of an answer a store outage stopped.
var retryAfter = strconv.Itoa(int(oauth.RetryAfter.Seconds()))

// storeLabel is the store label of broker_store_unavailable_total for a
// reason of login.StoreFailure.
func storeLabel(reason string) string {
	if reason == login.ReasonSessionStoreUnavailable {
		return "session_store"
	}
	return "database"
}

// storeUnavailable counts a request a store outage stopped and asks the
// browser or client to come back later.
func (s *Server) storeUnavailable(c echo.Context, reason string) {
	s.c.Metrics.StoreUnavailable.WithLabelValues(storeLabel(reason), c.Path()).Inc()
	c.Response().Header().Set("Retry-After", retryAfter)
}

// loginFailed shows the page of a login that ended with a reason: its
// Russian text, the reference code, and the way back to the diary when the
// diary is known. A store outage answers 503 with Retry-After.
func (s *Server) loginFailed(c echo.Context, res *login.Result) error {
	status := failureStatus(res)
	if login.StoreUnavailable(res.Reason) {
		status = http.StatusServiceUnavailable
		s.storeUnavailable(c, res.Reason)
	}
	back := ""
	if res.Pending.Purpose != login.PurposeParent {
		s.c.Metrics.Logins.WithLabelValues(res.Reason).Inc()
		if res.Pending.Request.RedirectURI != "" {
			back, _ = s.c.OAuth.ErrorRedirect(&res.Pending.Request, res.Reason, res.Pending.Ref)
		}
	}
	ref := login.FormatRef(res.Pending.Ref)
	form := reportFormFor(c, res)
	if login.StoreUnavailable(res.Reason) {
		// Nothing could be kept: the page at once.
		if form != nil {
			return render(c, status, "error", Page{Title: res.Message.Title, Text: res.Message.Text, Ref: ref, BackURL: back, Data: form})
		}
		return errorPage(c, status, res.Message.Title, res.Message.Text, ref, back)
	}
	return s.showResult(c, resultView{Kind: resultError, Status: status, Title: res.Message.Title, Text: res.Message.Text,
		Ref: res.Pending.Ref, Back: back, Report: form != nil})
}

// authorizeStorageFailed is the page of an authorization request whose
// client could not be looked up: the client is not validated, so there is
// no way back to the diary (RFC 6749 §4.1.2.1), and nothing can be
// recorded — the reference code is in the ERROR line.
func (s *Server) authorizeStorageFailed(c echo.Context, se *oauth.StorageError) error {
	ref := login.NewRef()
	reason := "error"
	if se.Unavailable() {
		reason = login.ReasonDatabaseUnavailable
	}
	s.c.Metrics.Logins.WithLabelValues(reason).Inc()
	s.c.Logger.ErrorContext(c.Request().Context(), "login could not start", "ref", ref, "reason", reason, "error", se)
	if !se.Unavailable() {
		return errorPage(c, http.StatusInternalServerError, "Вход не удался",
			"Во время входа произошла ошибка. Вернитесь в электронный дневник и попробуйте ещё раз; если ошибка повторится, сообщите код обращения в службу поддержки дневника.",
			login.FormatRef(ref), "")
	}
	s.storeUnavailable(c, reason)
	m := login.MessageFor(reason)
	return errorPage(c, http.StatusServiceUnavailable, m.Title, m.Text, login.FormatRef(ref), "")
}

// handleStoreFailure answers a request whose handler returned a store
// outage (a consent page, the parent's page, the role picker): 503 with
// Retry-After, problem JSON for APIs, the «Сервис временно недоступен»
// page with a reference code — kept in the ERROR line — for people. It
// reports false for any other error.
func (s *Server) handleStoreFailure(err error, c echo.Context) bool {
	reason := login.StoreFailure(err)
	if reason == "" {
		return false
	}
	ref := login.NewRef()
	s.c.Logger.ErrorContext(c.Request().Context(), "request failed: store unavailable", "route", c.Path(), "ref", ref, "reason", reason, "error", err)
	s.storeUnavailable(c, reason)
	if isAPIPath(c.Request().URL.Path) {
		_ = problem(c, http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable),
			"A store the broker needs is temporarily unavailable ("+reason+"); retry after the time in Retry-After.")
		return true
	}
	m := login.MessageFor(reason)
	_ = errorPage(c, http.StatusServiceUnavailable, m.Title, m.Text, login.FormatRef(ref), "")
	return true
}
