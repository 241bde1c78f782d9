package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
)

var refOnPage = regexp.MustCompile(`Код обращения: <strong>([0-9A-Z]{5}-[0-9A-Z]{5})</strong>`)

// resultPage runs a login as oid up to its result page and returns the
// page's URL (the broker's 303 after ESIA's callback) with the browser
// that got it.
func resultPage(t *testing.T, b *broker, oid string) (*browser, string) {
	t.Helper()
	br := newBrowser(t)
	br.stopAt = b.URL + "/login/result/"
	o := br.get(newDiary(b).authURL(oauth2.SetAuthURLParam("sim_person", oid)))
	if o.Status != http.StatusSeeOther || o.Redirect == nil || !strings.HasPrefix(o.Redirect.Path, "/login/result/") {
		t.Fatalf("no redirect to a result page: %d %v %.300s", o.Status, o.Redirect, o.Body)
	}
	br.stopAt = ""
	return br, b.URL + o.Redirect.Path
}

// TestResultPagesReload: every result page of a login — the consent
// page, the role picker, «Нужно согласие родителя», «Ваш дневник не
// найден» — is reached by a redirect after ESIA's callback and shows the
// same page, reference code included, on every reload in the browser that
// got it; in another browser it shows nothing of it.
func TestResultPagesReload(t *testing.T) {
	b := startBroker(t, true, nil)
	for _, tc := range []struct {
		name, oid string
		status    int
		want      string
	}{
		{"consent page", oidTeacher, http.StatusOK, `action="/consent"`},
		{"role picker", oidTeacherParent, http.StatusOK, `action="/login/role"`},
		{"parental consent required", oidChild, http.StatusForbidden, "Кузнецов А. С."},
		{"not found", oidNotInRoster, http.StatusForbidden, "Код обращения"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br, u := resultPage(t, b, tc.oid)
			first := br.get(u)
			if first.Status != tc.status || !strings.Contains(first.Body, tc.want) {
				t.Fatalf("first: %d %.600s", first.Status, first.Body)
			}
			ref := refOnPage.FindStringSubmatch(first.Body)
			for i := range 2 {
				again := br.get(u)
				if again.Status != tc.status || !strings.Contains(again.Body, tc.want) {
					t.Fatalf("reload %d: %d %.600s", i, again.Status, again.Body)
				}
				if ref != nil && !strings.Contains(again.Body, ref[1]) {
					t.Fatalf("reload %d lost the reference code %s", i, ref[1])
				}
			}
			other := newBrowser(t).get(u)
			if other.Status != http.StatusForbidden || strings.Contains(other.Body, tc.want) || refOnPage.MatchString(other.Body) {
				t.Fatalf("another browser: %d %.600s", other.Status, other.Body)
			}
		})
	}
}

// TestConsentPageReloadThenAnswer: a consent page reloaded still takes the
// answer, and the login reaches the diary; reloaded after the answer it
// says the login is over and keeps the reference code.
func TestConsentPageReloadThenAnswer(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	br := newBrowser(t)
	br.stopAt = b.URL + "/login/result/"
	o := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
	br.stopAt = ""
	u := b.URL + o.Redirect.Path
	br.get(u)
	page := br.get(u)
	tokens(t, b, d, br.submit(page, "/consent", map[string][]string{"decision": {"accept"}}))
	after := br.get(u)
	if after.Status != http.StatusGone || !strings.Contains(after.Body, "Сеанс входа устарел") || !refOnPage.MatchString(after.Body) ||
		!strings.Contains(after.Body, "Вернуться в дневник") {
		t.Fatalf("after the answer: %d %.600s", after.Status, after.Body)
	}
}

// TestResultPageAfterItsLogin: the form of a result page lasts as long as
// the paused login (10 minutes); after it the page keeps the reference
// code for two hours, then it is gone.
func TestResultPageAfterItsLogin(t *testing.T) {
	b := startBroker(t, true, nil)
	br, u := resultPage(t, b, oidTeacher)
	ref := refOnPage.FindStringSubmatch(br.get(u).Body)
	if ref != nil {
		t.Fatalf("a consent page shows a reference code: %v", ref)
	}
	b.clock.Advance(11 * time.Minute)
	o := br.get(u)
	if o.Status != http.StatusGone || !refOnPage.MatchString(o.Body) || strings.Contains(o.Body, `action="/consent"`) {
		t.Fatalf("after the login's time: %d %.600s", o.Status, o.Body)
	}
	b.clock.Advance(2 * time.Hour)
	if o := br.get(u); o.Status != http.StatusNotFound || refOnPage.MatchString(o.Body) {
		t.Fatalf("after two hours: %d %.600s", o.Status, o.Body)
	}
}

// TestResultViewStoresLittle: what a result page keeps for its reloads
// stays within a few KiB, even for a diary request at the limits of its
// parameters (a 1 KiB state travels in the way back to the diary).
func TestResultViewStoresLittle(t *testing.T) {
	recordingBroker(t, func(t *testing.T, b *broker, rec *putRecorder) {
		for _, oid := range []string{oidNotInRoster, oidChild, oidTeacher} {
			rec.reset()
			br := newBrowser(t)
			o := br.get(newDiary(b).authURL(oauth2.SetAuthURLParam("sim_person", oid), oauth2.SetAuthURLParam("state", strings.Repeat("s", oauth.MaxState))))
			if !strings.Contains(o.Body, "Код обращения") && !strings.Contains(o.Body, `action="/consent"`) {
				t.Fatalf("%s: no result page: %d %.300s", oid, o.Status, o.Body)
			}
			largest, _, key := rec.stored()
			if largest > 4<<10 {
				t.Fatalf("%s: stored %d bytes under %.30q", oid, largest, key)
			}
			t.Logf("%s: largest put %d bytes (%.12s…)", oid, largest, key)
		}
	})
}
