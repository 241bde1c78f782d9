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

// choiceTTL is how long a paused login (role picker, consent page,
// notice) waits for the person.
const choiceTTL = 10 * time.Minute

// pause keeps a login that waits for the person's answer on a broker page.
// It holds claims with names, so it is sealed with the personal-data key
// before it goes to the sessions store; the id is single-use.
func (s *Server) pause(c echo.Context, res *login.Result) (string, error) {
	id := randomID()
	plain, err := json.Marshal(res)
	if err != nil {
		return "", err
	}
	if err := s.putSealed(c, "paused:"+id, plain, choiceTTL); err != nil {
		return "", err
	}
	return id, nil
}

// resume takes a paused login back; nil without error means it is gone
// (answered already, or waited too long).
func (s *Server) resume(c echo.Context, id string) (*login.Result, error) {
	plain, err := s.takeSealed(c, "paused:"+id)
	if err != nil || plain == nil {
		return nil, err
	}
	var res login.Result
	if err := json.Unmarshal(plain, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// putSealed stores plain under key, sealed and bound to the key.
func (s *Server) putSealed(c echo.Context, key string, plain []byte, ttl time.Duration) error {
	keyID, sealed, err := s.c.PII.Seal(plain, []byte(key))
	if err != nil {
		return err
	}
	b, _ := json.Marshal(sealedChoice{KeyID: keyID, Sealed: sealed})
	return s.c.Sessions.Put(c.Request().Context(), key, b, ttl)
}

// getSealed reads what putSealed stored; take removes it too.
func (s *Server) getSealed(c echo.Context, key string, take bool) ([]byte, error) {
	get := s.c.Sessions.Get
	if take {
		get = s.c.Sessions.Take
	}
	raw, err := get(c.Request().Context(), key)
	if errors.Is(err, sessions.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sc sealedChoice
	if err := json.Unmarshal(raw, &sc); err != nil {
		return nil, err
	}
	return s.c.PII.Open(sc.KeyID, sc.Sealed, []byte(key))
}

func (s *Server) takeSealed(c echo.Context, key string) ([]byte, error) {
	return s.getSealed(c, key, true)
}

// chooseRole shows the role picker.
func (s *Server) chooseRole(c echo.Context, res *login.Result) error {
	id, err := s.pause(c, res)
	if err != nil {
		return err
	}
	return s.showResult(c, resultView{Kind: resultRole, Status: http.StatusOK, Ref: res.Pending.Ref, Back: s.pausedBack(res), Login: id})
}

type sealedChoice struct {
	KeyID  string `json:"k"`
	Sealed []byte `json:"s"`
}

// expired is the page for a paused login that is gone.
func expired(c echo.Context) error {
	return errorPage(c, http.StatusBadRequest, "Сеанс входа устарел",
		"Ответ занял слишком много времени или форма была отправлена повторно. Вернитесь в электронный дневник и войдите заново.", "", "")
}

// chosenRole is POST /login/role: the person picked a role.
func (s *Server) chosenRole(c echo.Context) error {
	res, err := s.resume(c, c.FormValue("login"))
	if err != nil {
		return err
	}
	if res == nil {
		return expired(c)
	}
	claims, err := s.c.Login.Chose(c.Request().Context(), res, c.FormValue("role"))
	if errors.Is(err, login.ErrNoSuchRole) {
		return errorPage(c, http.StatusBadRequest, "Неверный выбор", "Такой роли не было среди предложенных. Вернитесь в электронный дневник и войдите заново.", "", "")
	}
	if err != nil {
		return err
	}
	res.Claims, res.Options = claims, nil
	return s.proceed(c, res)
}
