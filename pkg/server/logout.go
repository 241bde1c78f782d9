package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/sessions"
)

// pendingLogout is kept while the person is at ESIA's logout.
type pendingLogout struct {
	Target string `json:"target"`
	State  string `json:"state"`
}

// logout is GET /oauth2/logout (end_session_endpoint): the broker keeps no
// browser session of its own, so logging out means ending the login the
// id_token_hint names (its tokens), then the person's ESIA session — on a
// shared school computer the next pupil must not find the previous one
// still logged in at Госуслуги — and then returning to the diary's
// registered post_logout_redirect_uri.
func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	req, err := s.c.OAuth.ParseLogout(ctx, c.Request())
	if err != nil && !errors.Is(err, oauth.ErrLogoutHint) {
		return err
	}
	if req == nil {
		req = &oauth.LogoutRequest{}
	}
	// The login of the id_token_hint ends: its tokens are revoked. A store
	// that fails here does not keep the person logged in at Госуслуги;
	// the failure is logged (no personal data: the grant is a request id).
	if err := s.c.OAuth.EndLogoutGrant(ctx, req); err != nil {
		s.c.Logger.ErrorContext(ctx, "logout: revoking the login's tokens failed", "client_id", req.ClientID, "error", err)
	}
	// A parent's page session on this browser ends too (its cookie is
	// scoped to /parent, so it is only expired here; the server side
	// lapses with its TTL, unreachable without the cookie).
	s.clearParentCookie(c)
	return s.endESIASession(c, http.StatusFound, pendingLogout{Target: req.PostLogoutRedirectURI, State: req.State})
}

// endESIASession sends the browser to ESIA's logout, which comes back to
// /esia/logout and from there to p.Target (or the «Вы вышли» page). Only a
// logout going back to a diary — a registered URI, known from a valid
// id_token_hint — is kept while the person is at ESIA; anyone else's
// logout stores nothing.
func (s *Server) endESIASession(c echo.Context, status int, p pendingLogout) error {
	back := s.c.Settings.Issuer + "/esia/logout"
	if p.Target != "" {
		id := randomID()
		b, _ := json.Marshal(p)
		if err := s.c.Sessions.Put(c.Request().Context(), "logout:"+id, b, 10*time.Minute); err != nil {
			return err
		}
		back += "?l=" + url.QueryEscape(id)
	}
	target, err := s.c.ESIA.LogoutURL(back)
	if err != nil {
		return err
	}
	return c.Redirect(status, target)
}

// logoutReturn is GET /esia/logout: back from ESIA, on to the diary.
func (s *Server) logoutReturn(c echo.Context) error {
	var p pendingLogout
	if l := c.QueryParam("l"); l != "" && len(l) <= 64 {
		raw, err := s.c.Sessions.Take(c.Request().Context(), "logout:"+l)
		if err == nil {
			_ = json.Unmarshal(raw, &p)
		} else if !errors.Is(err, sessions.ErrNotFound) {
			return err
		}
	}
	if p.Target == "" {
		return render(c, http.StatusOK, "error", Page{Title: "Вы вышли",
			Text: "Вы вышли из электронного дневника и из Госуслуг на этом компьютере. Можно закрыть окно браузера."})
	}
	u, err := url.Parse(p.Target)
	if err != nil {
		return err
	}
	if p.State != "" {
		q := u.Query()
		q.Set("state", p.State)
		u.RawQuery = q.Encode()
	}
	return c.Redirect(http.StatusFound, u.String())
}
