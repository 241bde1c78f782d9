package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// Fixture persons (pkg/esia/esiasim/fixtures) used here.
const (
	oidTeacher       = "1000100001" // Смирнова Елена, record t-0001
	oidParent        = "1000100002" // Кузнецов Андрей, two children
	oidChild         = "1000100003" // Кузнецова Алиса, 10, child account
	oid15            = "1000100004" // Морозов Даниил, 15, own account
	oidSNILSTypo     = "1000100007" // Павлов Игорь: roster SNILS has a typo
	oidNoSNILS       = "1000100008" // Ким Виктория: no SNILS
	oidTeacherParent = "1000100011" // Соловьёв Пётр: teacher and parent
	oidNotInRoster   = "1000100015" // Орлов Сергей
	oidRefuses       = "1000100016" // Федорова Наталья: always ESIA-007004
)

func TestLoginEndToEndDevMode(t *testing.T) {
	b := startBroker(t, true, nil)
	// The children's parents have consented (consent has its own tests).
	grantDirect(t, b, "s-0001", store.ConsentParental)
	grantDirect(t, b, "s-0003", store.ConsentParental)
	tests := []struct {
		name     string
		oid      string
		role     string
		personID string
		roles    []string
		ageGroup string
		trust    string
		children []string
	}{
		{"adult teacher", oidTeacher, "", "t-0001", []string{"teacher"}, "adult", "confirmed", nil},
		{"child under 14 with a child account", oidChild, "", "s-0001", []string{"student"}, "under14", "child", nil},
		{"15-year-old with an own account", oid15, "", "", []string{"student"}, "14to17", "confirmed", nil},
		{"parent sees children", oidParent, "", "", []string{"parent"}, "adult", "confirmed", []string{"s-0001", "s-0002"}},
		{"role parameter picks the parent record", oidTeacherParent, "parent", "p-0005", []string{"parent", "teacher"}, "adult", "confirmed", []string{"s-0008"}},
		{"role parameter picks the teacher record", oidTeacherParent, "teacher", "t-0002", []string{"parent", "teacher"}, "adult", "confirmed", []string{"s-0008"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			var extra []oauth2.AuthCodeOption
			if tc.role != "" {
				extra = append(extra, oauth2.SetAuthURLParam("role", tc.role))
			}
			tok, claims := tokens(t, b, d, loginAs(t, b, d, tc.oid, extra...))
			if tc.personID != "" && claims["person_id"] != tc.personID {
				t.Errorf("person_id = %v, want %s", claims["person_id"], tc.personID)
			}
			if got := strings.Join(toStrings(claims["roles"]), ","); got != strings.Join(tc.roles, ",") {
				t.Errorf("roles = %v, want %v", got, tc.roles)
			}
			if claims["age_group"] != tc.ageGroup || claims["esia_trust"] != tc.trust || claims["tenant"] != server.DevTenant {
				t.Errorf("claims = %v", claims)
			}
			if tc.children != nil && strings.Join(toStrings(claims["children"]), ",") != strings.Join(tc.children, ",") {
				t.Errorf("children = %v, want %v", claims["children"], tc.children)
			}
			if claims["family_name"] == nil || claims["sub"] == nil {
				t.Errorf("profile claims missing: %v", claims)
			}
			// The refresh token works and rotates.
			tok.Expiry = time.Now().Add(-time.Minute)
			next, err := d.cfg.TokenSource(context.Background(), tok).Token()
			if err != nil || next.RefreshToken == tok.RefreshToken {
				t.Fatalf("refresh: %v", err)
			}
		})
	}
}

