package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
)

// eachBackend runs fn against a dev-mode broker on every backend (memory;
// PostgreSQL and Redis).
func eachBackend(t *testing.T, opts server.BuildOptions, fn func(t *testing.T, b *broker)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			fn(t, startBrokerWith(t, true, be.edit(t), opts))
		})
	}
}

// beginLogin starts a diary login in a browser of its own and stops when
// ESIA sends the browser back: the callback URL, not yet opened.
func beginLogin(t *testing.T, b *broker, d *diary, oid string) (*browser, string) {
	t.Helper()
	br := newBrowser(t)
	br.stopAt = b.URL + "/esia/callback"
	o := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oid)))
	if o.Redirect == nil || o.Redirect.Path != "/esia/callback" {
		t.Fatalf("no redirect to the callback: %d %.300s", o.Status, o.Body)
	}
	br.stopAt = ""
	return br, o.Redirect.String()
}

// otherBrowserPage checks the page a callback gets in the wrong browser.
func otherBrowserPage(t *testing.T, o outcome) {
	t.Helper()
	if o.Redirect != nil {
		t.Fatalf("the callback in another browser was redirected to %s", o.Redirect)
	}
	if o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Сеанс входа устарел") {
		t.Fatalf("callback in another browser: %d %.400s", o.Status, o.Body)
	}
}

// TestCallbackInAnotherBrowser: ESIA's answer opened in a browser that did
// not begin the login (login CSRF: an attacker passes on the callback URL
// of their own login) finishes nothing there — the «Сеанс входа устарел»
// page with a way back to the diary carrying error=access_denied, no
// code — and leaves the login to the browser that began it.
func TestCallbackInAnotherBrowser(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		cases := []struct {
			name   string
			victim func(t *testing.T, callback string) *browser
		}{
			{"no cookie", func(t *testing.T, _ string) *browser { return newBrowser(t) }},
			{"the cookie of its own login", func(t *testing.T, _ string) *browser {
				br, _ := beginLogin(t, b, newDiary(b), oidParent)
				return br
			}},
			{"a forged cookie of the login's name", func(t *testing.T, callback string) *browser {
				br := newBrowser(t)
				u, _ := url.Parse(callback)
				br.client.Jar.SetCookies(u, []*http.Cookie{{Name: login.BindingName(u.Query().Get("state")), Value: "forged", Path: "/esia/callback"}})
				return br
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := newDiary(b)
				attacker, callback := beginLogin(t, b, d, oidTeacher)
				o := tc.victim(t, callback).get(callback)
				otherBrowserPage(t, o)
				errorRedirect(t, o, d, login.ReasonOtherBrowser)
				if strings.Contains(o.Body, "code=") {
					t.Fatalf("a code on the page: %.400s", o.Body)
				}
				// The login was not consumed: its own browser finishes it.
				tokens(t, b, d, attacker.through(attacker.get(callback)))
				// And only once.
				if o := attacker.get(callback); o.Redirect != nil || !strings.Contains(o.Body, "Сеанс входа устарел") {
					t.Fatalf("the callback worked twice: %d %v", o.Status, o.Redirect)
				}
			})
		}
	})
}

// TestParentCallbackInAnotherBrowser: the same on the parent's page — a
// parent login's callback opened elsewhere plants no parent session.
func TestParentCallbackInAnotherBrowser(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		attacker := newBrowser(t)
		attacker.stopAt = b.URL + "/esia/callback"
		o := attacker.get(b.URL + "/parent?tenant=" + server.DevTenant + "&sim_person=" + oidParent)
		if o.Redirect == nil || o.Redirect.Path != "/esia/callback" {
			t.Fatalf("no redirect to the callback: %d %.300s", o.Status, o.Body)
		}
		attacker.stopAt = ""
		callback := o.Redirect.String()

		victim := newBrowser(t)
		o = victim.get(callback)
		otherBrowserPage(t, o)
		if !strings.Contains(o.Body, `href="/parent?tenant=`+server.DevTenant+`"`) {
			t.Fatalf("no way back to the parent's page: %.600s", o.Body)
		}
		u, _ := url.Parse(b.URL + "/parent")
		for _, c := range victim.client.Jar.Cookies(u) {
			if c.Name == "broker_parent" {
				t.Fatal("the attacker's parent session was planted in the victim's browser")
			}
		}
		// The parent's own browser still gets the page.
		if o := attacker.get(callback); o.Status != http.StatusOK || !strings.Contains(o.Body, "Согласия для родителей") {
			t.Fatalf("the parent's own browser: %d %.300s", o.Status, o.Body)
		}
	})
}

// TestParallelLoginsInOneBrowser: logins begun in two tabs of one browser
// each keep their own binding cookie and both finish, in either order.
func TestParallelLoginsInOneBrowser(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		br := newBrowser(t)
		br.stopAt = b.URL + "/esia/callback"
		d1, d2 := newDiary(b), newDiary(b)
		o1 := br.get(d1.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
		o2 := br.get(d2.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
		if o1.Redirect == nil || o2.Redirect == nil {
			t.Fatalf("no callbacks: %d, %d", o1.Status, o2.Status)
		}
		br.stopAt = ""
		tokens(t, b, d2, br.through(br.get(o2.Redirect.String())))
		tokens(t, b, d1, br.through(br.get(o1.Redirect.String())))
	})
}

// TestBindingCookie: the binding cookie is HttpOnly, SameSite=Lax, sent
// only to the callback, lives as long as the pending login, and is Secure
// when the issuer is https.
func TestBindingCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			var edit func(*server.Settings)
			if secure {
				// The same listener, announced as https (as behind a TLS proxy).
				edit = func(s *server.Settings) { s.Issuer = strings.Replace(s.Issuer, "http://", "https://", 1) }
			}
			b := startBroker(t, true, edit)
			b.URL = strings.Replace(b.URL, "https://", "http://", 1)
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			d := newDiary(b)
			d.cfg.Endpoint.AuthURL = b.URL + "/oauth2/auth"
			resp, err := client.Get(d.authURL())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var found bool
			for _, c := range resp.Cookies() {
				if !strings.HasPrefix(c.Name, login.BindingCookiePrefix) {
					continue
				}
				found = true
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/esia/callback" || c.MaxAge != 15*60 ||
					len(c.Value) < 40 || c.Secure != secure {
					t.Fatalf("binding cookie %+v", c)
				}
			}
			if !found {
				t.Fatalf("%d: no binding cookie in %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
			}
		})
	}
}
