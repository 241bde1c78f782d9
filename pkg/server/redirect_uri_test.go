package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestConfidentialLoopbackRedirectIsExact: the demo diary is a confidential
// client registered with http://127.0.0.1:8089/callback. fosite's RFC 8252
// port rule, and its blindness to userinfo, would send its code elsewhere;
// the person gets the Russian page instead, and no redirect at all
// (RFC 6749 §4.1.2.1) — also when the request has another error.
func TestConfidentialLoopbackRedirectIsExact(t *testing.T) {
	b := startBroker(t, true, nil)
	never := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		name, redirect string
		scopes         []string
	}{
		{"userinfo and another port", "http://evil@127.0.0.1:8090/callback", nil},
		{"another port", "http://127.0.0.1:8090/callback", nil},
		{"userinfo", "http://evil@127.0.0.1:8089/callback", nil},
		{"another port and an unknown scope", "http://127.0.0.1:8090/callback", []string{"openid", "admin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			d.cfg.RedirectURL = tc.redirect
			if tc.scopes != nil {
				d.cfg.Scopes = tc.scopes
			}
			resp, err := never.Get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
				!strings.Contains(string(body), "Неверный запрос на вход") {
				t.Fatalf("status %d, Location %q: want the page, no redirect: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
}
