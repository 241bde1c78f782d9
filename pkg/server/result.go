package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// A login's result page — the consent page, the role picker, a parent's
// notice, «Нужно согласие родителя», «Ваш дневник не найден» and the
// other failures — is not written in the answer to ESIA's callback (or to
// a form), which a reload would send again to find the login used up:
// the answer keeps what the page shows (resultView, sealed, a few hundred
// bytes to a few KiB) and redirects (303) to /login/result/{id}, a page
// that can be reloaded (post-redirect-get). The page is bound to the
// browser that got the redirect by a cookie only that URL receives: a
// result URL copied into another browser shows nothing.
//
// Pages that wait for an answer (consent, role, notice) show their form
// for as long as the paused login waits (choiceTTL); after that, and for
// every page until resultTTL, the reference code stays.

// resultTTL is how long a result page (at least its reference code) can
// be reloaded: long enough to switch apps and write the code down.
const resultTTL = 2 * time.Hour

// resultCookie names the cookie that binds a result page to its browser;
// each page's cookie has the page's own path.
const resultCookie = "broker_result"

// resultPath is where a result page is shown.
func resultPath(id string) string { return "/login/result/" + id }

// Kinds of result page.
const (
	resultError    = "error"    // a failure: title, text, reference code, way back
	resultConsent  = "consent"  // an adult's consent page (a paused login)
	resultRole     = "role"     // the role picker (a paused login)
	resultNotice   = "notice"   // a parent's notice (a paused login)
	resultParental = "parental" // the child's «Нужно согласие родителя»
)

