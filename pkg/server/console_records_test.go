package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// oidOperator is given an operator grant by consoleBroker.
const oidOperator = "1000100030" // Васильев Егор

// consoleBroker is dev mode with two schools and two tenants: the demo
// roster of «МБОУ СОШ № 1», a teacher ly-0001 of «МБОУ Лицей № 3» (whose
// admin is oidLyceumAdmin), and a tenant "other" with a record st-0001 of
// the same person as demo's st-0001 (Павлов Игорь, same SNILS); an
// operator (oidOperator) sees both tenants. It returns the reference code
// of Павлов's failed login, formatted. The tests using it run on both
// backends (memory and PostgreSQL).
func consoleBroker(t *testing.T, b *broker) string {
	t.Helper()
	ctx := context.Background()
	grants := &support.Grants{Store: b.comp.Store, Index: b.comp.PII}
	for _, g := range []support.GrantRequest{
		{TenantID: server.DevTenant, SNILS: "132-057-694 39", Role: store.StaffSchoolAdmin, Schools: []string{"МБОУ Лицей № 3"}, By: "test"},
		{SNILS: "145-608-293 70", Role: store.StaffOperator, By: "test"},
	} {
		if _, err := grants.Grant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	other := secondTenant(t, b)
	for _, w := range []struct{ token, id, row string }{
		{roster, "ly-0001", `{"role":"teacher","last_name":"Орлова","first_name":"Нина","middle_name":"Петровна","birth_date":"1980-02-02","school":"МБОУ Лицей № 3"}`},
		{other, "st-0001", `{"role":"staff","last_name":"Павлов","first_name":"Игорь","middle_name":"Николаевич","birth_date":"1974-09-21","snils":"104-527-893 44","school":"МБОУ СОШ № 1"}`},
	} {
		if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/"+w.id, w.token, "application/json", w.row); r.Status != 200 {
			t.Fatalf("put %s: %d %s", w.id, r.Status, r.Body)
		}
	}
	d := newDiary(b)
	ref := errorRedirect(t, loginAs(t, b, d, oidSNILSTypo), d, "not_found")
	return ref[:5] + "-" + ref[5:]
}

// search submits the console's search form.
func search(t *testing.T, br *browser, home outcome, fields url.Values) outcome {
	t.Helper()
	return br.submit(home, "/support/search", fields)
}

var recordRow = regexp.MustCompile(`<a href="/support/records/([^/"]+)/([^?"]+)\?grant=[^"]*">`)

// foundRecords are the tenant/id of the records a search page lists.
func foundRecords(body string) []string {
	var out []string
	for _, m := range recordRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+"/"+m[2])
	}
	slices.Sort(out)
	return out
}

