package esiasim

import (
	"net/http"
	"net/url"
)

// logout serves GET /idp/ext/Logout?client_id=…&redirect_url=…: it ends the
// (simulated) ESIA session and returns to redirect_url, which must be on the
// same origin as one of the client's registered redirect URIs.
func (s *Simulator) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := s.clients[q.Get("client_id")]
	if c == nil {
		s.errorPage(w, http.StatusBadRequest, newError(CodeClientAuthentication, "unknown client_id"))
		return
	}
	target := q.Get("redirect_url")
	if target == "" {
		s.messagePage(w, http.StatusOK, "Вы вышли из Госуслуг", "Сеанс в симуляторе ЕСИА завершён.")
		return
	}
	if !sameOriginAsAny(target, c.RedirectURIs) {
		s.errorPage(w, http.StatusBadRequest, newError(CodeRedirectNotAllowed, "redirect_url"))
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func sameOriginAsAny(target string, registered []string) bool {
	t, err := url.Parse(target)
	if err != nil || t.Host == "" {
		return false
	}
	for _, reg := range registered {
		if u, err := url.Parse(reg); err == nil && u.Scheme == t.Scheme && u.Host == t.Host {
			return true
		}
	}
	return false
}
