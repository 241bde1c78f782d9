package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// tenantOf is the tenant of a login: as its callback read it within the
// same request, or read now.
func (s *Server) tenantOf(ctx context.Context, res *login.Result) (store.Tenant, error) {
	if t := res.Tenant; t != nil && t.ID == res.Pending.Request.TenantID {
		return *t, nil
	}
	return s.c.Store.GetTenant(ctx, res.Pending.Request.TenantID)
}

// Reasons added to DESIGN.md §3's list (docs/oauth.md): a 14–17-year-old
// whose ESIA account is not confirmed.
const reasonAccountNotConfirmed = "account_not_confirmed"

// proceed is the consent step of a login whose person is known (DESIGN.md
// §3 step 5): self-consent page, parental block page, a parent's notice,
// or straight on to the diary.
func (s *Server) proceed(c echo.Context, res *login.Result) error {
	ctx := c.Request().Context()
	t, err := s.tenantOf(ctx, res)
	if err != nil {
		return err
	}
	d, err := s.c.Consent.Check(ctx, t, subjectOf(res))
	if err != nil {
		return err
	}
	ref := res.Pending.Ref
	switch d.Outcome {
	case consent.NeedsSelfConsent:
		s.c.Login.RecordStep(ctx, ref, "consent", "consent_page", "", map[string]any{"decision": "self_consent_asked", "text_version": d.Text.Version, "age": d.Age})
		return s.consentPage(c, t, res, http.StatusOK, "")
	case consent.NeedsParental:
		detail := map[string]any{"decision": "parental_consent_required", "age": d.Age, "age_unknown": d.AgeUnknown, "no_parents": d.NoParents}
		if d.Request != nil {
			detail["request_id"], detail["declines"] = d.Request.ID, len(d.Request.Declines)
		}
		s.c.Login.RecordStep(ctx, ref, "consent", login.ReasonConsentRequired, login.ReasonConsentRequired, detail)
		s.c.Metrics.Logins.WithLabelValues(login.ReasonConsentRequired).Inc()
		back, _ := s.c.OAuth.ErrorRedirect(&res.Pending.Request, login.ReasonConsentRequired, ref)
		child, err := s.childPageOf(ctx, t, d)
		if err != nil {
			return err
		}
		return s.showResult(c, resultView{Kind: resultParental, Status: http.StatusForbidden, Title: "Нужно согласие родителя",
			Ref: ref, Back: back, Tenant: t.ID, Child: child})
	case consent.NeedsConfirmation:
		s.c.Login.RecordStep(ctx, ref, "consent", reasonAccountNotConfirmed, reasonAccountNotConfirmed, map[string]any{"age": d.Age})
		s.c.Metrics.Logins.WithLabelValues(reasonAccountNotConfirmed).Inc()
		back, _ := s.c.OAuth.ErrorRedirect(&res.Pending.Request, reasonAccountNotConfirmed, ref)
		return s.showResult(c, resultView{Kind: resultError, Status: http.StatusForbidden, Title: "Нужна подтверждённая учётная запись",
			Text: "С 14 лет для входа в электронный дневник нужна подтверждённая учётная запись Госуслуг. Подтвердите личность (в центре обслуживания, через онлайн-банк или электронной подписью) и войдите снова.",
			Ref:  ref, Back: back})
	}
	res.ConsentID = d.ConsentID // Allowed: what the code rests on, with the link
	notices, err := s.parentNotices(ctx, t.ID, res)
	if err != nil {
		return err
	}
	if len(notices) > 0 {
		id, err := s.pause(c, res)
		if err != nil {
			return err
		}
		return s.showResult(c, resultView{Kind: resultNotice, Status: http.StatusOK, Ref: ref, Back: s.pausedBack(res), Login: id, Tenant: t.ID})
	}
	return s.issue(c, res)
}

// consentPage pauses the login and shows the self-consent page with the
// tenant's text (renderConsent keeps the text shown with the paused login,
// so that the answer is recorded about exactly that text). notice, when
// set, says why the page is shown again.
func (s *Server) consentPage(c echo.Context, t store.Tenant, res *login.Result, status int, notice string) error {
	id, err := s.pause(c, res)
	if err != nil {
		return err
	}
	return s.showResult(c, resultView{Kind: resultConsent, Status: status, Ref: res.Pending.Ref, Back: s.pausedBack(res),
		Login: id, Tenant: t.ID, Notice: notice})
}

// shownTextKey names the version and hash of the consent text shown with
// a paused login.
func shownTextKey(loginID string) string { return "consent-text:" + loginID }

func subjectOf(res *login.Result) consent.Subject {
	return consent.Subject{TenantID: res.Pending.Request.TenantID, PersonID: res.Claims.PersonID, OID: res.Person.OID,
		Name: res.Person.Name, BirthDate: res.Person.BirthDate, Child: res.Person.Child, Trusted: res.Person.Trusted,
		SessionID: res.Person.SessionID, Roles: rolesOf(res), Ref: res.Pending.Ref}
}

// rolesOf are the roles of the person's records (the claims' roles).
func rolesOf(res *login.Result) []store.Role {
	if res.Claims == nil {
		return nil
	}
	var out []store.Role
	for _, r := range res.Claims.Roles {
		out = append(out, store.Role(r))
	}
	return out
}

