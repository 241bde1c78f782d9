package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// The support console's session (docs/support.md): a cookie scoped to
// /support naming a sealed entry of the sessions store, which lapses after
// supportIdle without a request and supportMax after the sign-in.
const (
	supportCookie = "broker_support"
	supportIdle   = 30 * time.Minute
	supportMax    = 8 * time.Hour
)

// staffSession is a signed-in staff member. It keeps no SNILS, only its
// blind index, to re-read the grants at every request: a revoked grant
// ends the session at its next request, a changed one changes the scope.
type staffSession struct {
	OID        string    `json:"oid"`
	Name       string    `json:"name"` // masked
	SNILSIndex string    `json:"ix"`
	StartedAt  time.Time `json:"started_at"`
}

// supportSession returns the session of the request and its grants, nil
// when there is none (or it is past its 8 hours); a session whose grants
// were all revoked is ended and returned without grants. The idle timer
// restarts with every request.
func (s *Server) supportSession(c echo.Context) (*staffSession, []store.StaffGrant, error) {
	ck, err := c.Cookie(supportCookie)
	if err != nil || ck.Value == "" {
		return nil, nil, nil
	}
	key := "staff:" + ck.Value
	plain, err := s.getSealed(c, key, false)
	if err != nil || plain == nil {
		return nil, nil, err
	}
	var ss staffSession
	if err := json.Unmarshal(plain, &ss); err != nil {
		return nil, nil, err
	}
	ctx := c.Request().Context()
	left := supportMax - s.c.Now().Sub(ss.StartedAt)
	if left <= 0 {
		_ = s.c.Sessions.Delete(ctx, key)
		return nil, nil, nil
	}
	all, err := s.c.Store.StaffGrantsBySNILS(ctx, ss.SNILSIndex)
	if err != nil {
		return nil, nil, err
	}
	var grants []store.StaffGrant
	for _, g := range all {
		if g.ESIAOID == ss.OID {
			grants = append(grants, g)
		}
	}
	if len(grants) == 0 {
		_ = s.c.Sessions.Delete(ctx, key)
		s.clearSupportCookie(c)
		return &ss, nil, nil
	}
	if err := s.putSealed(c, key, plain, min(left, supportIdle)); err != nil {
		return nil, nil, err
	}
	return &ss, grants, nil
}

// supportSignedIn finishes a staff member's ESIA sign-in: their grants by
// SNILS (bound to this ESIA account at the first sign-in), then the
// session; without a grant, the «нет доступа» page and nothing else.
func (s *Server) supportSignedIn(c echo.Context, res *login.Result) error {
	ctx := c.Request().Context()
	ref := login.FormatRef(res.Pending.Ref)
	if res.Reason != "" {
		return s.loginFailed(c, res)
	}
	st := res.Staff
	grants, err := s.staffGrants().SignIn(ctx, st.OID, st.SNILS)
	if errors.Is(err, support.ErrNoGrant) {
		s.c.Login.RecordStep(ctx, st.Ref, "staff", "no_grant", "no_grant", nil)
		return noSupportAccess(c, ref)
	}
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(grants))
	for _, g := range grants {
		ids = append(ids, g.ID)
	}
	s.c.Login.RecordStep(ctx, st.Ref, "staff", "staff", "", map[string]any{"grants": ids})
	n, _, _ := linking.NormaliseSNILS(st.SNILS)
	ss := staffSession{OID: st.OID, Name: maskedName(st.Name), SNILSIndex: s.c.PII.Index(store.IndexSNILS, n), StartedAt: s.c.Now().UTC()}
	plain, err := json.Marshal(ss)
	if err != nil {
		return err
	}
	id := randomID()
	if err := s.putSealed(c, "staff:"+id, plain, supportIdle); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: supportCookie, Value: id, Path: "/support", MaxAge: int(supportMax.Seconds()),
		HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/support")
}

// noSupportAccess is the page of a person without a staff grant.
func noSupportAccess(c echo.Context, ref string) error {
	return errorPage(c, http.StatusForbidden, "Нет доступа к консоли поддержки",
		"У вашей учётной записи Госуслуг нет доступа к консоли поддержки. Доступ выдаёт оператор электронного дневника.", ref, "")
}

// maskedName masks each part of a full name: «П*** И*** Н***».
func maskedName(full string) string {
	parts := strings.Fields(full)
	for i, p := range parts {
		parts[i] = linking.MaskName(p)
	}
	return strings.Join(parts, " ")
}

// supportHome is GET /support: the console's home page, or the ESIA
// sign-in without a session.
func (s *Server) supportHome(c echo.Context) error {
	ss, grants, err := s.supportSession(c)
	if err != nil {
		return err
	}
	if ss == nil {
		return s.beginSignIn(c, login.PurposeSupport, s.c.Login.BeginSupport)
	}
	if len(grants) == 0 {
		return noSupportAccess(c, "")
	}
	return s.renderSupport(c, ss, grants, pickGrant(grants, c.QueryParam("grant")), nil)
}

