package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// teacherRow is the demo roster row of Смирнова Елена (t-0001), linked to
// oidTeacher at her first login.
const teacherRow = `{"external_id":"t-0001","role":"teacher","last_name":"Смирнова","first_name":"Елена","middle_name":"Викторовна","birth_date":"1985-03-14","snils":"112-233-401 83","school":"МБОУ СОШ № 1"}`

// rosterWriteCase is one way a diary writes the roster through the API.
type rosterWriteCase struct {
	name  string
	write func(t *testing.T, b *broker, token, row string)
}

var (
	viaPut = rosterWriteCase{"PUT", func(t *testing.T, b *broker, token, row string) {
		t.Helper()
		if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/t-0001", token, "application/json", row); r.Status != 200 {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
	}}
	viaImport = rosterWriteCase{"import", func(t *testing.T, b *broker, token, row string) {
		t.Helper()
		if r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson", row+"\n"); r.Status != 200 || strings.Contains(r.Body, `"errors"`) {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
	}}
)

// linkedTeacher logs the teacher in (linking t-0001) and returns her access
// token and a check of whether it still works.
func linkedTeacher(t *testing.T, b *broker) func() bool {
	t.Helper()
	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	valid := func() bool { return call(t, "GET", b.URL+"/userinfo", tok.AccessToken, "", "").Status == 200 }
	if !valid() {
		t.Fatal("fresh token rejected")
	}
	return valid
}

// auditOf returns the tenant's audit entries of action for target.
func auditOf(t *testing.T, b *broker, action, target string) []store.AuditEntry {
	t.Helper()
	all, err := b.comp.Store.ListAudit(context.Background(), server.DevTenant, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range all {
		if e.Action == action && e.Target == target {
			out = append(out, e)
		}
	}
	return out
}

// TestRosterDeleteUnlinks: deleting a linked record — an import's op:delete
// row or DELETE /roster/persons/{id} — goes the way of an unlink: the
// person's tokens are revoked, link.removed is sent, the change audited.
func TestRosterDeleteUnlinks(t *testing.T) {
	tests := []struct {
		name   string
		delete func(t *testing.T, b *broker, token string)
	}{
		{"import op:delete", func(t *testing.T, b *broker, token string) {
			r, rep := importRows(t, b, token, `{"op":"delete","external_id":"t-0001"}`)
			if r.Status != 200 || rep.Deleted != 1 || rep.LinksRemoved != 1 {
				t.Fatalf("import: %d %s", r.Status, r.Body)
			}
		}},
		{"DELETE", func(t *testing.T, b *broker, token string) {
			if r := call(t, "DELETE", b.URL+"/api/v1/roster/persons/t-0001", token, "", ""); r.Status != 204 {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			h := newHooks(t, b)
			token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
			valid := linkedTeacher(t, b)
			tc.delete(t, b, token)
			if valid() {
				t.Fatal("token survived the deletion of the linked record")
			}
			if _, err := b.comp.Store.GetPerson(context.Background(), server.DevTenant, "t-0001"); err == nil {
				t.Fatal("record not deleted")
			}
			if got := strings.Join(h.all(t, b), ","); !strings.Contains(got, "link.removed") {
				t.Fatalf("webhooks = %s", got)
			}
			entries := auditOf(t, b, "unlink", "t-0001")
			if len(entries) != 1 || entries[0].Actor != server.DevAPIClientID || !strings.Contains(string(entries[0].Detail), oidTeacher) {
				t.Fatalf("audit = %+v", entries)
			}
		})
	}
}

// TestRosterWriteRechecksLinks: a linked record written with a SNILS or
// birth date that no longer agrees with what ESIA gave suspends the link
// at once — the person's tokens (the 30-day refresh token too) stop
// working without waiting for the next login; a change of other fields
// leaves the link alone.
func TestRosterWriteRechecksLinks(t *testing.T) {
	changes := []struct {
		name, from, to string
		reason         string // "" when the link stays active
	}{
		{"SNILS changed", `"112-233-401 83"`, `"112-233-401 84"`, "snils_changed"},
		{"birth date changed", `"1985-03-14"`, `"1985-04-14"`, "birth_date_changed"},
		{"school changed", `"МБОУ СОШ № 1"`, `"Гимназия № 2"`, ""},
		{"SNILS removed (missing is no change)", `,"snils":"112-233-401 83"`, ``, ""},
	}
	for _, via := range []rosterWriteCase{viaPut, viaImport} {
		for _, ch := range changes {
			t.Run(via.name+"/"+ch.name, func(t *testing.T) {
				b := startBroker(t, true, nil)
				h := newHooks(t, b)
				token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
				valid := linkedTeacher(t, b)
				via.write(t, b, token, strings.Replace(teacherRow, ch.from, ch.to, 1))

				links, err := b.comp.Store.LinksByRecord(context.Background(), server.DevTenant, "t-0001")
				if err != nil || len(links) != 1 {
					t.Fatalf("links = %+v %v", links, err)
				}
				hooks := strings.Join(h.all(t, b), ",")
				if ch.reason == "" {
					if links[0].Status != store.LinkActive || !valid() || strings.Contains(hooks, "link.suspended") || len(auditOf(t, b, "suspend_link", "t-0001")) != 0 {
						t.Fatalf("an unrelated change touched the link: %+v, hooks %s", links[0], hooks)
					}
					return
				}
				if links[0].Status != store.LinkSuspended || links[0].Reason != ch.reason {
					t.Fatalf("link = %+v, want suspended (%s)", links[0], ch.reason)
				}
				if valid() {
					t.Fatal("token survived the suspension")
				}
				if !strings.Contains(hooks, "link.suspended") {
					t.Fatalf("webhooks = %s", hooks)
				}
				if e := auditOf(t, b, "suspend_link", "t-0001"); len(e) != 1 || !strings.Contains(string(e[0].Detail), ch.reason) {
					t.Fatalf("audit = %+v", e)
				}
				// The school fixes the record: the next login finds the
				// data agree and the link is back.
				via.write(t, b, token, teacherRow)
				linkedTeacher(t, b)
				links, _ = b.comp.Store.LinksByRecord(context.Background(), server.DevTenant, "t-0001")
				if len(links) != 1 || links[0].Status != store.LinkActive {
					t.Fatalf("link not back: %+v", links)
				}
			})
		}
	}
}

// TestRosterPutReportsSuspendedLinks: PUT answers with the links its
// re-check suspended.
func TestRosterPutReportsSuspendedLinks(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	linkedTeacher(t, b)
	r := call(t, "PUT", b.URL+"/api/v1/roster/persons/t-0001", token, "application/json", strings.Replace(teacherRow, "401 83", "401 84", 1))
	var out struct {
		Suspended []struct {
			ESIAOID        string `json:"esia_oid"`
			Status, Reason string
		} `json:"suspended_links"`
	}
	if err := json.Unmarshal([]byte(r.Body), &out); err != nil || r.Status != 200 || len(out.Suspended) != 1 ||
		out.Suspended[0].ESIAOID != oidTeacher || out.Suspended[0].Reason != "snils_changed" || out.Suspended[0].Status != "suspended" {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "112-233-401") {
		t.Fatalf("the answer repeats the SNILS: %s", r.Body)
	}
}
