package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

var (
	reportRefField = regexp.MustCompile(`name="ref" value="([^"]+)"`)
	ticketLink     = regexp.MustCompile(`/support/tickets/(tkt-[a-z0-9]+)`)
)

// failedLogin runs a diary login of oid that fails with reason and
// returns the browser, its failure page and the reference code.
func failedLogin(t *testing.T, b *broker, oid, reason string) (*browser, outcome, string) {
	t.Helper()
	d := newDiary(b)
	br := newBrowser(t)
	page := br.through(br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oid))))
	return br, page, errorRedirect(t, page, d, reason)
}

// report submits «Сообщить о проблеме» on a failure page.
func report(t *testing.T, br *browser, page outcome, contact, comment string) outcome {
	t.Helper()
	m := reportRefField.FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `action="/login/report"`) || !strings.Contains(page.Body, "Сообщить о проблеме") {
		t.Fatalf("no report form on: %.1500s", page.Body)
	}
	return br.submit(page, "/login/report", url.Values{"ref": {htmlUnescape(m[1])}, "contact": {contact}, "comment": {comment}})
}

// consoleGet opens a console page in a signed-in staff browser.
func consoleGet(br *browser, b *broker, path string) outcome { return br.get(b.URL + path) }

// TestTicketFromNotFoundPage (memory; PostgreSQL and Redis): Павлов's failed login page offers «Сообщить
// о проблеме»; the ticket reaches the queue of his school's admin and not
// that of another school's, whose every URL of it answers «не найдено»;
// the admin takes it, comments and resolves it, each step audited; the
// contact is masked on the page and never in the logs.
func TestTicketFromNotFoundPage(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testTicketFromNotFoundPage(t, startBroker(t, true, be.edit(t))) })
	}
}