// parentNotices lists the children whose consent requests are addressed
// to the person's parent records (shown at the parent's next login).
func (s *Server) parentNotices(ctx context.Context, tenantID string, res *login.Result) ([]string, error) {
	isParent := false
	for _, r := range res.Claims.Roles {
		isParent = isParent || r == string(store.RoleParent)
	}
	if !isParent {
		return nil, nil
	}
	links, err := s.c.Store.LinksByOID(ctx, tenantID, res.Person.OID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range links {
		if l.Role != store.RoleParent || l.Status != store.LinkActive {
			continue
		}
		reqs, err := s.c.Consent.Store.OpenRequestsFor(ctx, tenantID, l.ExternalID)
		if err != nil {
			return nil, err
		}
		for _, r := range reqs {
			p, err := s.c.Store.GetPerson(ctx, tenantID, r.PersonID)
			if err != nil {
				continue
			}
			names = append(names, strings.TrimSpace(p.FirstName+" "+p.LastName))
		}
	}
	return names, nil
}

// consentAnswer is POST /consent: an adult accepts or declines the text
// shown. When the tenant's text changed since it was shown, nothing is
// recorded and the page is shown again with the new text.
func (s *Server) consentAnswer(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.FormValue("login")
	res, err := s.resume(c, id)
	if err != nil {
		return err
	}
	if res == nil {
		return expired(c)
	}
	shown, err := s.takeSealed(c, shownTextKey(id))
	if err != nil {
		return err
	}
	t, err := s.c.Store.GetTenant(ctx, res.Pending.Request.TenantID)
	if err != nil {
		return err
	}
	accept := c.FormValue("decision") == "accept"
	if !accept && c.FormValue("decision") != "decline" {
		return errorPage(c, http.StatusBadRequest, "Неверный ответ", "Ответ не распознан. Вернитесь в электронный дневник и войдите заново.", "", "")
	}
	text := consent.TextForRole(t, store.ConsentSelf, rolesOf(res)...)
	if string(shown) != text.Version+"\x00"+text.Hash {
		s.c.Login.RecordStep(ctx, res.Pending.Ref, "consent", "consent_page", "", map[string]any{"decision": "text_changed", "text_version": text.Version})
		return s.consentPage(c, t, res, http.StatusConflict,
			"Текст согласия изменился, пока страница была открыта. Ваш ответ не записан: прочитайте новый текст и ответьте ещё раз.")
	}
	if err := s.c.Consent.GrantSelf(ctx, t, subjectOf(res), text, accept); err != nil {
		return err
	}
	if !accept {
		s.c.Login.RecordStep(ctx, res.Pending.Ref, "consent", login.ReasonConsentDenied, login.ReasonConsentDenied, map[string]any{"decision": "declined"})
		s.c.Metrics.Logins.WithLabelValues(login.ReasonConsentDenied).Inc()
		back, err := s.c.OAuth.ErrorRedirect(&res.Pending.Request, login.ReasonConsentDenied, res.Pending.Ref)
		if err != nil {
			return err
		}
		oauth.WriteBack(c.Response(), back) // a redirect, or the form_post page
		return nil
	}
	s.c.Login.RecordStep(ctx, res.Pending.Ref, "consent", "", "", map[string]any{"decision": "granted"})
	return s.proceed(c, res)
}

// continueLogin is POST /login/continue: past the parent's notice.
func (s *Server) continueLogin(c echo.Context) error {
	res, err := s.resume(c, c.FormValue("login"))
	if err != nil {
		return err
	}
	if res == nil {
		return expired(c)
	}
	return s.issue(c, res)
}

// consentState is one record's consent state for the consent API.
type consentState struct {
	PersonID string        `json:"person_id"`
	State    string        `json:"state"` // granted, requested, none
	Consent  *consentView  `json:"consent,omitempty"`
	History  []consentView `json:"history"`
	Request  *requestState `json:"request,omitempty"`
}

type requestState struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Declines  int    `json:"declines"`
	ExpiresAt string `json:"expires_at"`
}

// consentsAPI is GET /api/v1/consents?person_id=…: diaries read the consent
// state of their records (scope consent:read).
func (s *Server) consentsAPI(c echo.Context) error {
	caller := callerOf(c)
	ctx := c.Request().Context()
	id := c.QueryParam("person_id")
	if id == "" {
		return problem(c, http.StatusBadRequest, "Bad Request", "person_id is required")
	}
	if _, err := s.c.Store.GetPerson(ctx, caller.TenantID, id); err != nil {
		return problem(c, http.StatusNotFound, "Not Found", "no such record in your roster")
	}
	cs, err := s.c.Consent.Store.ConsentsOf(ctx, caller.TenantID, id)
	if err != nil {
		return err
	}
	out := consentState{PersonID: id, State: "none", History: make([]consentView, 0, len(cs))}
	for _, k := range cs {
		out.History = append(out.History, viewOfConsent(k))
	}
	for i := range cs {
		if cs[i].Status == store.ConsentGranted {
			out.State, out.Consent = "granted", &out.History[i]
			break
		}
	}
	rels, err := s.c.Store.RelationsOf(ctx, caller.TenantID, id)
	if err != nil {
		return err
	}
	for _, r := range rels {
		if r.Student != id {
			continue
		}
		reqs, err := s.c.Consent.Store.OpenRequestsFor(ctx, caller.TenantID, r.Parent)
		if err != nil {
			return err
		}
		for _, q := range reqs {
			if q.PersonID == id && out.Request == nil {
				out.Request = &requestState{ID: q.ID, Status: string(q.Status), Declines: len(q.Declines), ExpiresAt: q.ExpiresAt.Format("2006-01-02T15:04:05Z07:00")}
				if out.State == "none" {
					out.State = "requested"
				}
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}
