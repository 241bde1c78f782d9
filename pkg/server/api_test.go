package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// apiToken gets a client_credentials token of the dev API client.
func apiToken(t testing.TB, b *broker, clientID, secret string, scopes ...string) string {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: b.URL + "/oauth2/token", Scopes: scopes}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

type apiResp struct {
	Status int
	Body   string
}

func (r apiResp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

func call(t testing.TB, method, u, token, contentType, body string) apiResp {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResp{resp.StatusCode, string(b)}
}

// secondTenant adds tenant "other" with an API client and answers that
// client's token for roster and support.
func secondTenant(t testing.TB, b *broker) string {
	secondTenantClient(t, b, "roster", "support")
	return apiToken(t, b, "other-api", "other-secret", "roster", "support")
}

// secondTenantClient adds tenant "other" with the API client "other-api"
// (secret "other-secret") allowed scopes.
func secondTenantClient(t testing.TB, b *broker, scopes ...string) {
	t.Helper()
	ctx := context.Background()
	tn := server.DemoTenant()
	tn.ID = "other"
	if err := b.comp.Store.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if err := b.comp.Store.CreateClient(ctx, store.Client{ID: "other-api", TenantID: "other", SecretHash: oauth.HashSecret("other-secret"),
		GrantTypes: []string{"client_credentials"}, Scopes: scopes}); err != nil {
		t.Fatal(err)
	}
}

func TestAPIAuthentication(t *testing.T) {
	b := startBroker(t, true, nil)
	u := b.URL + "/api/v1/support/attempts/AAAAA-AAAAA"
	if r := call(t, "GET", u, "", "", ""); r.Status != 401 || !strings.Contains(r.Body, `"status":401`) {
		t.Fatalf("no token: %d %s", r.Status, r.Body)
	}
	if r := call(t, "GET", u, "garbage", "", ""); r.Status != 401 {
		t.Fatalf("bad token: %d", r.Status)
	}
	roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	if r := call(t, "GET", u, roster, "", ""); r.Status != 403 {
		t.Fatalf("roster token on support: %d", r.Status)
	}
	// A person's login token is not an API token either.
	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	if r := call(t, "GET", u, tok.AccessToken, "", ""); r.Status != 403 {
		t.Fatalf("login token on support: %d", r.Status)
	}
}

func TestRosterAPI(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	rows := strings.Join([]string{
		`{"external_id":"new-1","role":"student","last_name":"Новикова","first_name":"Ева","birth_date":"2015-03-01","snils":"112-233-445 95"}`,
		`{"external_id":"new-2","role":"parent","last_name":"Новиков","first_name":"Олег","birth_date":"1980-13-01"}`,
		`{"external_id":"new-1","role":"student","last_name":"Дубль","first_name":"Дубль","birth_date":"2015-03-01"}`,
		`{"external_id":"new-3","role":"parent","last_name":"Новиков","first_name":"Олег","birth_date":"1980-01-13","snils":"112-233-445 96"}`,
		`{"type":"relation","parent":"new-3","student":"new-1","kind":"father"}`,
		`{"type":"relation","parent":"new-3","student":"nobody","kind":"father"}`,
		`{"op":"delete","external_id":"t-0003"}`,
	}, "\n")
	r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson", rows)
	var rep struct {
		Persons, Deleted, Relations, Flagged int
		Errors                               []struct {
			Line              int
			ExternalID, Field string
		}
	}
	r.json(t, &rep)
	if r.Status != 200 || rep.Persons != 2 || rep.Deleted != 1 || rep.Relations != 1 || rep.Flagged != 1 || len(rep.Errors) != 3 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if rep.Errors[0].Line != 2 || rep.Errors[0].Field != "birth_date" || strings.Contains(r.Body, "1980-13-01") {
		t.Fatalf("row errors: %s", r.Body)
	}
	ctx := context.Background()
	if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, "t-0003"); err == nil {
		t.Fatal("delete row ignored")
	}
	// PUT and DELETE one record.
	r = call(t, "PUT", b.URL+"/api/v1/roster/persons/new-9", token, "application/json",
		`{"role":"teacher","last_name":"Петрова","first_name":"Ольга","birth_date":"1990-02-02"}`)
	if r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	if r = call(t, "PUT", b.URL+"/api/v1/roster/persons/new-9", token, "application/json", `{"role":"pilot","last_name":"П","first_name":"О","birth_date":"1990-02-02"}`); r.Status != 422 {
		t.Fatalf("bad put: %d %s", r.Status, r.Body)
	}
	if r = call(t, "DELETE", b.URL+"/api/v1/roster/persons/new-9", token, "", ""); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	if r = call(t, "DELETE", b.URL+"/api/v1/roster/persons/new-9", token, "", ""); r.Status != 404 {
		t.Fatalf("delete again: %d", r.Status)
	}
	if r = call(t, "POST", b.URL+"/api/v1/roster", token, "application/xml", "<roster/>"); r.Status != 415 {
		t.Fatalf("xml: %d", r.Status)
	}

	// Tenants are isolated: another tenant's import and deletes never touch demo.
	other := secondTenant(t, b)
	r = call(t, "POST", b.URL+"/api/v1/roster", other, "application/x-ndjson",
		`{"external_id":"new-1","role":"teacher","last_name":"Чужой","first_name":"Учитель","birth_date":"1970-01-01"}`+"\n"+`{"op":"delete","external_id":"t-0001"}`)
	if r.Status != 200 {
		t.Fatalf("other import: %d %s", r.Status, r.Body)
	}
	p, err := b.comp.Store.GetPerson(ctx, server.DevTenant, "new-1")
	if err != nil || p.Role != store.RoleStudent {
		t.Fatalf("other tenant changed demo's record: %+v %v", p, err)
	}
	if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, "t-0001"); err != nil {
		t.Fatal("other tenant deleted demo's record")
	}
	if r = call(t, "DELETE", b.URL+"/api/v1/roster/persons/t-0001", other, "", ""); r.Status != 404 {
		t.Fatalf("other tenant deleting demo's record: %d", r.Status)
	}
}