// supportSearch is POST /support/search: the attempt of a reference code
// and the records found by the one box or by ФИО and birth date
// (supportFind), within the scope of the grant chosen on the page.
func (s *Server) supportSearch(c echo.Context) error {
	ss, grants, g, ok, err := s.staffRequest(c)
	if !ok {
		return err
	}
	return s.supportFind(c, ss, grants, g)
}

// supportLogout is POST /support/logout: the console's session ends, and
// so does the ESIA session, as on the parent's page.
func (s *Server) supportLogout(c echo.Context) error {
	if ck, err := c.Cookie(supportCookie); err == nil {
		_ = s.c.Sessions.Delete(c.Request().Context(), "staff:"+ck.Value)
	}
	s.clearSupportCookie(c)
	return s.endESIASession(c, http.StatusSeeOther, pendingLogout{})
}

func (s *Server) clearSupportCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: supportCookie, Value: "", Path: "/support", MaxAge: -1, HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
}

// pickGrant is the grant id among grants, or the first (the broadest: the
// operator's sorts first).
func pickGrant(grants []store.StaffGrant, id string) store.StaffGrant {
	for _, g := range grants {
		if g.ID == id {
			return g
		}
	}
	return grants[0]
}

// supportResult is a search's answer on the page.
type supportResult struct {
	Query     string
	Name      [3]string // last, first, middle name as searched
	BirthDate string
	NotFound  bool
	BadQuery  string // what is wrong with the query
	Attempt   *attemptLine
	Records   []recordLine
}

// attemptLine is an attempt as the console's page shows it.
type attemptLine struct {
	Ref, Tenant, When, Outcome, Reason string
	Advice                             []string
}

var outcomeTitles = map[string]string{
	"linked": "вход выполнен", "issued": "вход выполнен", "in_progress": "вход не завершён (человек не вернулся с Госуслуг)",
	"role_choice": "человек выбирал роль и не закончил вход", "parent": "родитель вошёл на страницу согласий",
	"login_required": "дневник просил войти на Госуслугах заново (prompt=login или max_age), а вход на Госуслугах был раньше: код не выдан",
	"staff":          "сотрудник вошёл в консоль поддержки", "no_grant": "вход в консоль поддержки без доступа",
}

func lineOfAttempt(v *support.AttemptView) *attemptLine {
	l := &attemptLine{Ref: v.Ref, Tenant: v.Tenant, When: v.CreatedAt.UTC().Format("02.01.2006 15:04 UTC"), Advice: v.Advice}
	l.Outcome = v.Outcome
	if t, ok := outcomeTitles[v.Outcome]; ok {
		l.Outcome = t + " (" + v.Outcome + ")"
	} else if v.Reason != "" {
		l.Outcome = login.MessageFor(v.Reason).Title + " (" + v.Outcome + ")"
	}
	if v.Reason != "" {
		l.Reason = login.MessageFor(v.Reason).Title + " (" + v.Reason + ")"
	}
	return l
}

var staffRoleTitles = map[store.StaffRole]string{
	store.StaffSchoolAdmin:   "администратор школы",
	store.StaffTenantSupport: "поддержка электронного дневника",
	store.StaffOperator:      "оператор брокера",
}

// grantTitle says in Russian what a grant shows.
func grantTitle(g store.StaffGrant) string {
	switch g.Role {
	case store.StaffOperator:
		return "все электронные дневники"
	case store.StaffSchoolAdmin:
		return "школы " + strings.Join(g.Schools, "; ") + " в дневнике «" + g.TenantID + "»"
	}
	return "весь электронный дневник «" + g.TenantID + "»"
}

func (s *Server) renderSupport(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant, r *supportResult) error {
	type choice struct{ ID, Title string }
	var list []choice
	for _, gr := range grants {
		list = append(list, choice{gr.ID, staffRoleTitles[gr.Role] + ": " + grantTitle(gr)})
	}
	token, _ := c.Get("csrf").(string)
	data := map[string]any{"Name": ss.Name, "RoleTitle": staffRoleTitles[g.Role], "ScopeText": grantTitle(g),
		"Grant": g.ID, "Grants": list, "CSRF": token, "AuditAllowed": g.Role != store.StaffSchoolAdmin}
	if r != nil {
		data["Query"], data["NotFound"], data["BadQuery"] = r.Query, r.NotFound, r.BadQuery
		data["LastName"], data["FirstName"], data["MiddleName"], data["BirthDate"] = r.Name[0], r.Name[1], r.Name[2], r.BirthDate
		data["Records"] = r.Records
		if r.Attempt != nil {
			data["Attempt"] = r.Attempt
		}
	}
	return render(c, http.StatusOK, "support", Page{Brand: "Консоль поддержки", Title: "Консоль поддержки", Data: data})
}