// TestConsoleSearch: the console's one box finds by reference code (the
// attempt and the records it compared), SNILS, record id and birth
// certificate, and the name fields by ФИО and birth date — each within the
// searcher's scope: a school's admin finds only their school's records, a
// tenant's support only their tenant's, the operator every tenant's. The
// list is masked, and every search is audited.
func TestConsoleSearch(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		ref := consoleBroker(t, b)
		text := func(q string) url.Values { return url.Values{"ref": {q}} }
		pavlov := url.Values{"last_name": {"Павлов"}, "first_name": {"Игорь"}, "birth_date": {"21.09.1974"}}
		tests := []struct {
			name, oid   string
			query       url.Values
			want        []string
			wantAttempt bool
		}{
			{"ref code: the attempt and its candidate", oidTenantSupport, text(ref), []string{"demo/st-0001"}, true},
			{"ref code in lower case without the dash", oidSchoolAdmin, text(strings.ToLower(strings.ReplaceAll(ref, "-", ""))), []string{"demo/st-0001"}, true},
			{"ref code, admin of another school", oidLyceumAdmin, text(ref), nil, false},
			{"SNILS, tenant_support: their tenant only", oidTenantSupport, text("104-527-893 44"), []string{"demo/st-0001"}, false},
			{"SNILS without separators, the operator: both tenants", oidOperator, text("10452789344"), []string{"demo/st-0001", "other/st-0001"}, false},
			{"SNILS, admin of another school", oidLyceumAdmin, text("104-527-893 44"), nil, false},
			{"ФИО and birth date", oidSchoolAdmin, pavlov, []string{"demo/st-0001"}, false},
			{"ФИО with ISO date and a typo in the name: similar", oidTenantSupport,
				url.Values{"last_name": {"Павлова"}, "first_name": {"Игорь"}, "birth_date": {"1974-09-21"}}, []string{"demo/st-0001"}, false},
			{"ФИО, operator", oidOperator, pavlov, []string{"demo/st-0001", "other/st-0001"}, false},
			{"ФИО, admin of another school", oidLyceumAdmin, pavlov, nil, false},
			{"birth certificate", oidSchoolAdmin, text("IV-МЮ № 512345"), []string{"demo/s-0001"}, false},
			{"birth certificate, other spelling", oidTenantSupport, text("iv мю 512345"), []string{"demo/s-0001"}, false},
			{"record id", oidTenantSupport, text("ly-0001"), []string{"demo/ly-0001"}, false},
			{"record id of their school", oidLyceumAdmin, text("ly-0001"), []string{"demo/ly-0001"}, false},
			{"record id of another school", oidSchoolAdmin, text("ly-0001"), nil, false},
			{"record id of another tenant", oidTenantSupport, text("st-0001"), []string{"demo/st-0001"}, false},
			{"record id, operator: both tenants", oidOperator, text("st-0001"), []string{"demo/st-0001", "other/st-0001"}, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				br, home := signInSupport(t, b, tc.oid)
				res := search(t, br, home, tc.query)
				if res.Status != http.StatusOK {
					t.Fatalf("search: %d %.500s", res.Status, res.Body)
				}
				if got := foundRecords(res.Body); !slices.Equal(got, tc.want) {
					t.Fatalf("found %v, want %v: %.2000s", got, tc.want, res.Body)
				}
				if got := strings.Contains(res.Body, "Попытка входа "+ref); got != tc.wantAttempt {
					t.Fatalf("attempt shown = %v, want %v", got, tc.wantAttempt)
				}
				if len(tc.want) == 0 && !tc.wantAttempt && !strings.Contains(res.Body, "Не найдено.") {
					t.Fatalf("no «не найдено»: %.1500s", res.Body)
				}
				if i := strings.Index(res.Body, `id="records"`); i >= 0 {
					list := res.Body[i:]
					for _, secret := range []string{"Игорь", "104-527-893", "21.09.1974", "Кузнецова Алиса", "512345"} {
						if strings.Contains(list, secret) {
							t.Errorf("the list shows %q", secret)
						}
					}
					if strings.Contains(strings.Join(tc.want, " "), "st-0001") && (!strings.Contains(list, "Павлов И. Н.") || !strings.Contains(list, "***-***-893 44")) {
						t.Errorf("the masked name and SNILS are missing: %.1500s", list)
					}
				}
			})
		}
		t.Run("a query of nothing", func(t *testing.T) {
			br, home := signInSupport(t, b, oidTenantSupport)
			res := search(t, br, home, url.Values{"last_name": {"Павлов"}})
			if res.Status != http.StatusOK || !strings.Contains(res.Body, "Запрос не понят") {
				t.Fatalf("half a name: %d %.800s", res.Status, res.Body)
			}
		})
		t.Run("audited, without the query", func(t *testing.T) {
			entries := auditOf(t, b, "search_records", "")
			if len(entries) == 0 || !strings.HasPrefix(entries[0].Actor, "staff:") {
				t.Fatalf("audit = %+v", entries)
			}
			for _, e := range entries {
				if strings.Contains(string(e.Detail), "Павлов") || strings.Contains(string(e.Detail), "104-527") {
					t.Fatalf("the audit keeps the query: %s", e.Detail)
				}
			}
		})
		for _, secret := range []string{"Павлов", "104-527-893", "10452789344", "Орлова", "512345"} {
			if strings.Contains(b.logs.String(), secret) {
				t.Errorf("the logs contain %q", secret)
			}
		}
	})
}

// recordPage opens a record's page in the console.
func recordPage(t *testing.T, b *broker, br *browser, tenant, id string) outcome {
	t.Helper()
	return br.get(b.URL + "/support/records/" + tenant + "/" + id)
}