func TestSupportAPI(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	d := newDiary(b)
	ref := errorRedirect(t, loginAs(t, b, d, oidSNILSTypo), d, "not_found")

	// The attempt by its reference code (as the person read it, lower case).
	r := call(t, "GET", b.URL+"/api/v1/support/attempts/"+strings.ToLower(ref[:5]+"-"+ref[5:]), token, "", "")
	var a struct {
		Ref, Outcome, Reason string
		Advice               []string
		Explanation          struct {
			Candidates []struct {
				Record string
				Fields []struct{ Field, Result, Difference, Roster, ESIA string }
			}
		}
	}
	r.json(t, &a)
	if r.Status != 200 || a.Outcome != "not_found" || len(a.Explanation.Candidates) == 0 || len(a.Advice) == 0 {
		t.Fatalf("attempt: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(strings.Join(a.Advice, " "), "СНИЛС") || !strings.Contains(strings.Join(a.Advice, " "), "одной цифрой") {
		t.Fatalf("advice = %v", a.Advice)
	}
	for _, secret := range []string{"104-517-893 44", "Павлов", "1974"} {
		if strings.Contains(r.Body, secret) && secret != "1974" {
			t.Fatalf("attempt shows %q", secret)
		}
	}
	if r := call(t, "GET", b.URL+"/api/v1/support/attempts/not-a-ref", token, "", ""); r.Status != 400 {
		t.Fatalf("bad ref: %d", r.Status)
	}
	// Another tenant's support cannot read it.
	other := secondTenant(t, b)
	if r := call(t, "GET", b.URL+"/api/v1/support/attempts/"+ref, other, "", ""); r.Status != 404 {
		t.Fatalf("other tenant read the attempt: %d", r.Status)
	}

	// Search by SNILS: the teacher, linked after a login, with her attempts.
	d2 := newDiary(b)
	tokens(t, b, d2, loginAs(t, b, d2, oidTeacher))
	r = call(t, "GET", b.URL+"/api/v1/support/persons?snils="+url.QueryEscape("112-233-401 83"), token, "", "")
	var found struct {
		Persons []struct {
			PersonID                      string `json:"person_id"`
			Name, SNILS, BirthDate, Match string
			Links                         []struct{ EsiaOid, Rung, Status string }
			RecentAttempts                []struct{ Ref, Outcome string } `json:"recent_attempts"`
		}
	}
	r.json(t, &found)
	if r.Status != 200 || len(found.Persons) != 1 || found.Persons[0].PersonID != "t-0001" || found.Persons[0].Match != "exact" ||
		len(found.Persons[0].Links) != 1 || len(found.Persons[0].RecentAttempts) == 0 {
		t.Fatalf("search by snils: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "Смирнова") || strings.Contains(r.Body, "112-233-401") || strings.Contains(r.Body, "1985-03-14") {
		t.Fatalf("search shows unmasked personal data: %s", r.Body)
	}
	// Search by ФИО and birth date with day and month swapped: a candidate.
	r = call(t, "GET", b.URL+"/api/v1/support/persons?"+url.Values{"last_name": {"Николаева"}, "first_name": {"Ирина"}, "birth_date": {"1990-03-05"}}.Encode(), token, "", "")
	r.json(t, &found)
	if r.Status != 200 || len(found.Persons) == 0 || found.Persons[0].Match != "candidate" || !strings.Contains(r.Body, "day_month_swap") {
		t.Fatalf("search by name: %d %s", r.Status, r.Body)
	}
	if r := call(t, "GET", b.URL+"/api/v1/support/persons?last_name=X", token, "", ""); r.Status != 400 {
		t.Fatalf("incomplete query: %d", r.Status)
	}
	// Every read is in the audit log, with the client and what was read.
	audit, err := b.comp.Store.ListAudit(context.Background(), server.DevTenant, 20)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range audit {
		if e.Actor != server.DevAPIClientID {
			t.Fatalf("audit actor %q", e.Actor)
		}
		actions[e.Action]++
		if strings.Contains(string(e.Detail), "112-233-401") || strings.Contains(string(e.Detail), "Николаева") {
			t.Fatalf("audit holds personal data: %s", e.Detail)
		}
	}
	if actions["read_attempt"] != 1 || actions["search_persons"] != 2 {
		t.Fatalf("audit actions = %v", actions)
	}
}

// TestUnlinkAndSuspendRevokeTokens: unlinking (diary) and suspending
// (support) a link revoke the tenant's tokens for the person at once; a
// suspended link blocks the login until support resumes it.
func TestUnlinkAndSuspendRevokeTokens(t *testing.T) {
	b := startBroker(t, true, nil)
	h := newHooks(t, b)
	roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	sup := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	userinfo := func(access string) int { return call(t, "GET", b.URL+"/userinfo", access, "", "").Status }

	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	if userinfo(tok.AccessToken) != 200 {
		t.Fatal("fresh token rejected")
	}
	r := call(t, "GET", b.URL+"/api/v1/roster/persons/t-0001/links", roster, "", "")
	if r.Status != 200 || !strings.Contains(r.Body, oidTeacher) {
		t.Fatalf("links: %d %s", r.Status, r.Body)
	}
	if r := call(t, "DELETE", b.URL+"/api/v1/roster/persons/t-0001/links", roster, "", ""); r.Status != 200 {
		t.Fatalf("unlink: %d %s", r.Status, r.Body)
	}
	if userinfo(tok.AccessToken) != 401 {
		t.Fatal("token survived the unlink")
	}
	// The next login links again (the data still agree).
	d2 := newDiary(b)
	tok2, _ := tokens(t, b, d2, loginAs(t, b, d2, oidTeacher))

	if r := call(t, "POST", b.URL+"/api/v1/support/persons/t-0001/links/suspend", sup, "", ""); r.Status != 200 || !strings.Contains(r.Body, `"support"`) {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	if userinfo(tok2.AccessToken) != 401 {
		t.Fatal("token survived the suspension")
	}
	d3 := newDiary(b)
	errorRedirect(t, loginAs(t, b, d3, oidTeacher), d3, "conflict")
	if r := call(t, "POST", b.URL+"/api/v1/support/persons/t-0001/links/resume", sup, "", ""); r.Status != 200 {
		t.Fatalf("resume: %d", r.Status)
	}
	d4 := newDiary(b)
	tokens(t, b, d4, loginAs(t, b, d4, oidTeacher))
	if r := call(t, "POST", b.URL+"/api/v1/support/persons/nobody/links/suspend", sup, "", ""); r.Status != 404 {
		t.Fatalf("suspend unknown: %d", r.Status)
	}
	if got := strings.Join(h.all(t, b), ","); !strings.Contains(got, "link.created") || !strings.Contains(got, "link.removed") || !strings.Contains(got, "link.suspended") {
		t.Fatalf("webhooks = %s", got)
	}
}

// TestChangedSNILSSuspendsLink: the school changes the SNILS of a linked
// record; the next login re-checks the link, suspends it (revoking the
// tokens) and says why; when the school fixes it back, the link returns.
func TestChangedSNILSSuspendsLink(t *testing.T) {
	b := startBroker(t, true, nil)
	roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	put := func(snils string) {
		row := `{"role":"teacher","last_name":"Смирнова","first_name":"Елена","middle_name":"Викторовна","birth_date":"1985-03-14","snils":"` + snils + `","school":"МБОУ СОШ № 1"}`
		if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/t-0001", roster, "application/json", row); r.Status != 200 {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
	}
	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	put("112-233-401 84")
	d2 := newDiary(b)
	ref := errorRedirect(t, loginAs(t, b, d2, oidTeacher), d2, "not_found")
	links, _ := b.comp.Store.LinksByRecord(context.Background(), server.DevTenant, "t-0001")
	if len(links) != 1 || links[0].Status != store.LinkSuspended || links[0].Reason != "snils_changed" {
		t.Fatalf("links = %+v", links)
	}
	if call(t, "GET", b.URL+"/userinfo", tok.AccessToken, "", "").Status != 401 {
		t.Fatal("token survived the suspension")
	}
	a, _ := b.comp.Store.GetAttempt(context.Background(), ref)
	if !strings.Contains(string(a.Events[len(a.Events)-1].Detail), "snils_changed") {
		t.Fatalf("attempt does not say why: %s", a.Events[len(a.Events)-1].Detail)
	}
	put("112-233-401 83")
	d3 := newDiary(b)
	tokens(t, b, d3, loginAs(t, b, d3, oidTeacher))
	links, _ = b.comp.Store.LinksByRecord(context.Background(), server.DevTenant, "t-0001")
	if len(links) != 1 || links[0].Status != store.LinkActive {
		t.Fatalf("link not back: %+v", links)
	}
}

// TestEveryRungAndOutcome drives each rung of the ladder and each outcome
// through the whole login path, shaping the roster through the API the way
// a school's data would be.
func TestEveryRungAndOutcome(t *testing.T) {
	type row map[string]any
	alice := row{"role": "student", "last_name": "Кузнецова", "first_name": "Алиса", "middle_name": "Андреевна", "birth_date": "2016-05-12"}
	with := func(r row, kv ...any) row {
		out := row{}
		for k, v := range r {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name      string
		nameMatch bool
		rows      map[string]row // records put into the roster (s-0001 is Алиса's own record)
		outcome   string
		rung      string
		reason    string
	}{
		{"rung snils", false, nil, "linked", "snils", ""},
		{"rung birth certificate (no SNILS in the roster)", false, map[string]row{"s-0001": with(alice, "birth_cert", aliceCert())}, "linked", "birth_cert", ""},
		{"rung name (tenant allows it)", true, map[string]row{"s-0001": alice}, "linked", "name", ""},
		{"name matching off: not found", false, map[string]row{"s-0001": alice}, "not_found", "", ""},
		{"ambiguous: two student records with her SNILS", false, map[string]row{"s-0001": with(alice, "snils", "163-527-840 77"), "s-dup": with(alice, "snils", "163-527-840 77")}, "ambiguous", "snils", "duplicate_records"},
		{"conflict: SNILS equal, birth date different", false, map[string]row{"s-0001": with(alice, "snils", "163-527-840 77", "birth_date", "2016-05-13")}, "conflict", "snils", "birth_date_differs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			ctx := context.Background()
			tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
			tn.Matching.AllowNameMatch = tc.nameMatch
			if err := b.comp.Store.UpdateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
			grantDirect(t, b, "s-0001", store.ConsentParental)
			for id, r := range tc.rows {
				body, _ := json.Marshal(r)
				if resp := call(t, "PUT", b.URL+"/api/v1/roster/persons/"+id, token, "application/json", string(body)); resp.Status != 200 {
					t.Fatalf("put %s: %d %s", id, resp.Status, resp.Body)
				}
			}
			d := newDiary(b)
			o := loginAs(t, b, d, oidChild)
			var ref string
			if tc.outcome == "linked" {
				_, claims := tokens(t, b, d, o)
				if claims["person_id"] != "s-0001" {
					t.Fatalf("person_id = %v", claims["person_id"])
				}
				list, _ := b.comp.Store.AttemptsByOID(ctx, server.DevTenant, oidChild, 1)
				ref = list[0].Ref
			} else {
				ref = errorRedirect(t, o, d, tc.outcome)
			}
			a, err := b.comp.Store.GetAttempt(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			var detail struct{ Outcome, Rung, Reason string }
			for _, ev := range a.Events {
				if ev.Step == "link" {
					_ = json.Unmarshal(ev.Detail, &detail)
				}
			}
			if detail.Outcome != tc.outcome || detail.Rung != tc.rung || (tc.reason != "" && detail.Reason != tc.reason) {
				t.Fatalf("link step = %+v, want %s/%s/%s", detail, tc.outcome, tc.rung, tc.reason)
			}
		})
	}
}

// aliceCert is Алиса's birth certificate as ESIA has it (fixtures), written
// the way a school might: a Cyrillic «І» and a space instead of the hyphen.
func aliceCert() map[string]any {
	return map[string]any{"type": "RF_BRTH_CERT", "series": "ІV МЮ", "number": "512345", "issue_date": "2016-05-19"}
}

// TestManualLinkingFromTheDiary: «Привязать учётную запись Госуслуг» — the
// diary names its logged-in user's record; the same checks decide, and
// nothing else in the roster is considered.
func TestManualLinkingFromTheDiary(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	tests := []struct {
		name, oid, record, outcome string
	}{
		{"the right record", oidTeacher, "t-0001", "linked"},
		{"someone else's record", oidTeacher, "t-0003", "not_found"},
		{"a record that does not exist", oidTeacher, "nobody", "not_found"},
		{"the record with a SNILS typo", oidSNILSTypo, linkedRecordOf(t, b, "Павлов"), "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			o := loginAs(t, b, d, tc.oid, oauth2.SetAuthURLParam("link_person_id", tc.record))
			if tc.outcome == "linked" {
				_, claims := tokens(t, b, d, o)
				if claims["person_id"] != tc.record {
					t.Fatalf("person_id = %v", claims["person_id"])
				}
				links, _ := b.comp.Store.LinksByRecord(ctx, server.DevTenant, tc.record)
				if len(links) != 1 || links[0].Rung != "manual" {
					t.Fatalf("links = %+v", links)
				}
				return
			}
			errorRedirect(t, o, d, tc.outcome)
			if links, _ := b.comp.Store.LinksByRecord(ctx, server.DevTenant, tc.record); len(links) != 0 {
				t.Fatalf("a failed manual link left %+v", links)
			}
		})
	}
}

// linkedRecordOf finds a demo roster record by last name.
func linkedRecordOf(t *testing.T, b *broker, lastName string) string {
	t.Helper()
	for i := 1; i < 100; i++ {
		for _, prefix := range []string{"t-", "p-", "s-", "st-"} {
			id := prefix + fmt.Sprintf("%04d", i)
			if p, err := b.comp.Store.GetPerson(context.Background(), server.DevTenant, id); err == nil && p.LastName == lastName {
				return id
			}
		}
	}
	t.Fatalf("no record of %s", lastName)
	return ""
}