func testTicketFromNotFoundPage(t *testing.T, b *broker) {
	ctx := context.Background()
	if _, err := (&support.Grants{Store: b.comp.Store, Index: b.comp.PII}).Grant(ctx, support.GrantRequest{
		TenantID: server.DevTenant, SNILS: "132-057-694 39", Role: store.StaffSchoolAdmin, Schools: []string{"МБОУ Лицей № 3"}, By: "test"}); err != nil {
		t.Fatal(err)
	}
	br, page, ref := failedLogin(t, b, oidSNILSTypo, "not_found")
	formatted := login.FormatRef(ref)
	sent := report(t, br, page, "+7 (900) 123-45-67", "Сын Павлов Игорь не может войти")
	if sent.Status != http.StatusOK || !strings.Contains(sent.Body, "Сообщение отправлено") || !strings.Contains(sent.Body, formatted) {
		t.Fatalf("confirmation: %d %.1000s", sent.Status, sent.Body)
	}
	// One open ticket per code: a second report stores nothing more.
	again := report(t, br, page, "other@example.ru", "ещё раз")
	if again.Status != http.StatusOK || !strings.Contains(again.Body, "Сообщение уже получено") || !strings.Contains(again.Body, formatted) {
		t.Fatalf("second report: %d %.1000s", again.Status, again.Body)
	}
	all, err := b.comp.Store.TicketsInScope(ctx, store.Scope{Role: store.StaffOperator}, "", 0)
	if err != nil || len(all) != 1 || all[0].Ref != ref || all[0].Contact != "+79001234567" || len(all[0].Schools) != 1 || all[0].Schools[0] != "МБОУ СОШ № 1" {
		t.Fatalf("tickets: %+v %v", all, err)
	}
	id := all[0].ID

	// Another school's admin: not in the queue, and the ticket's page and
	// actions answer as for a ticket that does not exist.
	other, _ := signInSupport(t, b, oidLyceumAdmin)
	if q := consoleGet(other, b, "/support/tickets"); q.Status != http.StatusOK || strings.Contains(q.Body, formatted) || !strings.Contains(q.Body, "Обращений нет") {
		t.Fatalf("another school's queue: %d %.1500s", q.Status, q.Body)
	}
	missing := consoleGet(other, b, "/support/tickets/tkt-doesnotexist")
	foreign := consoleGet(other, b, "/support/tickets/"+id)
	if foreign.Status != http.StatusNotFound || missing.Status != http.StatusNotFound || !strings.Contains(foreign.Body, "Обращение не найдено") ||
		strings.Contains(foreign.Body, formatted) || csrfField.ReplaceAllString(foreign.Body, "") != csrfField.ReplaceAllString(missing.Body, "") {
		t.Fatalf("another school's ticket: %d %.1500s\nmissing: %d %.1500s", foreign.Status, foreign.Body, missing.Status, missing.Body)
	}
	home := consoleGet(other, b, "/support")
	if act := other.submit(home, "/support/tickets/"+id, url.Values{"action": {"assign"}}); act.Status != http.StatusNotFound {
		t.Fatalf("another school's assignment: %d %.800s", act.Status, act.Body)
	}

	// His school's admin.
	admin, home := signInSupport(t, b, oidSchoolAdmin)
	if !strings.Contains(home.Body, `href="/support/tickets?grant=`) || strings.Contains(home.Body, "/support/audit") {
		t.Fatalf("the console's navigation: %.2000s", home.Body)
	}
	q := consoleGet(admin, b, "/support/tickets")
	if q.Status != http.StatusOK || !strings.Contains(q.Body, formatted) || !strings.Contains(q.Body, "/support/tickets/"+id) || !strings.Contains(q.Body, "новое") {
		t.Fatalf("his school's queue: %d %.2000s", q.Status, q.Body)
	}
	tp := consoleGet(admin, b, "/support/tickets/"+id)
	if tp.Status != http.StatusOK || !strings.Contains(tp.Body, `href="/support/attempts/`+ref+`?grant=`) ||
		!strings.Contains(tp.Body, "***-**-67") || strings.Contains(tp.Body, "123-45") || strings.Contains(tp.Body, "79001234567") ||
		!strings.Contains(tp.Body, "Взять в работу") {
		t.Fatalf("ticket page: %d %.3000s", tp.Status, tp.Body)
	}
	// The code leads to the attempt's page.
	link := regexp.MustCompile(`href="(/support/attempts/[^"]+)"`).FindStringSubmatch(tp.Body)
	if link == nil {
		t.Fatal("no link to the attempt")
	}
	if ap := consoleGet(admin, b, htmlUnescape(link[1])); ap.Status != http.StatusOK || !strings.Contains(ap.Body, formatted) {
		t.Fatalf("attempt page from the ticket: %d %.1000s", ap.Status, ap.Body)
	}
	steps := []struct {
		action, text, want string
	}{
		{"assign", "", "в работе"},
		{"comment", "Исправили СНИЛС в записи", "Исправили СНИЛС в записи"},
		{"resolve", "Запись исправлена, вход работает", "Запись исправлена, вход работает"},
	}
	var open outcome // the last page with forms
	for _, st := range steps {
		open = tp
		tp = admin.submit(tp, "/support/tickets/"+id, url.Values{"action": {st.action}, "text": {st.text}})
		if tp.Status != http.StatusOK || !strings.Contains(tp.Body, st.want) {
			t.Fatalf("%s: %d %.3000s", st.action, tp.Status, tp.Body)
		}
	}
	if !strings.Contains(tp.Body, "решено") || strings.Contains(tp.Body, `value="assign"`) || strings.Contains(tp.Body, `value="resolve"`) {
		t.Fatalf("resolved ticket page: %.3000s", tp.Body)
	}
	if late := admin.submit(open, "/support/tickets/"+id, url.Values{"action": {"comment"}, "text": {"поздно"}}); late.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(late.Body, "уже решено") {
		t.Fatalf("comment on a resolved ticket: %d %.1500s", late.Status, late.Body)
	}
	if r := consoleGet(admin, b, "/support/tickets?state=resolved"); !strings.Contains(r.Body, formatted) {
		t.Fatalf("resolved filter: %.1500s", r.Body)
	}
	if r := consoleGet(admin, b, "/support/tickets?state=new"); strings.Contains(r.Body, formatted) {
		t.Fatalf("new filter: %.1500s", r.Body)
	}
	got, err := b.comp.Store.TicketInScope(ctx, store.Scope{Role: store.StaffOperator}, id)
	if err != nil || got.State != store.TicketResolved || len(got.Notes) != 1 || !strings.HasPrefix(got.AssignedTo, "staff:") {
		t.Fatalf("stored ticket: %+v %v", got, err)
	}
	// Every read and change is in the audit log, with the admin's grant.
	entries, err := b.comp.Store.ListAudit(ctx, server.DevTenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		if e.Target == id {
			if e.Actor != got.AssignedTo {
				t.Errorf("audit entry of another actor: %+v", e)
			}
			count[e.Action]++
		}
	}
	for _, a := range []string{support.AuditReadTicket, support.AuditAssignTicket, support.AuditCommentTicket, support.AuditResolveTicket} {
		if count[a] == 0 {
			t.Errorf("no %s audit entry: %v", a, count)
		}
	}
	logs := b.logs.String()
	for _, secret := range []string{"123-45-67", "9001234567", "other@example.ru", "Сын Павлов", "не может войти"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

// TestTicketTenantQueue (both backends): a failed login with no candidate record goes to
// the tenant's queue: the whole tenant's support sees it, a school's admin
// does not.
func TestTicketTenantQueue(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testTicketTenantQueue(t, startBroker(t, true, be.edit(t))) })
	}
}

