package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// parentCookie carries the parent's page session (30 minutes).
const (
	parentCookie = "broker_parent"
	parentTTL    = 30 * time.Minute
)

// parentSession reads the parent's page session for tenant.
func (s *Server) parentSession(c echo.Context, tenantID string) (*login.ParentLogin, error) {
	ck, err := c.Cookie(parentCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	plain, err := s.getSealed(c, "parent:"+ck.Value, false)
	if err != nil || plain == nil {
		return nil, err
	}
	var pl login.ParentLogin
	if err := json.Unmarshal(plain, &pl); err != nil {
		return nil, err
	}
	if pl.TenantID != tenantID {
		return nil, nil
	}
	return &pl, nil
}

// startParentSession keeps a parent who logged in with the kid scopes.
func (s *Server) startParentSession(c echo.Context, pl *login.ParentLogin) error {
	id := randomID()
	plain, err := json.Marshal(pl)
	if err != nil {
		return err
	}
	if err := s.putSealed(c, "parent:"+id, plain, parentTTL); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: parentCookie, Value: id, Path: "/parent", MaxAge: int(parentTTL.Seconds()),
		HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/parent?tenant="+url.QueryEscape(pl.TenantID))
}

func parentOf(pl *login.ParentLogin) consent.Parent {
	return consent.Parent{OID: pl.OID, Name: pl.Name, SessionID: pl.SessionID, Records: pl.Records, Kids: pl.Kids}
}

// parentChild is one child on the parent's page.
type parentChild struct {
	ID, Name, Class, State               string
	Proven, Granted, Declined, Requested bool
}

// parentPage is GET /parent?tenant=T: the parent's children and their
// consents; without a session it sends the parent through ESIA with the
// kid scopes first.
func (s *Server) parentPage(c echo.Context) error {
	ctx := c.Request().Context()
	tenantID := c.QueryParam("tenant")
	if tenantID == "" {
		return s.parentAddress(c)
	}
	t, err := s.c.Store.GetTenant(ctx, tenantID)
	if login.StoreFailure(err) != "" {
		return err
	}
	if err != nil {
		return s.parentAddress(c)
	}
	if t.Disabled() {
		return s.suspendedTenant(c, t)
	}
	pl, err := s.parentSession(c, t.ID)
	if err != nil {
		return err
	}
	if pl == nil {
		return s.beginSignIn(c, login.PurposeParent, func(ctx context.Context, extra url.Values) (login.Started, error) {
			return s.c.Login.BeginParent(ctx, t.ID, extra)
		})
	}
	children, err := s.c.Consent.Children(ctx, t, parentOf(pl))
	if err != nil {
		return err
	}
	var list []parentChild
	for _, ch := range children {
		pc := parentChild{ID: ch.Record.ExternalID, Name: strings.TrimSpace(ch.Record.LastName + " " + ch.Record.FirstName), Class: ch.Record.Class,
			Proven: ch.Proven, Declined: ch.Declined, Requested: ch.Request != nil}
		switch {
		case ch.Consent != nil:
			pc.Granted, pc.State = true, "согласие дано "+ch.Consent.GrantedAt.In(t.Location()).Format("02.01.2006")
		case ch.Declined:
			pc.State = "вы отказали; согласие может дать второй родитель"
		case ch.Request != nil:
			pc.State = "ребёнок ждёт вашего согласия, чтобы войти в дневник"
		default:
			pc.State = "согласия нет"
		}
		list = append(list, pc)
	}
	token, _ := c.Get("csrf").(string)
	done := map[string]string{"accept": "Согласие дано. Ребёнок может войти в дневник.", "decline": "Отказ записан.",
		"revoke": "Согласие отозвано. Ребёнок больше не может войти в дневник."}[c.QueryParam("done")]
	return render(c, http.StatusOK, "parent", Page{Brand: t.DisplayName, Title: "Согласия для родителей",
		Data: map[string]any{"ParentName": pl.Name, "Children": list, "Tenant": t.ID, "CSRF": token, "Done": done,
			"Text": consent.TextFor(t, store.ConsentParental)}})
}

// parentDecision is POST /parent/consent: grant, deny or revoke.
func (s *Server) parentDecision(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.c.Store.GetTenant(ctx, c.FormValue("tenant"))
	if login.StoreFailure(err) != "" {
		return err
	}
	if err != nil {
		return errorPage(c, http.StatusNotFound, "Дневник не найден", "Откройте страницу согласий по ссылке из электронного дневника.", "", "")
	}
	if t.Disabled() {
		return s.suspendedTenant(c, t)
	}
	pl, err := s.parentSession(c, t.ID)
	if err != nil {
		return err
	}
	if pl == nil {
		return errorPage(c, http.StatusBadRequest, "Сеанс истёк", "Войдите на страницу согласий заново.", "", "/parent?tenant="+url.QueryEscape(t.ID))
	}
	child, decision := c.FormValue("child"), c.FormValue("decision")
	if text := consent.TextFor(t, store.ConsentParental); decision == "accept" &&
		(c.FormValue("text_version") != text.Version || c.FormValue("text_hash") != text.Hash) {
		// The evidence names the text the parent read: a grant given on a
		// page showing another text (its version, or its wording — the
		// purpose or term changed under the same version) is not taken.
		return errorPage(c, http.StatusConflict, "Текст согласия изменился",
			"Пока страница была открыта, дневник обновил текст согласия. Согласие не записано: прочитайте новый текст и дайте согласие ещё раз.",
			"", "/parent?tenant="+url.QueryEscape(t.ID))
	}
	switch decision {
	case "accept", "decline":
		err = s.c.Consent.Decide(ctx, t, parentOf(pl), child, decision == "accept")
	case "revoke":
		err = s.c.Consent.Revoke(ctx, t, parentOf(pl), child)
		if errors.Is(err, consent.ErrNoConsent) {
			err = nil
		}
	default:
		return errorPage(c, http.StatusBadRequest, "Неверный ответ", "Ответ не распознан.", "", "/parent?tenant="+url.QueryEscape(t.ID))
	}
	if errors.Is(err, consent.ErrNotParent) {
		return errorPage(c, http.StatusForbidden, "Нельзя дать согласие за этого ребёнка",
			"Ребёнок не найден среди ваших детей на Госуслугах или в дневнике.", "", "/parent?tenant="+url.QueryEscape(t.ID))
	}
	if errors.Is(err, consent.ErrNoRequest) {
		return errorPage(c, http.StatusConflict, "Запрос согласия уже не действует",
			"Отказ не записан: запроса согласия для этого ребёнка сейчас нет — он истёк или согласие уже дано. Если ребёнок снова попробует войти в дневник, вы получите новый запрос.",
			"", "/parent?tenant="+url.QueryEscape(t.ID))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/parent?tenant="+url.QueryEscape(t.ID)+"&done="+decision)
}

// parentLogout is POST /parent/logout: the page session ends, and so does
// the parent's ESIA session (on a shared computer the next person must not
// find the parent still logged in at Госуслуги), through ESIA's logout and
// back to the «Вы вышли» page.
func (s *Server) parentLogout(c echo.Context) error {
	if ck, err := c.Cookie(parentCookie); err == nil {
		_ = s.c.Sessions.Delete(c.Request().Context(), "parent:"+ck.Value)
	}
	s.clearParentCookie(c)
	return s.endESIASession(c, http.StatusSeeOther, pendingLogout{})
}

// clearParentCookie expires the parent's page-session cookie.
func (s *Server) clearParentCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: parentCookie, Value: "", Path: "/parent", MaxAge: -1, HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
}
