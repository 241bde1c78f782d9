package oauth

import (
	"errors"
	"mime"
	"net/http"
	"strings"
)

// ErrTokenMethod is a bearer token sent where the broker does not take one:
// in the URL query (RFC 9700 §4.3.2: URLs end up in logs, histories and
// Referer headers) or in two places at once (RFC 6750 §2). The HTTP layer
// answers 400 invalid_request.
var ErrTokenMethod = errors.New("oauth: the access token must be sent in the Authorization header")

// bearerToken reads the access token of a request to a protected resource:
// the Authorization header (RFC 6750 §2.1) and, when form is set, the
// access_token parameter of a form-encoded POST body (§2.2; the API takes
// the header only: its bodies are its own). A token in
// the query (§2.3) is refused rather than ignored, so that the client learns
// of its mistake instead of getting a puzzling 401. fosite's
// AccessTokenFromRequest reads the query as well, so it is not used.
func bearerToken(r *http.Request, form bool) (string, error) {
	if r.URL.Query().Has("access_token") {
		return "", ErrTokenMethod
	}
	header := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, value, _ := strings.Cut(auth, " ")
		if strings.EqualFold(scheme, "Bearer") {
			header = strings.TrimSpace(value)
		}
	}
	body := ""
	if form && r.Method == http.MethodPost && isFormBody(r) {
		if err := r.ParseForm(); err != nil {
			return "", ErrTokenMethod
		}
		body = r.PostForm.Get("access_token")
	}
	switch {
	case header != "" && body != "":
		return "", ErrTokenMethod
	case header != "":
		return header, nil
	case body != "":
		return body, nil
	}
	return "", ErrNoToken
}

func isFormBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}