func testTicketTenantQueue(t *testing.T, b *broker) {
	br, page, ref := failedLogin(t, b, oidNotInRoster, "not_found")
	if sent := report(t, br, page, "", ""); sent.Status != http.StatusOK || !strings.Contains(sent.Body, "Сообщение отправлено") {
		t.Fatalf("confirmation: %d %.1000s", sent.Status, sent.Body)
	}
	formatted := login.FormatRef(ref)
	sup, _ := signInSupport(t, b, oidTenantSupport)
	q := consoleGet(sup, b, "/support/tickets")
	if !strings.Contains(q.Body, formatted) || !strings.Contains(q.Body, "очередь дневника") {
		t.Fatalf("tenant support's queue: %.2000s", q.Body)
	}
	m := ticketLink.FindStringSubmatch(q.Body)
	if m == nil {
		t.Fatal("no ticket link")
	}
	if tp := consoleGet(sup, b, "/support/tickets/"+m[1]); tp.Status != http.StatusOK || !strings.Contains(tp.Body, "не указан") {
		t.Fatalf("ticket without contact: %d %.2000s", tp.Status, tp.Body)
	}
	admin, _ := signInSupport(t, b, oidSchoolAdmin)
	if q := consoleGet(admin, b, "/support/tickets"); strings.Contains(q.Body, formatted) {
		t.Fatalf("a school admin sees the tenant's queue: %.2000s", q.Body)
	}
	if tp := consoleGet(admin, b, "/support/tickets/"+m[1]); tp.Status != http.StatusNotFound {
		t.Fatalf("a school admin opens the tenant's ticket: %d", tp.Status)
	}
}

// TestReportForm (both backends): the form is CSRF-protected, bounded, rate-limited per
// client IP, checks the contact, and reports only failed logins' codes.
func TestReportForm(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testReportForm(t, startBroker(t, true, be.edit(t))) })
	}
}

