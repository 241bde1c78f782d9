package server_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
)

// TestAuthorizeParameterLimits: every authorization request parameter
// must be UTF-8 text without control characters, given once and within
// its limit (docs/oauth.md); otherwise the diary gets invalid_request —
// by redirect once its client and redirect URI are valid, on a page
// before — and nothing is stored or sent to ESIA.
func TestAuthorizeParameterLimits(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		long := func(n int) string { return strings.Repeat("a", n) }
		cases := []struct {
			name  string
			param string
			value string
			// dropState: the refused parameter is the state, which the
			// error redirect does not echo.
			dropState bool
		}{
			{"state too long", "state", long(1025), true},
			{"NUL in state", "state", "state-\x00-state", true},
			{"nonce too long", "nonce", long(257), false},
			{"escape character in nonce", "nonce", "nonce-\x1b[31m", false},
			{"link_person_id too long", "link_person_id", long(129), false},
			{"NUL in link_person_id", "link_person_id", "t-0001\x00", false},
			{"invalid UTF-8 in link_person_id", "link_person_id", "t-\xff\xfe", false},
			{"C1 control in login_hint", "login_hint", "a\u0085b", false},
			{"login_hint too long", "login_hint", long(257), false},
			{"scope too long", "scope", "openid " + long(506), false},
			{"code_challenge not S256's 43 characters", "code_challenge", long(44), false},
			{"code_challenge outside base64url", "code_challenge", long(42) + "=", false},
			{"max_age not a number", "max_age", "12a", false},
			{"max_age too long", "max_age", "12345678901", false},
			{"role too long", "role", long(17), false},
			{"prompt too long", "prompt", long(65), false},
			{"id_token_hint too long", "id_token_hint", long(8193), false},
			{"acr_values too long", "acr_values", long(257), false},
			{"ui_locales too long", "ui_locales", long(257), false},
			{"display too long", "display", long(33), false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := newDiary(b)
				o := newBrowser(t).get(d.authURL(oauth2.SetAuthURLParam(tc.param, tc.value)))
				refused(t, o, d, tc.dropState)
			})
		}
		t.Run("a parameter given twice", func(t *testing.T) {
			d := newDiary(b)
			refused(t, newBrowser(t).get(d.authURL()+"&nonce=another-nonce"), d, false)
		})
		pages := []struct{ name, param, value string }{
			{"client_id too long", "client_id", long(129)},
			{"NUL in client_id", "client_id", server.DevClientID + "\x00"},
			{"redirect_uri too long", "redirect_uri", diaryRedirect + "?" + long(2048)},
		}
		for _, tc := range pages {
			t.Run(tc.name, func(t *testing.T) {
				o := newBrowser(t).get(newDiary(b).authURL(oauth2.SetAuthURLParam(tc.param, tc.value)))
				if o.Redirect != nil || o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Неверный запрос на вход") ||
					!strings.Contains(o.Body, "invalid_request") {
					t.Fatalf("%d %v %.300s", o.Status, o.Redirect, o.Body)
				}
			})
		}
		t.Run("a login at the limits reaches the diary", func(t *testing.T) {
			d := newDiary(b)
			d.state, d.nonce = "s-"+long(1022), "n-"+long(254)
			tokens(t, b, d, loginAs(t, b, d, oidTeacher, oauth2.SetAuthURLParam("max_age", "3600"),
				oauth2.SetAuthURLParam("junk", long(100<<10))))
		})
	})
}

// refused checks that a request ended at the diary with invalid_request.
func refused(t *testing.T, o outcome, d *diary, dropState bool) {
	t.Helper()
	if o.Redirect == nil || !strings.HasPrefix(o.Redirect.String(), diaryRedirect) {
		t.Fatalf("not sent back to the diary: %d %v %.300s", o.Status, o.Redirect, o.Body)
	}
	q := o.Redirect.Query()
	if q.Get("error") != "invalid_request" || q.Get("code") != "" {
		t.Fatalf("diary got %s", o.Redirect)
	}
	if want := map[bool]string{false: d.state, true: ""}[dropState]; q.Get("state") != want {
		t.Fatalf("state %q, want %q", q.Get("state"), want)
	}
}