// resultView is what a result page shows, kept for its reloads.
type resultView struct {
	Kind   string `json:"kind"`
	Status int    `json:"status"`
	Title  string `json:"title,omitempty"`
	Text   string `json:"text,omitempty"`
	Ref    string `json:"ref,omitempty"` // the attempt's reference code, unformatted
	// Back is the way back to the diary (error=access_denied): for a
	// paused login, the one to show when it is gone.
	Back string `json:"back,omitempty"`
	// Login is the paused login of a page with a form.
	Login  string `json:"login,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	// Notice says why a consent page is shown again.
	Notice string `json:"notice,omitempty"`
	// Report: the failure's page offers «Сообщить о проблеме» (report.go).
	Report bool `json:"report,omitempty"`
	// Child is the child's page (resultParental).
	Child *childPage `json:"child,omitempty"`
	// Browser is the SHA-256 of the binding cookie's value.
	Browser string `json:"browser"`
}

// showResult keeps v and sends the browser to its page. When it cannot be
// kept (the sessions store is failing), the page is shown at once: not
// reloadable, but shown.
func (s *Server) showResult(c echo.Context, v resultView) error {
	id, value := randomID(), randomID()
	v.Browser = resultHash(value)
	plain, err := json.Marshal(v)
	if err == nil {
		err = s.putSealed(c, resultKey(id), plain, resultTTL)
	}
	if err != nil {
		s.c.Logger.WarnContext(c.Request().Context(), "result page not kept; shown once", "ref", v.Ref, "error", err)
		return s.renderResult(c, v)
	}
	c.SetCookie(&http.Cookie{Name: resultCookie, Value: value, Path: resultPath(id), MaxAge: int(resultTTL.Seconds()),
		HttpOnly: true, Secure: s.https(), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, resultPath(id))
}

func resultKey(id string) string { return "result:" + id }

func resultHash(value string) string {
	sum := sha256.Sum256([]byte("broker result page\x00" + value))
	return hex.EncodeToString(sum[:])
}

// result is GET /login/result/{id}: a result page, as often as the
// browser that got it reloads it.
func (s *Server) result(c echo.Context) error {
	id := c.Param("id")
	if len(id) > 64 {
		return resultGone(c)
	}
	plain, err := s.getSealed(c, resultKey(id), false)
	if err != nil {
		return err
	}
	if plain == nil {
		return resultGone(c)
	}
	var v resultView
	if err := json.Unmarshal(plain, &v); err != nil {
		return err
	}
	ck, err := c.Cookie(resultCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(resultHash(ck.Value)), []byte(v.Browser)) != 1 {
		// Another browser, or the cookie was cleared: nothing of the page,
		// not even its reference code.
		return render(c, http.StatusForbidden, "error", Page{Title: "Страница открыта в другом браузере",
			Text: "Эта страница входа открывается только в том браузере, в котором начинали вход.",
			Hint: "Вернитесь в электронный дневник в своём браузере и войдите заново."})
	}
	return s.renderResult(c, v)
}

// resultGone is the page of a result URL that is not kept (any more).
func resultGone(c echo.Context) error {
	return errorPage(c, http.StatusNotFound, "Страница входа устарела",
		"Эта страница входа больше не хранится.", "", "")
}

// renderResult writes the page of v. A page whose paused login is gone
// (answered, or waited too long) shows its reference code and the way
// back instead of its form.
func (s *Server) renderResult(c echo.Context, v resultView) error {
	ctx := c.Request().Context()
	switch v.Kind {
	case resultConsent, resultRole, resultNotice:
		res, err := s.peekPaused(c, v.Login)
		if err != nil {
			return err
		}
		if res == nil {
			return errorPage(c, http.StatusGone, "Сеанс входа устарел",
				"Ответ на этой странице уже дан или ждал слишком долго. Вернитесь в электронный дневник и войдите заново.",
				login.FormatRef(v.Ref), v.Back)
		}
		token, _ := c.Get("csrf").(string)
		switch v.Kind {
		case resultRole:
			return render(c, v.Status, "role", Page{Title: "Кем вы входите?",
				Data: map[string]any{"Options": res.Options, "Login": v.Login, "CSRF": token}})
		case resultNotice:
			t, err := s.c.Store.GetTenant(ctx, v.Tenant)
			if err != nil {
				return err
			}
			notices, err := s.parentNotices(ctx, t.ID, res)
			if err != nil {
				return err
			}
			return render(c, v.Status, "notice", Page{Brand: t.DisplayName, Title: "Вас просят дать согласие",
				Data: map[string]any{"Children": notices, "Parent": "/parent?tenant=" + t.ID, "Login": v.Login, "CSRF": token}})
		}
		return s.renderConsent(c, v, res, token)
	case resultParental:
		return s.renderChildPage(c, v)
	}
	p := Page{Title: v.Title, Text: v.Text, Ref: login.FormatRef(v.Ref), BackURL: v.Back}
	if token, _ := c.Get("csrf").(string); v.Report && token != "" && v.Ref != "" {
		p.Data = &reportForm{CSRF: token, ReportRef: p.Ref}
	}
	return render(c, v.Status, "error", p)
}

// renderConsent shows the consent page of a paused login with the
// tenant's text as it is now, and keeps that text with the login: the
// answer is recorded about exactly the text on the screen.
func (s *Server) renderConsent(c echo.Context, v resultView, res *login.Result, token string) error {
	t, err := s.c.Store.GetTenant(c.Request().Context(), v.Tenant)
	if err != nil {
		return err
	}
	text := consent.TextForRole(t, store.ConsentSelf, rolesOf(res)...)
	if err := s.putSealed(c, shownTextKey(v.Login), []byte(text.Version+"\x00"+text.Hash), choiceTTL); err != nil {
		return err
	}
	return render(c, v.Status, "consent", Page{Brand: t.DisplayName, Title: "Согласие на обработку персональных данных",
		Data: map[string]any{"Text": text, "Tenant": t, "Login": v.Login, "CSRF": token, "Categories": text.Categories,
			"Purpose": text.Purpose, "Notice": v.Notice}})
}

// peekPaused reads a paused login without taking it (resume takes it).
func (s *Server) peekPaused(c echo.Context, id string) (*login.Result, error) {
	plain, err := s.getSealed(c, "paused:"+id, false)
	if err != nil || plain == nil {
		return nil, err
	}
	var res login.Result
	if err := json.Unmarshal(plain, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// pausedBack is the way back to the diary for a paused login that is gone.
func (s *Server) pausedBack(res *login.Result) string {
	if res.Pending.Request.RedirectURI == "" {
		return ""
	}
	back, _ := s.c.OAuth.ErrorRedirect(&res.Pending.Request, login.ReasonOtherBrowser, res.Pending.Ref)
	return back
}