// TestRolePicker: a teacher who is also a parent, with no role parameter,
// chooses on the broker's page (a plain form with a CSRF token).
func TestRolePicker(t *testing.T) {
	b := startBroker(t, true, nil)
	for _, tc := range []struct{ role, personID string }{{"teacher", "t-0002"}, {"parent", "p-0005"}} {
		t.Run(tc.role, func(t *testing.T) {
			d := newDiary(b)
			br := newBrowser(t)
			page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacherParent)))
			if page.Status != 200 || !strings.Contains(page.Body, "Кем вы входите?") {
				t.Fatalf("no role picker: %d %.300s", page.Status, page.Body)
			}
			_, claims := tokens(t, b, d, br.chooseRole(page, tc.role))
			if claims["person_id"] != tc.personID || strings.Join(toStrings(claims["roles"]), ",") != "parent,teacher" {
				t.Fatalf("claims = %v", claims)
			}
		})
	}
	t.Run("forged form without the CSRF cookie", func(t *testing.T) {
		d := newDiary(b)
		br := newBrowser(t)
		page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacherParent)))
		o := newBrowser(t).chooseRole(page, "teacher") // another browser: no cookie
		if o.Status != http.StatusForbidden || o.Redirect != nil {
			t.Fatalf("forged post: %d", o.Status)
		}
	})
	t.Run("replayed form", func(t *testing.T) {
		d := newDiary(b)
		br := newBrowser(t)
		page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacherParent)))
		if o := br.chooseRole(page, "teacher"); o.Redirect == nil {
			t.Fatalf("first post: %d", o.Status)
		}
		if o := br.chooseRole(page, "teacher"); o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Сеанс входа устарел") {
			t.Fatalf("replay: %d", o.Status)
		}
	})
	t.Run("a role that was not offered", func(t *testing.T) {
		d := newDiary(b)
		br := newBrowser(t)
		page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacherParent)))
		if o := br.chooseRole(page, "staff"); o.Status != http.StatusBadRequest {
			t.Fatalf("staff: %d", o.Status)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, x.(string))
		}
	}
	return out
}

// TestSubjectIsPairwiseAndStable checks sub: the same person gets the same
// sub on every login, a different person another.
func TestSubjectIsPairwiseAndStable(t *testing.T) {
	b := startBroker(t, true, nil)
	grantDirect(t, b, "s-0001", store.ConsentParental)
	sub := func(oid string) any {
		d := newDiary(b)
		_, c := tokens(t, b, d, loginAs(t, b, d, oid))
		return c["sub"]
	}
	a1, a2, other := sub(oidTeacher), sub(oidTeacher), sub(oidChild)
	if a1 != a2 || a1 == other || a1 == oidTeacher {
		t.Fatalf("sub: %v %v %v", a1, a2, other)
	}
}

// errorRedirect checks a failure page: a reference code, and a button back
// to the diary carrying error, reason, ref and state.
func errorRedirect(t *testing.T, o outcome, d *diary, reason string) string {
	t.Helper()
	if o.Redirect != nil {
		t.Fatalf("expected a page, got a redirect to %s", o.Redirect)
	}
	if !strings.Contains(o.Body, "Код обращения") || !strings.Contains(o.Body, "Вернуться в дневник") {
		t.Fatalf("page lacks the reference code or the way back: %.600s", o.Body)
	}
	i := strings.Index(o.Body, `href="`+diaryRedirect)
	if i < 0 {
		t.Fatalf("no link back to the diary: %.600s", o.Body)
	}
	href := o.Body[i+6:]
	href = htmlUnescape(href[:strings.Index(href, `"`)])
	u, err := parseURL(href)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("error") != "access_denied" || q.Get("error_description") != reason || q.Get("state") != d.state || len(q.Get("ref")) != 10 {
		t.Fatalf("back link = %s, want access_denied/%s", href, reason)
	}
	if !strings.Contains(o.Body, login.FormatRef(q.Get("ref"))) {
		t.Fatalf("page does not show ref %s", login.FormatRef(q.Get("ref")))
	}
	return q.Get("ref")
}

