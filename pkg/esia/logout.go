package esia

import (
	"errors"
	"net/url"
)

// PathLogout is ESIA's logout endpoint (ESIA's «Методические рекомендации»:
// /idp/ext/Logout with client_id and redirect_url).
const PathLogout = "/idp/ext/Logout"

// LogoutURL returns the ESIA URL that ends the person's ESIA session and
// then sends the browser to redirectURL (which ESIA accepts only on the
// system's registered host). On a shared school computer this is what
// stops the next pupil from being logged in as the previous one.
func (c *Config) LogoutURL(redirectURL string) (string, error) {
	if c.BaseURL == "" || c.ClientID == "" {
		return "", errors.New("esia: logout: base URL and client id are required")
	}
	q := url.Values{"client_id": {c.ClientID}}
	if redirectURL != "" {
		q.Set("redirect_url", redirectURL)
	}
	return c.BaseURL + PathLogout + "?" + q.Encode(), nil
}