// TestConsoleRecordPage: a record's page shows its roster data masked,
// with a «Показать» form by each masked field; its links, consents with
// their evidence, parents and children, recent attempts (the failed ones
// where it was a candidate too) and webhook events; no-store and the
// strict CSP; the read is audited.
func TestConsoleRecordPage(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		ref := consoleBroker(t, b)
		ctx := context.Background()
		now := b.clock.Now().UTC()
		st := b.comp.Store
		if err := st.CreateLink(ctx, store.Link{TenantID: server.DevTenant, ESIAOID: "1000100002", ExternalID: "s-0001", Role: store.RoleStudent,
			Rung: "snils", Status: store.LinkSuspended, Reason: "snils_changed", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateConsent(ctx, store.Consent{ID: "c-1", TenantID: server.DevTenant, PersonID: "s-0001", Kind: store.ConsentParental,
			GrantorOID: "1000100009", GrantorRecord: "p-0001", TextVersion: "3", Status: store.ConsentGranted, GrantedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.AppendEvidence(ctx, store.Evidence{TenantID: server.DevTenant, PersonID: "s-0001", ConsentID: "c-1", Event: "granted", At: now,
			Details: store.EvidenceDetails{GrantorName: "Кузнецов Андрей Сергеевич", Channel: "parent_page", TextVersion: "3"}}); err != nil {
			t.Fatal(err)
		}
		if err := st.EnqueueEvent(ctx, store.OutboxEvent{ID: "ev-1", TenantID: server.DevTenant, Type: "link.suspended",
			Data: json.RawMessage(`{"person_id":"s-0001"}`), CreatedAt: now, Status: store.EventDead, NextAttemptAt: now, LastError: "503"}); err != nil {
			t.Fatal(err)
		}

		br, _ := signInSupport(t, b, oidTenantSupport)
		page := recordPage(t, b, br, server.DevTenant, "s-0001")
		if page.Status != http.StatusOK {
			t.Fatalf("record: %d %.500s", page.Status, page.Body)
		}
		for _, want := range []string{
			"Запись s-0001", "Кузнецова А. А.", "**.**.2016", "***-***-840 77", "IV-МЮ № ***345", "4А", // roster, masked
			"1000100002", "приостановлена: СНИЛС в записи изменился", // the link and why
			"родителя за ребёнка", `<a href="/support/records/demo/p-0001?grant=`, "запись p-0001", "действует", // the consent
			"согласие дано", "страница родителя", "Скачать выгрузку согласий (152-ФЗ)", "Запросить согласие родителей снова",
			"Кузнецов А. С.", "отец", // the parent
			"link.suspended", "не доставлено", "503", // the webhook
			`<th scope="row">СНИЛС</th>`, `<th scope="col">Событие</th>`,
		} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		for _, secret := range []string{"Алиса", "163-527-840", "12.05.2016", "512345", "Кузнецов Андрей"} {
			if strings.Contains(page.Body, secret) {
				t.Errorf("the page shows %q", secret)
			}
		}
		// A «Показать» form for each masked field (name, birth date, SNILS,
		// birth certificate; s-0001 has no contacts).
		forms := regexp.MustCompile(`(?s)<form method="post" action="/support/unmask" class="unmask">.*?</form>`).FindAllString(page.Body, -1)
		var fields []string
		for _, f := range forms {
			for _, hidden := range []string{`name="kind" value="record"`, `name="tenant" value="demo"`, `name="id" value="s-0001"`, `name="grant" value="stf-`, `name="csrf" value="`} {
				if !strings.Contains(f, hidden) {
					t.Errorf("an unmask form lacks %s: %s", hidden, f)
				}
			}
			if !strings.Contains(f, `name="reason" type="text" required`) || !strings.Contains(f, "Показать полностью</button>") {
				t.Errorf("an unmask form without a required reason: %s", f)
			}
			fields = append(fields, regexp.MustCompile(`name="field" value="([a-z_]+)"`).FindStringSubmatch(f)[1])
		}
		if !slices.Equal(fields, []string{"name", "birth_date", "snils", "birth_cert"}) {
			t.Errorf("unmask forms for %v", fields)
		}
		resp, err := br.client.Get(b.URL + "/support/records/demo/s-0001")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("headers: %v", resp.Header)
		}
		if e := auditOf(t, b, "read_record", "s-0001"); len(e) != 2 || !strings.HasPrefix(e[0].Actor, "staff:stf-") {
			t.Fatalf("read audit = %+v", e)
		}

		t.Run("recent attempts include a failed login where it was a candidate", func(t *testing.T) {
			p := recordPage(t, b, br, server.DevTenant, "st-0001")
			if !strings.Contains(p.Body, `<a href="/support/attempts/`+ref+`?grant=`) || !strings.Contains(p.Body, "not_found") || !strings.Contains(p.Body, "Павлов И. Н.") {
				t.Fatalf("st-0001: %.3000s", p.Body)
			}
		})
		t.Run("without a session: sign in first", func(t *testing.T) {
			anon := newBrowser(t)
			anon.stopAt = b.URL + "/support"
			if o := anon.get(b.URL + "/support/records/demo/s-0001"); o.Redirect == nil || o.Redirect.Path != "/support" || strings.Contains(o.Body, "Кузнецова") {
				t.Fatalf("anonymous: %d %v", o.Status, o.Redirect)
			}
		})
	})
}

// actOn posts a record page's form.
func actOn(t *testing.T, br *browser, page outcome, tenant, id, action string, fields url.Values) outcome {
	t.Helper()
	return br.submit(page, "/support/records/"+tenant+"/"+id+action, fields)
}

// TestConsoleRecordActions: suspend, resume and remove a link, re-open a
// parents' consent request and export the consent evidence — each refused
// without a reason (nothing changes, nothing is audited), done with one,
// through the domain code the API uses (tokens revoked, webhook sent), and
// audited with the staff member's grant and the reason.
func TestConsoleRecordActions(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		consoleBroker(t, b)
		valid := linkedTeacher(t, b) // t-0001 ↔ oidTeacher
		ctx := context.Background()
		linkOf := func() []store.Link {
			ls, err := b.comp.Store.LinksByRecord(ctx, server.DevTenant, "t-0001")
			if err != nil {
				t.Fatal(err)
			}
			return ls
		}
		br, _ := signInSupport(t, b, oidSchoolAdmin)
		page := recordPage(t, b, br, server.DevTenant, "t-0001")
		if page.Status != http.StatusOK || !strings.Contains(page.Body, oidTeacher) {
			t.Fatalf("record: %d %.500s", page.Status, page.Body)
		}
		link := url.Values{"link": {oidTeacher}}
		withReason := func(v url.Values, reason string) url.Values {
			out := url.Values{"reason": {reason}}
			for k, vs := range v {
				out[k] = vs
			}
			return out
		}
		steps := []struct {
			name, action string
			fields       url.Values
			audit        string
			check        func(t *testing.T, o outcome)
		}{
			{"suspend", "/links/suspend", link, "suspend_link", func(t *testing.T, o outcome) {
				if ls := linkOf(); len(ls) != 1 || ls[0].Status != store.LinkSuspended || ls[0].Reason != "support" {
					t.Fatalf("links = %+v", ls)
				}
				if valid() {
					t.Fatal("the person's tokens outlived the suspension")
				}
				if !strings.Contains(o.Body, "Привязка приостановлена") || !strings.Contains(o.Body, "link.suspended") {
					t.Fatalf("page: %.2000s", o.Body)
				}
			}},
			{"resume", "/links/resume", link, "resume_link", func(t *testing.T, o outcome) {
				if ls := linkOf(); len(ls) != 1 || ls[0].Status != store.LinkActive {
					t.Fatalf("links = %+v", ls)
				}
			}},
			{"remove", "/links/remove", link, "unlink", func(t *testing.T, o outcome) {
				if ls := linkOf(); len(ls) != 0 {
					t.Fatalf("links = %+v", ls)
				}
				if !strings.Contains(o.Body, "Привязка удалена") || !strings.Contains(o.Body, "link.removed") {
					t.Fatalf("page: %.2000s", o.Body)
				}
			}},
		}
		for _, st := range steps {
			t.Run(st.name+" without a reason", func(t *testing.T) {
				before := linkOf()
				for _, reason := range []string{"", "   "} {
					o := actOn(t, br, page, server.DevTenant, "t-0001", st.action, withReason(st.fields, reason))
					if o.Status != http.StatusBadRequest || !strings.Contains(o.Body, "Укажите причину") {
						t.Fatalf("no reason: %d %.800s", o.Status, o.Body)
					}
				}
				if after := linkOf(); len(after) != len(before) || (len(after) > 0 && after[0].Status != before[0].Status) {
					t.Fatalf("links changed without a reason: %+v → %+v", before, after)
				}
				if e := auditOf(t, b, st.audit, "t-0001"); len(e) != 0 {
					t.Fatalf("audited without a reason: %+v", e)
				}
			})
			t.Run(st.name, func(t *testing.T) {
				o := actOn(t, br, page, server.DevTenant, "t-0001", st.action, withReason(st.fields, "звонок школы, заявка 17"))
				if o.Status != http.StatusOK {
					t.Fatalf("%s: %d %.800s", st.name, o.Status, o.Body)
				}
				st.check(t, o)
				e := auditOf(t, b, st.audit, "t-0001")
				if len(e) != 1 || !strings.HasPrefix(e[0].Actor, "staff:stf-") || !strings.Contains(string(e[0].Detail), "заявка 17") {
					t.Fatalf("audit = %+v", e)
				}
			})
		}

		t.Run("re-open the parents' consent request", func(t *testing.T) {
			child := recordPage(t, b, br, server.DevTenant, "s-0001")
			if o := actOn(t, br, child, server.DevTenant, "s-0001", "/consent/reopen", nil); o.Status != http.StatusBadRequest {
				t.Fatalf("no reason: %d", o.Status)
			}
			if _, err := b.comp.Store.OpenRequestOf(ctx, server.DevTenant, "s-0001"); err == nil {
				t.Fatal("a request opened without a reason")
			}
			o := actOn(t, br, child, server.DevTenant, "s-0001", "/consent/reopen", url.Values{"reason": {"родители не успели"}})
			req, err := b.comp.Store.OpenRequestOf(ctx, server.DevTenant, "s-0001")
			if o.Status != http.StatusOK || !strings.Contains(o.Body, "открыт заново") || err != nil || !slices.Equal(req.Parents, []string{"p-0001"}) {
				t.Fatalf("reopen: %d %v %+v %.800s", o.Status, err, req, o.Body)
			}
			if !strings.Contains(o.Body, "консоль поддержки") || !strings.Contains(o.Body, "consent.requested") {
				t.Fatalf("the evidence and the webhook are not on the page: %.3000s", o.Body)
			}
			if again := actOn(t, br, child, server.DevTenant, "s-0001", "/consent/reopen", url.Values{"reason": {"ещё раз"}}); !strings.Contains(again.Body, "уже открыт") {
				t.Fatalf("again: %.800s", again.Body)
			}
			if e := auditOf(t, b, "reopen_consent_request", "s-0001"); len(e) != 2 {
				t.Fatalf("audit = %+v", e)
			}
		})

		t.Run("export the consent evidence", func(t *testing.T) {
			child := recordPage(t, b, br, server.DevTenant, "s-0001")
			if o := actOn(t, br, child, server.DevTenant, "s-0001", "/consent/export", nil); o.Status != http.StatusBadRequest {
				t.Fatalf("no reason: %d", o.Status)
			}
			if e := auditOf(t, b, "export_consents", "s-0001"); len(e) != 0 {
				t.Fatalf("audited without a reason: %+v", e)
			}
			form := url.Values{"csrf": {htmlUnescape(csrfField.FindStringSubmatch(child.Body)[1])}, "reason": {"запрос родителя по 152-ФЗ"}}
			resp, err := br.client.PostForm(b.URL+"/support/records/demo/s-0001/consent/export", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var exp struct {
				Tenant   string `json:"tenant"`
				PersonID string `json:"person_id"`
				Evidence []any  `json:"evidence"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&exp); err != nil || resp.StatusCode != 200 || exp.PersonID != "s-0001" || len(exp.Evidence) == 0 {
				t.Fatalf("export: %d %v %+v", resp.StatusCode, err, exp)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="consents-demo-s-0001.json"` || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("headers: %v", resp.Header)
			}
			if e := auditOf(t, b, "export_consents", "s-0001"); len(e) != 1 || !strings.Contains(string(e[0].Detail), "152-ФЗ") {
				t.Fatalf("audit = %+v", e)
			}
		})
	})
}

