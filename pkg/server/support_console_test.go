package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// Fixture staff of dev mode (server.DevStaff) and a person with no grant.
const (
	oidTenantSupport = "1000100037" // Григорьева Светлана: tenant_support of demo
	oidSchoolAdmin   = "1000100038" // Романов Константин: school_admin of МБОУ СОШ № 1
	oidLyceumAdmin   = "1000100015" // Орлов Сергей: given school_admin of МБОУ Лицей № 3 below
	oidNoGrant       = "1000100001" // Смирнова Елена, a teacher: no grant
)

// signInSupport signs a fixture person in to /support in a new browser.
func signInSupport(t *testing.T, b *broker, oid string) (*browser, outcome) {
	t.Helper()
	br := newBrowser(t)
	return br, br.get(b.URL + "/support?sim_person=" + oid)
}

// searchRef submits the console's search form.
func searchRef(t *testing.T, br *browser, home outcome, ref string) outcome {
	t.Helper()
	return br.submit(home, "/support/search", url.Values{"ref": {ref}})
}

// TestSupportConsoleScopes: the dev fixture staff sign in to /support
// through ESIA and find the reference code of Павлов Игорь's failed login
// (his SNILS has a typo in the roster) — the whole tenant's support and the
// admin of his school; the admin of another school, and a code that does
// not exist, get the same «не найдено»; a person without a grant gets the
// no-access page and nothing else. Nothing personal reaches the logs.
func TestSupportConsoleScopes(t *testing.T) {
	b := startBroker(t, true, nil)
	if _, err := (&support.Grants{Store: b.comp.Store, Index: b.comp.PII}).Grant(context.Background(), support.GrantRequest{
		TenantID: server.DevTenant, SNILS: "132-057-694 39", Role: store.StaffSchoolAdmin, Schools: []string{"МБОУ Лицей № 3"}, By: "test"}); err != nil {
		t.Fatal(err)
	}
	d := newDiary(b)
	ref := errorRedirect(t, loginAs(t, b, d, oidSNILSTypo), d, "not_found")
	formatted := ref[:5] + "-" + ref[5:]

	tests := []struct {
		name      string
		oid       string
		role      string
		query     string
		wantFound bool
	}{
		{"tenant_support finds it", oidTenantSupport, "поддержка электронного дневника", formatted, true},
		{"tenant_support, lower case without the dash", oidTenantSupport, "поддержка электронного дневника", strings.ToLower(ref), true},
		{"school_admin of his school finds it", oidSchoolAdmin, "администратор школы", formatted, true},
		{"school_admin of another school: не найдено", oidLyceumAdmin, "администратор школы", formatted, false},
		{"a code that does not exist: не найдено", oidTenantSupport, "поддержка электронного дневника", "ZZZZZ-ZZZZZ", false},
		{"school_admin, a code that does not exist: не найдено", oidLyceumAdmin, "администратор школы", "ZZZZZ-ZZZZZ", false},
	}
	var notFoundPages []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br, home := signInSupport(t, b, tc.oid)
			if home.Status != http.StatusOK || !strings.Contains(home.Body, "Консоль поддержки") || !strings.Contains(home.Body, tc.role) ||
				!strings.Contains(home.Body, `lang="ru"`) || !strings.Contains(home.Body, `<label for="ref">`) {
				t.Fatalf("home: %d %.800s", home.Status, home.Body)
			}
			res := searchRef(t, br, home, tc.query)
			if res.Status != http.StatusOK {
				t.Fatalf("search: %d %.500s", res.Status, res.Body)
			}
			found := strings.Contains(res.Body, "Попытка входа "+formatted)
			if found != tc.wantFound {
				t.Fatalf("found = %v, want %v: %.1500s", found, tc.wantFound, res.Body)
			}
			if tc.wantFound {
				if !strings.Contains(res.Body, "not_found") || !strings.Contains(res.Body, "СНИЛС") {
					t.Errorf("the outcome and the advice are missing: %.1500s", res.Body)
				}
				return
			}
			if !strings.Contains(res.Body, "Не найдено.") {
				t.Fatalf("no «не найдено»: %.1500s", res.Body)
			}
			// The answer about another school's attempt is the page about a
			// code that does not exist, but for the code itself.
			i, j := strings.Index(res.Body, "<h2>Поиск"), strings.Index(res.Body, `action="/support/logout"`)
			page := strings.NewReplacer(tc.query, "", htmlEscaped(tc.query), "").Replace(res.Body[i:j])
			page = csrfField.ReplaceAllString(page, "")
			notFoundPages = append(notFoundPages, tc.oid+":"+page)
		})
	}
	same := map[string]string{}
	for _, p := range notFoundPages {
		oid, page, _ := strings.Cut(p, ":")
		if prev, ok := same[oid]; ok && prev != page {
			t.Errorf("%s: «не найдено» for another school's code differs from that of a missing code:\n%s\n---\n%s", oid, prev, page)
		}
		same[oid] = page
	}

	t.Run("no grant: the no-access page only", func(t *testing.T) {
		br, page := signInSupport(t, b, oidNoGrant)
		if page.Status != http.StatusForbidden || !strings.Contains(page.Body, "Нет доступа к консоли поддержки") ||
			strings.Contains(page.Body, "/support/search") || strings.Contains(page.Body, "Смирнова") {
			t.Fatalf("no grant: %d %.800s", page.Status, page.Body)
		}
		// No session was made: /support starts a sign-in again.
		br.stopAt = b.URL + "/esia-sim/"
		if again := br.get(b.URL + "/support"); again.Redirect == nil || !strings.Contains(again.Redirect.Path, "/esia-sim/") {
			t.Fatalf("after no access: %d %v", again.Status, again.Redirect)
		}
	})

	t.Run("an unconfirmed account: refused with a reference code", func(t *testing.T) {
		_, page := signInSupport(t, b, "1000100005") // Волкова Дарья, unconfirmed
		if page.Status != http.StatusForbidden || !strings.Contains(page.Body, "Нужна подтверждённая учётная запись") ||
			!strings.Contains(page.Body, "Код обращения") || strings.Contains(page.Body, "/support/search") {
			t.Fatalf("unconfirmed: %d %.800s", page.Status, page.Body)
		}
	})

	logs := b.logs.String()
	for _, secret := range []string{"Григорьева", "Светлана", "Романов", "Константин", "Смирнова", "140-321-598", "14032159813",
		"151-642-709", "15164270949", "132-057-694", "Павлов", "104-517-893"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TestSupportConsoleSession: the console's session — no-store, the strict
// CSP and a masked name on its pages; CSRF on the search and on «Выйти»; a
// revoked grant ends it at the next request; it lapses after 30 idle
// minutes and after 8 hours however busy; «Выйти» ends the ESIA session
// too.
func TestSupportConsoleSession(t *testing.T) {
	b := startBroker(t, true, nil)
	br, home := signInSupport(t, b, oidTenantSupport)
	if home.Status != http.StatusOK || !strings.Contains(home.Body, "Г*** С*** И***") || strings.Contains(home.Body, "Григорьева") {
		t.Fatalf("home: %d %.600s", home.Status, home.Body)
	}
	resp, err := br.client.Get(b.URL + "/support")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("headers: %v", resp.Header)
	}
	br.stopAt = b.URL + "/esia-sim/"
	signedOut := func(t *testing.T, what string) {
		t.Helper()
		if o := br.get(b.URL + "/support"); o.Redirect == nil || !strings.Contains(o.Redirect.Path, "/esia-sim/") {
			t.Fatalf("%s: /support answers %d %.300s, want a new sign-in", what, o.Status, o.Body)
		}
	}

	t.Run("forms need the CSRF token", func(t *testing.T) {
		for _, action := range []string{"/support/search", "/support/logout"} {
			resp, err := br.client.PostForm(b.URL+action, url.Values{"csrf": {"forged"}, "ref": {"ZZZZZ-ZZZZZ"}})
			if err != nil {
				t.Fatal(err)
			}
			o := br.outcome(resp)
			if o.Status != http.StatusForbidden || !strings.Contains(o.Body, "Форма устарела") {
				t.Fatalf("%s with a forged token: %d %.300s", action, o.Status, o.Body)
			}
		}
		if o := br.get(b.URL + "/support"); o.Status != http.StatusOK || !strings.Contains(o.Body, "Консоль поддержки") {
			t.Fatalf("the forged logout ended the session: %d", o.Status)
		}
	})

	t.Run("idle for 30 minutes", func(t *testing.T) {
		b.clock.Advance(29 * time.Minute)
		if o := br.get(b.URL + "/support"); o.Status != http.StatusOK {
			t.Fatalf("after 29 idle minutes: %d", o.Status)
		}
		b.clock.Advance(31 * time.Minute)
		signedOut(t, "after 31 idle minutes")
	})

	t.Run("at most 8 hours", func(t *testing.T) {
		br2, _ := signInSupport(t, b, oidTenantSupport)
		br2.stopAt = b.URL + "/esia-sim/"
		for i := 0; i < 19; i++ { // busy: a request every 25 minutes, to 7 h 55 min
			b.clock.Advance(25 * time.Minute)
			if o := br2.get(b.URL + "/support"); o.Status != http.StatusOK {
				t.Fatalf("after %d busy steps: %d", i+1, o.Status)
			}
		}
		b.clock.Advance(10 * time.Minute) // 8 h 05 min after the sign-in, 10 idle
		if o := br2.get(b.URL + "/support"); o.Redirect == nil {
			t.Fatalf("after 8 hours: %d, want a new sign-in", o.Status)
		}
	})

	t.Run("a revoked grant ends the session", func(t *testing.T) {
		br3, home := signInSupport(t, b, oidSchoolAdmin)
		if home.Status != http.StatusOK {
			t.Fatalf("sign-in: %d", home.Status)
		}
		grants, err := b.comp.Store.ListStaffGrants(context.Background(), server.DevTenant)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range grants {
			if g.Role == store.StaffSchoolAdmin {
				if err := b.comp.Store.DeleteStaffGrant(context.Background(), g.TenantID, g.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if o := searchRef(t, br3, home, "ZZZZZ-ZZZZZ"); o.Status != http.StatusForbidden || !strings.Contains(o.Body, "Нет доступа") {
			t.Fatalf("after the revocation: %d %.300s", o.Status, o.Body)
		}
	})

	t.Run("Выйти ends the console's and the ESIA session", func(t *testing.T) {
		br4, home := signInSupport(t, b, oidTenantSupport)
		out := br4.submit(home, "/support/logout", nil)
		if out.Status != http.StatusOK || !strings.Contains(out.Body, "Вы вышли") {
			t.Fatalf("logout: %d %.300s", out.Status, out.Body)
		}
		br4.stopAt = b.URL + "/esia-sim/"
		if o := br4.get(b.URL + "/support"); o.Redirect == nil {
			t.Fatalf("after logout: %d, want a new sign-in", o.Status)
		}
	})
}

// TestSupportCallbackInAnotherBrowser: ESIA's answer to a staff sign-in
// opened in another browser signs no one in there (the «Сеанс входа
// устарел» page, no console cookie, /support starts a sign-in) and leaves
// the sign-in to the browser that began it.
func TestSupportCallbackInAnotherBrowser(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		staff := newBrowser(t)
		staff.stopAt = b.URL + "/esia/callback"
		o := staff.get(b.URL + "/support?sim_person=" + oidTenantSupport)
		if o.Redirect == nil || o.Redirect.Path != "/esia/callback" {
			t.Fatalf("no redirect to the callback: %d %.300s", o.Status, o.Body)
		}
		callback := o.Redirect.String()
		staff.stopAt = ""

		other := newBrowser(t)
		page := other.get(callback)
		otherBrowserPage(t, page)
		if strings.Contains(page.Body, "Консоль поддержки</h1>") || !strings.Contains(page.Body, `href="/support"`) {
			t.Fatalf("callback in another browser: %.600s", page.Body)
		}
		other.stopAt = b.URL + "/esia-sim/"
		if o := other.get(b.URL + "/support"); o.Redirect == nil || !strings.Contains(o.Redirect.Path, "/esia-sim/") {
			t.Fatalf("the other browser got a session: %d %.300s", o.Status, o.Body)
		}
		home := staff.get(callback)
		if home.Status != http.StatusOK || !strings.Contains(home.Body, "Консоль поддержки") || !strings.Contains(home.Body, "Г*** С*** И***") {
			t.Fatalf("the browser that began it: %d %.600s", home.Status, home.Body)
		}
	})
}