func TestLoginFailuresAfterValidation(t *testing.T) {
	b := startBroker(t, true, func(s *server.Settings) { s.ESIA.Timeout = 300 * time.Millisecond })
	sim := b.comp.Simulator
	tests := []struct {
		name    string
		oid     string
		setup   func(t *testing.T)
		reason  string
		outcome string
	}{
		{"no diary record", oidNotInRoster, nil, "not_found", "not_found"},
		{"SNILS typo in the roster", oidSNILSTypo, nil, "not_found", "not_found"},
		{"ESIA person without SNILS", oidNoSNILS, nil, "not_found", "not_found"},
		{"user refused at ESIA (ESIA-007004)", oidRefuses, nil, "user_refused", "user_refused"},
		{"ESIA token endpoint 5xx", oidTeacher, func(t *testing.T) {
			sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503, Times: 1})
		}, "esia_unavailable", "esia_unavailable"},
		{"ESIA token endpoint time-out", oidTeacher, func(t *testing.T) {
			sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Hang: true, Times: 1})
		}, "esia_unavailable", "esia_unavailable"},
		{"tampered ESIA JWT (signed by an untrusted key)", oidTeacher, func(t *testing.T) {
			_, other, err := esiasim.SelfSignedRSA("not ESIA", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			keys := b.comp.ESIA.Keys
			fake, err := esia.ParseKeySet(pemCert(other))
			if err != nil {
				t.Fatal(err)
			}
			b.comp.ESIA.Keys = fake
			t.Cleanup(func() { b.comp.ESIA.Keys = keys })
		}, "esia_token_invalid", "esia_token_invalid"},
		// ESIA's tokens live one minute; the broker's clock runs three
		// minutes ahead (within the five ESIA allows its timestamp), so they
		// have expired beyond the 60 s leeway when the broker checks them.
		{"expired ESIA JWT", oidTeacher, func(t *testing.T) {
			sim.SetTokenLifetime(time.Minute)
			now := b.comp.ESIA.Now
			b.comp.ESIA.Now = func() time.Time { return time.Now().Add(3 * time.Minute) }
			t.Cleanup(func() { b.comp.ESIA.Now = now; sim.SetTokenLifetime(0) })
		}, "esia_token_invalid", "esia_token_invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t)
			}
			d := newDiary(b)
			o := loginAs(t, b, d, tc.oid)
			ref := errorRedirect(t, o, d, tc.reason)
			a, err := b.comp.Store.GetAttempt(context.Background(), ref)
			if err != nil {
				t.Fatalf("attempt %s not stored: %v", ref, err)
			}
			if a.Outcome != tc.outcome || a.Reason != tc.reason || a.ClientID != server.DevClientID || a.TenantID != server.DevTenant {
				t.Fatalf("attempt = %+v", a)
			}
		})
	}
}