// TestConsoleRecordOutOfScope: a school's admin guessing a record id, a
// link id or a reference code of another school — and a tenant's support
// one of another tenant — gets exactly the page of one that does not
// exist, and nothing changes.
func TestConsoleRecordOutOfScope(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		ref := consoleBroker(t, b)
		linkedTeacher(t, b) // demo/t-0001 ↔ oidTeacher, of «МБОУ СОШ № 1»
		ctx := context.Background()
		reason := url.Values{"reason": {"проверка"}}
		link := func(oid string) url.Values { return url.Values{"reason": {"проверка"}, "link": {oid}} }
		type probe struct {
			name          string
			get           string // a GET path, or
			post          string // a POST path with
			fields        url.Values
			missing       string // the same request for something that does not exist
			missingFields url.Values
		}
		cases := []struct {
			name, oid string
			probes    []probe
		}{
			{"school_admin of the lyceum", oidLyceumAdmin, []probe{
				{name: "record page", get: "/support/records/demo/t-0001", missing: "/support/records/demo/t-9999"},
				{name: "record of another tenant", get: "/support/records/other/st-0001", missing: "/support/records/nope/st-0001"},
				{name: "suspend a link of another school's record", post: "/support/records/demo/t-0001/links/suspend", fields: link(oidTeacher),
					missing: "/support/records/demo/t-9999/links/suspend", missingFields: link(oidTeacher)},
				{name: "a link id of another school on one's own record", post: "/support/records/demo/ly-0001/links/remove", fields: link(oidTeacher),
					missing: "/support/records/demo/ly-0001/links/remove", missingFields: link("1999999999")},
				{name: "without a reason", post: "/support/records/demo/t-0001/links/remove", fields: url.Values{"link": {oidTeacher}},
					missing: "/support/records/demo/t-9999/links/remove", missingFields: url.Values{"link": {oidTeacher}}},
				{name: "re-open consent", post: "/support/records/demo/s-0001/consent/reopen", fields: reason,
					missing: "/support/records/demo/s-9999/consent/reopen", missingFields: reason},
				{name: "export consent", post: "/support/records/demo/s-0001/consent/export", fields: reason,
					missing: "/support/records/demo/s-9999/consent/export", missingFields: reason},
			}},
			{"tenant_support of demo", oidTenantSupport, []probe{
				{name: "record of another tenant", get: "/support/records/other/st-0001", missing: "/support/records/other/st-9999"},
				{name: "suspend in another tenant", post: "/support/records/other/st-0001/links/suspend", fields: link(oidSNILSTypo),
					missing: "/support/records/other/st-9999/links/suspend", missingFields: link(oidSNILSTypo)},
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				br, home := signInSupport(t, b, tc.oid)
				csrf := htmlUnescape(csrfField.FindStringSubmatch(home.Body)[1])
				do := func(get, post string, fields url.Values) outcome {
					if get != "" {
						return br.get(b.URL + get)
					}
					form := url.Values{"csrf": {csrf}}
					for k, v := range fields {
						form[k] = v
					}
					resp, err := br.client.PostForm(b.URL+post, form)
					if err != nil {
						t.Fatal(err)
					}
					return br.outcome(resp)
				}
				for _, p := range tc.probes {
					guessed := do(p.get, p.post, p.fields)
					var missing outcome
					if p.get != "" {
						missing = do(p.missing, "", nil)
					} else {
						missing = do("", p.missing, p.missingFields)
					}
					if guessed.Status != http.StatusNotFound || !strings.Contains(guessed.Body, "Не найдено") {
						t.Errorf("%s: %d %.500s", p.name, guessed.Status, guessed.Body)
					}
					if guessed.Status != missing.Status || guessed.Body != missing.Body {
						t.Errorf("%s: the page differs from that of something missing:\n%s\n---\n%s", p.name, guessed.Body, missing.Body)
					}
				}
				res := search(t, br, home, url.Values{"ref": {ref}})
				if strings.Contains(res.Body, "Попытка входа") && tc.oid == oidLyceumAdmin {
					t.Errorf("the lyceum's admin found the attempt of another school")
				}
			})
		}
		if ls, _ := b.comp.Store.LinksByRecord(ctx, server.DevTenant, "t-0001"); len(ls) != 1 || ls[0].Status != store.LinkActive {
			t.Fatalf("the guesses changed the link: %+v", ls)
		}
		if _, err := b.comp.Store.OpenRequestOf(ctx, server.DevTenant, "s-0001"); err == nil {
			t.Fatal("a guess opened a consent request")
		}
		for _, action := range []string{"suspend_link", "unlink", "reopen_consent_request", "export_consents", "read_record"} {
			for _, target := range []string{"t-0001", "s-0001"} {
				if e := auditOf(t, b, action, target); len(e) != 0 {
					t.Errorf("%s of %s audited for a guess: %+v", action, target, e)
				}
			}
		}
	})
}