func testReportForm(t *testing.T, b *broker) {
	ctx := context.Background()
	count := func() int {
		list, err := b.comp.Store.TicketsInScope(ctx, store.Scope{Role: store.StaffOperator}, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	br, page, ref := failedLogin(t, b, oidSNILSTypo, "not_found")

	// Without the CSRF token (another site's form): refused, nothing stored.
	resp, err := newBrowser(t).client.PostForm(b.URL+"/login/report", url.Values{"ref": {ref}, "contact": {"a@example.ru"}})
	if err != nil {
		t.Fatal(err)
	}
	if o := br.outcome(resp); o.Status != http.StatusForbidden || !strings.Contains(o.Body, "Форма устарела") || count() != 0 {
		t.Fatalf("without csrf: %d %.500s, %d tickets", o.Status, o.Body, count())
	}
	// A contact that is neither: the form again, values kept, nothing stored.
	bad := report(t, br, page, "позвоните маме", "")
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Укажите адрес электронной почты") ||
		!strings.Contains(bad.Body, "позвоните маме") || count() != 0 {
		t.Fatalf("bad contact: %d %.1500s", bad.Status, bad.Body)
	}
	// Too long a comment.
	if long := report(t, br, page, "", strings.Repeat("ж", 1001)); long.Status != http.StatusUnprocessableEntity || count() != 0 {
		t.Fatalf("long comment: %d", long.Status)
	}
	// A body over the limit never reaches the handler.
	if big := report(t, br, page, "", strings.Repeat("x", 9000)); big.Status != http.StatusRequestEntityTooLarge || count() != 0 {
		t.Fatalf("big body: %d", big.Status)
	}
	// The form's code replaced by one of a successful login or of none.
	d := newDiary(b)
	okBrowser := newBrowser(t)
	if o := okBrowser.through(okBrowser.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))); o.Redirect == nil {
		t.Fatalf("teacher login: %d", o.Status)
	}
	forged := reportRefField.ReplaceAllString(page.Body, `name="ref" value="ZZZZZ-ZZZZZ"`)
	if o := report(t, br, outcome{Body: forged, URL: page.URL}, "", ""); o.Status != http.StatusNotFound || count() != 0 {
		t.Fatalf("unknown code: %d %.500s", o.Status, o.Body)
	}
	// Five a minute from one address: the sixth is refused with 429.
	if o := report(t, br, page, "", ""); o.Status != http.StatusOK || count() != 1 {
		t.Fatalf("report: %d %.500s", o.Status, o.Body)
	}
	if o := report(t, br, page, "", ""); o.Status != http.StatusTooManyRequests || o.Body == "" {
		t.Fatalf("sixth report in a minute: %d", o.Status)
	}
}

// TestReportOffered: «Сообщить о проблеме» is on the pages of a login
// that found no record, several or a conflicting one, and the ticket goes
// to the school of the candidate records (support's TestFileRoutes has
// candidates in several schools); the page of a login the person
// cancelled at ESIA has no form.
func TestReportOffered(t *testing.T) {
	alice := `{"role":"student","last_name":"Кузнецова","first_name":"Алиса","middle_name":"Андреевна","snils":"163-527-840 77"`
	tests := []struct {
		name    string
		rows    map[string]string // records put into the roster
		oid     string
		reason  string
		schools []string // where the ticket goes; nil: no form
	}{
		{"not found: his record's school", nil, oidSNILSTypo, "not_found", []string{"МБОУ СОШ № 1"}},
		{"ambiguous: the records' school", map[string]string{
			"s-0001": alice + `,"birth_date":"2016-05-12","school":"МБОУ СОШ № 1"}`,
			"s-dup":  alice + `,"birth_date":"2016-05-12","school":"МБОУ СОШ № 1"}`,
		}, oidChild, "ambiguous", []string{"МБОУ СОШ № 1"}},
		{"conflict: the record's school", map[string]string{
			"s-0001": alice + `,"birth_date":"2016-05-13","school":"МБОУ СОШ № 1"}`,
		}, oidChild, "conflict", []string{"МБОУ СОШ № 1"}},
		{"cancelled at ESIA: no form", nil, oidRefuses, "user_refused", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			ctx := context.Background()
			token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
			grantDirect(t, b, "s-0001", store.ConsentParental)
			for id, row := range tc.rows {
				if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/"+id, token, "application/json", row); r.Status != 200 {
					t.Fatalf("put %s: %d %s", id, r.Status, r.Body)
				}
			}
			br, page, ref := failedLogin(t, b, tc.oid, tc.reason)
			if tc.schools == nil {
				if strings.Contains(page.Body, "/login/report") {
					t.Fatalf("a form on the %s page: %.1500s", tc.reason, page.Body)
				}
				return
			}
			if sent := report(t, br, page, "ivanova@mail.ru", ""); sent.Status != http.StatusOK {
				t.Fatalf("report: %d %.800s", sent.Status, sent.Body)
			}
			list, err := b.comp.Store.TicketsInScope(ctx, store.Scope{Role: store.StaffOperator}, "", 0)
			if err != nil || len(list) != 1 {
				t.Fatalf("tickets: %+v %v", list, err)
			}
			if k := list[0]; k.Ref != ref || k.Reason != tc.reason || strings.Join(k.Schools, "|") != strings.Join(tc.schools, "|") || k.TenantID != server.DevTenant {
				t.Fatalf("ticket %+v, want schools %v", k, tc.schools)
			}
		})
	}
}
