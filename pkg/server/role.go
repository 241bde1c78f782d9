package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/sessions"
)

// csrf protects the broker's forms: a token in a cookie and the same token
// in the form (echo's double-submit middleware); SameSite=Lax keeps other
// sites from posting with the cookie.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:csrf",
		CookieName:     "broker_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.https(),
		CookieSameSite: http.SameSiteLaxMode,
		ContextKey:     "csrf",
		ErrorHandler: func(err error, c echo.Context) error {
			return errorPage(c, http.StatusForbidden, "Форма устарела",
				"Страница была открыта слишком давно или не из этого браузера. Вернитесь в электронный дневник и войдите заново.", "", "")
		},
	})
}

func (s *Server) https() bool {
	return len(s.c.Settings.Issuer) > 8 && s.c.Settings.Issuer[:8] == "https://"
}

// choiceTTL is how long the role picker waits.
const choiceTTL = 10 * time.Minute

// chooseRole shows the role picker. The paused login, which holds claims
// with names, is sealed with the personal-data key before it goes to the
// sessions store.
func (s *Server) chooseRole(c echo.Context, res *login.Result) error {
	ctx := c.Request().Context()
	id := randomID()
	plain, err := json.Marshal(res)
	if err != nil {
		return err
	}
	keyID, sealed, err := s.c.PII.Seal(plain, []byte("choice\x00"+id))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(sealedChoice{KeyID: keyID, Sealed: sealed})
	if err := s.c.Sessions.Put(ctx, "choice:"+id, b, choiceTTL); err != nil {
		return err
	}
	token, _ := c.Get("csrf").(string)
	return render(c, http.StatusOK, "role", Page{Title: "Кем вы входите?",
		Data: map[string]any{"Options": res.Options, "Login": id, "CSRF": token}})
}

type sealedChoice struct {
	KeyID  string `json:"k"`
	Sealed []byte `json:"s"`
}

// chosenRole is POST /login/role: the person picked a role.
func (s *Server) chosenRole(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.FormValue("login")
	raw, err := s.c.Sessions.Take(ctx, "choice:"+id)
	if errors.Is(err, sessions.ErrNotFound) {
		return errorPage(c, http.StatusBadRequest, "Сеанс входа устарел",
			"Выбор роли занял слишком много времени или форма была отправлена повторно. Вернитесь в электронный дневник и войдите заново.", "", "")
	}
	if err != nil {
		return err
	}
	var sc sealedChoice
	if err := json.Unmarshal(raw, &sc); err != nil {
		return err
	}
	plain, err := s.c.PII.Open(sc.KeyID, sc.Sealed, []byte("choice\x00"+id))
	if err != nil {
		return err
	}
	var res login.Result
	if err := json.Unmarshal(plain, &res); err != nil {
		return err
	}
	claims, err := s.c.Login.Chose(ctx, &res, c.FormValue("role"))
	if errors.Is(err, login.ErrNoSuchRole) {
		return errorPage(c, http.StatusBadRequest, "Неверный выбор", "Такой роли не было среди предложенных. Вернитесь в электронный дневник и войдите заново.", "", "")
	}
	if err != nil {
		return err
	}
	res.Claims, res.Options = claims, nil
	return s.issue(c, &res)
}