// TestConsoleRecordUnmask: «Показать» on a record page (POST
// /support/unmask, kind=record) shows that one field in full with a reason
// — the others stay masked — and is audited as unmask with the field and
// the reason; without a reason nothing is shown; another school's admin
// gets the «не найдено» of a record that does not exist.
func TestConsoleRecordUnmask(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		consoleBroker(t, b)
		br, _ := signInSupport(t, b, oidTenantSupport)
		page := recordPage(t, b, br, server.DevTenant, "s-0001")
		grant := regexp.MustCompile(`name="grant" value="([^"]+)"`).FindStringSubmatch(page.Body)[1]
		unmask := func(br *browser, page outcome, id, field, reason string) outcome {
			return br.submit(page, "/support/unmask", url.Values{"kind": {"record"}, "target": {"demo/" + id}, "tenant": {"demo"}, "id": {id},
				"field": {field}, "grant": {grant}, "reason": {reason}})
		}
		if o := unmask(br, page, "s-0001", "snils", " "); o.Status != http.StatusUnprocessableEntity || strings.Contains(o.Body, "163-527-840 77") ||
			!strings.Contains(o.Body, "Укажите причину") {
			t.Fatalf("no reason: %d %.800s", o.Status, o.Body)
		}
		o := unmask(br, page, "s-0001", "snils", "мама диктует СНИЛС, сверяю")
		if o.Status != http.StatusOK || !strings.Contains(o.Body, "163-527-840 77") || !strings.Contains(o.Body, "Кузнецова А. А.") ||
			strings.Contains(o.Body, "Алиса") || strings.Contains(o.Body, `name="field" value="snils"`) || !strings.Contains(o.Body, `name="field" value="name"`) {
			t.Fatalf("unmask: %d %.3000s", o.Status, o.Body)
		}
		e := auditOf(t, b, "unmask", "s-0001")
		var detail struct{ Kind, Field, Reason string }
		if len(e) == 1 {
			_ = json.Unmarshal(e[0].Detail, &detail)
		}
		if len(e) != 1 || e[0].Actor != "staff:"+grant || detail.Kind != "record" || detail.Field != "snils" || detail.Reason != "мама диктует СНИЛС, сверяю" {
			t.Fatalf("audit = %+v, detail %+v", e, detail)
		}
		if again := recordPage(t, b, br, server.DevTenant, "s-0001"); strings.Contains(again.Body, "163-527-840 77") {
			t.Fatal("the value stayed shown on the next view")
		}

		lyc, home := signInSupport(t, b, oidLyceumAdmin)
		lycGrant := regexp.MustCompile(`name="grant" value="([^"]+)"`).FindStringSubmatch(home.Body)[1]
		post := func(id string) outcome {
			return lyc.submit(home, "/support/unmask", url.Values{"kind": {"record"}, "tenant": {"demo"}, "id": {id}, "field": {"snils"},
				"grant": {lycGrant}, "reason": {"любопытство"}})
		}
		guessed, missing := post("s-0001"), post("s-9999")
		if guessed.Status != http.StatusNotFound || guessed.Body != missing.Body || strings.Contains(guessed.Body, "163-527") {
			t.Fatalf("another school's record: %d %.500s\n---\n%.500s", guessed.Status, guessed.Body, missing.Body)
		}
		if e := auditOf(t, b, "unmask", "s-0001"); len(e) != 1 {
			t.Fatalf("the refused unmask was audited: %+v", e)
		}
	})
}
