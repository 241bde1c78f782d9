package server_test

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
)

// TestConsentTextPerRole: an adult's consent page lists only what is
// processed about their role — a teacher's names no birth certificate and
// no family data — says «в целях ведения…», and shows «Версия текста» once.
func TestConsentTextPerRole(t *testing.T) {
	b := startBroker(t, true, nil)
	for _, tc := range []struct {
		name    string
		oid     string
		want    []string
		mustNot []string
	}{
		{"teacher", oidTeacher, []string{"место работы (школа)", "СНИЛС"},
			[]string{"свидетельства о рождении", "родственных связях", "сведения о детях"}},
		{"parent", oidParent, []string{"сведения о детях, закреплённых за вами"},
			[]string{"свидетельства о рождении", "место работы"}},
		{"adult student", oidAdultStudent, []string{"реквизиты свидетельства о рождении", "сведения об обучении"},
			[]string{"место работы"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := newBrowser(t).get(newDiary(b).authURL(oauth2.SetAuthURLParam("sim_person", tc.oid)))
			if page.Status != http.StatusOK || !strings.Contains(page.Body, `action="/consent"`) {
				t.Fatalf("no consent page: %d %.300s", page.Status, page.Body)
			}
			body := htmlUnescape(page.Body)
			for _, w := range append(tc.want, "в целях ведения электронного дневника") {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range append(tc.mustNot, "в целях: ", "в целях ведение", "Цель: ") {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
			if n := strings.Count(body, "Версия текста"); n != 1 {
				t.Errorf("«Версия текста» %d times", n)
			}
		})
	}
}

// TestNotFoundDoesNotRestartLogin: a page that is not there is not a
// login that failed — no «начните вход заново».
func TestNotFoundDoesNotRestartLogin(t *testing.T) {
	b := startBroker(t, true, nil)
	o := newBrowser(t).get(b.URL + "/consent/no-such-page")
	if o.Status != http.StatusNotFound || !strings.Contains(o.Body, "Страница не найдена") {
		t.Fatalf("404: %d %.300s", o.Status, o.Body)
	}
	if strings.Contains(o.Body, "вход заново") || strings.Contains(o.Body, "Код обращения") {
		t.Fatalf("404 page tells to log in again: %s", o.Body)
	}
}

// TestParentPageWithoutTenant: /parent without a tenant, or with one the
// broker does not know, says which address the parent's page has.
func TestParentPageWithoutTenant(t *testing.T) {
	b := startBroker(t, true, nil)
	want := b.URL + "/parent?tenant=" + server.DevTenant
	for _, tc := range []struct {
		path   string
		status int
	}{{"/parent", http.StatusOK}, {"/parent?tenant=", http.StatusOK}, {"/parent?tenant=no-such-diary", http.StatusNotFound}} {
		o := newBrowser(t).get(b.URL + tc.path)
		body := htmlUnescape(o.Body)
		if o.Status != tc.status || !strings.Contains(body, `href="`+want+`"`) || !strings.Contains(body, b.URL+"/parent?tenant=КОД") {
			t.Errorf("%s: %d %.600s", tc.path, o.Status, body)
		}
		if strings.Contains(body, "вход заново") {
			t.Errorf("%s tells to log in again", tc.path)
		}
	}
}

// TestDemoTitleOnce: the demo's title is not «Демо-дневник — Демо-дневник».
func TestDemoTitleOnce(t *testing.T) {
	b := startBroker(t, true, nil)
	o := newBrowser(t).get(b.URL + "/demo")
	if !strings.Contains(o.Body, "<title>Демо-дневник</title>") {
		t.Fatalf("demo title: %.300s", o.Body)
	}
	// Another page keeps its brand after the title.
	if p := newBrowser(t).get(b.URL + "/parent"); !strings.Contains(p.Body, "<title>Страница согласий для родителей — ") {
		t.Fatalf("parent address title: %.300s", p.Body)
	}
}