// TestAttemptRecordsWhatWasCompared checks that support can see, by the
// reference code, which field disagreed — masked, never raw.
func TestAttemptRecordsWhatWasCompared(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	ref := errorRedirect(t, loginAs(t, b, d, oidSNILSTypo), d, "not_found")
	a, err := b.comp.Store.GetAttempt(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var link json.RawMessage
	steps := []string{}
	for _, ev := range a.Events {
		steps = append(steps, ev.Step)
		if ev.Step == "link" {
			link = ev.Detail
		}
	}
	if strings.Join(steps, ",") != "authorize,esia,link" {
		t.Fatalf("steps = %v", steps)
	}
	var detail struct {
		Outcome    string `json:"outcome"`
		Candidates []struct {
			Record string `json:"record"`
			Fields []struct {
				Field, Result, Difference, Roster, ESIA string
			} `json:"fields"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal(link, &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Outcome != "not_found" || len(detail.Candidates) == 0 {
		t.Fatalf("detail = %s", link)
	}
	c := detail.Candidates[0]
	found := false
	for _, f := range c.Fields {
		if f.Field == "snils" {
			found = true
			if f.Result != "different" || f.Difference != "one_digit" {
				t.Fatalf("snils explanation = %+v", f)
			}
		}
	}
	if !found || c.Record != "st-0001" && c.Record == "" {
		t.Fatalf("candidate = %+v", c)
	}
	// No raw personal data in the attempt or the logs.
	for _, secret := range []string{"104-517-893 44", "10451789344", "Павлов", "21.09.1974", "1974-09-21"} {
		if strings.Contains(string(link), secret) {
			t.Fatalf("attempt detail contains %q: %s", secret, link)
		}
		if strings.Contains(b.logs.String(), secret) {
			t.Fatalf("logs contain %q", secret)
		}
	}
}

func TestAuthorizeRejectedBeforeRedirectIsAPage(t *testing.T) {
	b := startBroker(t, true, nil)
	tests := []struct {
		name string
		edit func(d *diary)
	}{
		{"unknown client", func(d *diary) { d.cfg.ClientID = "no-such-diary" }},
		{"unregistered redirect URI", func(d *diary) { d.cfg.RedirectURL = "http://127.0.0.1:8089/evil" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			tc.edit(d)
			o := loginAs(t, b, d, oidTeacher)
			if o.Redirect != nil || o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Неверный запрос на вход") {
				t.Fatalf("got status %d redirect %v", o.Status, o.Redirect)
			}
			if strings.Contains(o.Body, "Вернуться в дневник") {
				t.Fatal("a page before validation must not send the person anywhere")
			}
		})
	}
}

func TestAuthorizeRejectedAfterValidationRedirects(t *testing.T) {
	b := startBroker(t, true, nil)
	tests := []struct {
		name    string
		url     func(d *diary) string
		wantErr string
	}{
		{"missing PKCE", func(d *diary) string { return d.cfg.AuthCodeURL(d.state) }, "invalid_request"},
		{"plain PKCE", func(d *diary) string {
			return d.cfg.AuthCodeURL(d.state, oauth2.SetAuthURLParam("code_challenge", d.verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		}, "invalid_request"},
		{"unknown role", func(d *diary) string { return d.authURL(oauth2.SetAuthURLParam("role", "director")) }, "invalid_request"},
		{"short state", func(d *diary) string { d.state = "abc"; return d.authURL() }, "invalid_state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			o := newBrowser(t).get(tc.url(d))
			if o.Redirect == nil {
				t.Fatalf("no redirect; status %d", o.Status)
			}
			if got := o.Redirect.Query().Get("error"); got != tc.wantErr {
				t.Fatalf("error = %q, want %q (%s)", got, tc.wantErr, o.Redirect)
			}
		})
	}
}

func TestCallbackStates(t *testing.T) {
	b := startBroker(t, true, nil)
	t.Run("unknown state", func(t *testing.T) {
		o := newBrowser(t).get(b.URL + "/esia/callback?code=abc&state=" + "0b9d9a8e-2f43-4c0e-9a39-6d1c3a9e2b11")
		if o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Сеанс входа устарел") || o.Redirect != nil {
			t.Fatalf("status %d: %.300s", o.Status, o.Body)
		}
	})
	t.Run("callback replayed", func(t *testing.T) {
		grantDirect(t, b, "t-0001", store.ConsentSelf)
		d := newDiary(b)
		br := newBrowser(t)
		page := br.get(d.authURL())
		br.stopAt = b.URL + "/esia/callback"
		cb := br.chooseOnSimulator(page, oidTeacher)
		if cb.Redirect == nil || cb.Redirect.Path != "/esia/callback" {
			t.Fatalf("simulator did not redirect to the callback: %d", cb.Status)
		}
		br.stopAt = ""
		first := br.get(cb.Redirect.String())
		if first.Redirect == nil || first.Redirect.Query().Get("code") == "" {
			t.Fatalf("first callback: %d %.300s", first.Status, first.Body)
		}
		again := br.get(cb.Redirect.String())
		if again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "Сеанс входа устарел") {
			t.Fatalf("replayed callback: %d %.300s", again.Status, again.Body)
		}
	})
}

// TestExpiredLoginState lets the login wait at ESIA longer than the login
// time-out (the clock is injected; nothing sleeps).
func TestExpiredLoginState(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	br := newBrowser(t)
	page := br.get(d.authURL())
	if !strings.Contains(page.Body, "Выберите тестового пользователя") {
		t.Fatalf("no simulator page: %.300s", page.Body)
	}
	b.clock.Advance(16 * time.Minute)
	o := br.chooseOnSimulator(page, oidTeacher)
	if o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Сеанс входа устарел") {
		t.Fatalf("status %d: %.300s", o.Status, o.Body)
	}
}

func TestCodeReplayIsRejected(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	o := loginAs(t, b, d, oidTeacher)
	tokens(t, b, d, o)
	_, err := d.cfg.Exchange(context.Background(), o.Redirect.Query().Get("code"), oauth2.VerifierOption(d.verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("replayed code: %v", err)
	}
}

func TestLinkIsReusedAtNextLogin(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	links, err := b.comp.Store.LinksByOID(context.Background(), server.DevTenant, oidTeacher)
	if err != nil || len(links) != 1 || links[0].Rung != "snils" || links[0].ExternalID != "t-0001" {
		t.Fatalf("links = %+v, %v", links, err)
	}
	d2 := newDiary(b)
	o := loginAs(t, b, d2, oidTeacher)
	tokens(t, b, d2, o)
	ref := ""
	attempts, _ := b.comp.Store.AttemptsByOID(context.Background(), server.DevTenant, oidTeacher, 1)
	if len(attempts) == 1 {
		ref = attempts[0].Ref
	}
	a, err := b.comp.Store.GetAttempt(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(a.Events[2].Detail), `"rung":"link"`) || a.Outcome != "issued" {
		t.Fatalf("second login: %+v %s", a, a.Events[2].Detail)
	}
	_ = store.LinkActive
}
