package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// TestSupportSearchShowsFailedLogins: the commonest ticket, «дневник не
// найден»: the login compared the record as a candidate and failed, so the
// record has no link — support still finds the attempt on the record,
// searching by SNILS or by ФИО and birth date, and nothing personal lands
// in the logs on the way.
func TestSupportSearchShowsFailedLogins(t *testing.T) {
	queries := []struct {
		name  string
		query url.Values
	}{
		{"by SNILS", url.Values{"snils": {"104-527-893 44"}}},
		{"by ФИО and birth date", url.Values{"last_name": {"Павлов"}, "first_name": {"Игорь"}, "birth_date": {"1974-09-21"}}},
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
			d := newDiary(b)
			ref := errorRedirect(t, loginAs(t, b, d, oidSNILSTypo), d, "not_found")

			r := call(t, "GET", b.URL+"/api/v1/support/persons?"+q.query.Encode(), token, "", "")
			var found struct {
				Persons []struct {
					PersonID       string `json:"person_id"`
					Links          []any
					RecentAttempts []struct{ Ref, Outcome string } `json:"recent_attempts"`
				}
			}
			r.json(t, &found)
			if r.Status != 200 || len(found.Persons) == 0 || found.Persons[0].PersonID != "st-0001" || len(found.Persons[0].Links) != 0 {
				t.Fatalf("search: %d %s", r.Status, r.Body)
			}
			got := found.Persons[0].RecentAttempts
			if len(got) != 1 || strings.ReplaceAll(got[0].Ref, "-", "") != ref || got[0].Outcome != "not_found" {
				t.Fatalf("recent attempts = %+v, want %s", got, ref)
			}
			for _, secret := range []string{"Павлов", "Игорь", "104-527-893", "10452789344", "1974-09-21", "21.09.1974"} {
				if strings.Contains(r.Body, secret) {
					t.Errorf("the answer shows %q", secret)
				}
				if strings.Contains(b.logs.String(), secret) {
					t.Errorf("the logs contain %q", secret)
				}
			}
		})
	}
}

// TestSupportExplainsFailures: a conflict and a login that failed on a
// link the school's change suspended are explained by reference code
// through /api/v1/support/attempts/{ref}, field by field and with advice.
func TestSupportExplainsFailures(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, b *broker, roster string)
		oid     string
		outcome string
		check   func(t *testing.T, explanation string, advice []string)
	}{
		{"conflict: SNILS equal, birth date different", func(t *testing.T, b *broker, roster string) {
			row := `{"role":"student","last_name":"Кузнецова","first_name":"Алиса","middle_name":"Андреевна","birth_date":"2016-05-13","snils":"163-527-840 77"}`
			if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/s-0001", roster, "application/json", row); r.Status != 200 {
				t.Fatalf("put: %d %s", r.Status, r.Body)
			}
		}, oidChild, "conflict", func(t *testing.T, explanation string, advice []string) {
			var e struct {
				Outcome, Rung, Reason string
				Candidates            []struct {
					Record string
					Fields []struct{ Field, Result, Difference string }
				}
			}
			_ = json.Unmarshal([]byte(explanation), &e)
			if e.Outcome != "conflict" || e.Rung != "snils" || e.Reason != "birth_date_differs" || len(e.Candidates) == 0 || e.Candidates[0].Record != "s-0001" {
				t.Fatalf("explanation = %s", explanation)
			}
			var bd string
			for _, f := range e.Candidates[0].Fields {
				if f.Field == "birth_date" {
					bd = f.Result + "/" + f.Difference
				}
			}
			if !strings.HasPrefix(bd, "different") || !strings.Contains(strings.Join(advice, " "), "дату рождения") {
				t.Fatalf("birth date %q, advice %v", bd, advice)
			}
		}},
		{"not found: the school changed the SNILS of a linked record", func(t *testing.T, b *broker, roster string) {
			linkedTeacher(t, b)
			if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/t-0001", roster, "application/json", strings.Replace(teacherRow, "401 83", "401 84", 1)); r.Status != 200 {
				t.Fatalf("put: %d %s", r.Status, r.Body)
			}
		}, oidTeacher, "not_found", func(t *testing.T, explanation string, advice []string) {
			if !strings.Contains(explanation, `"link":{"status":"suspended","reason":"snils_changed"}`) ||
				!strings.Contains(strings.Join(advice, " "), "Привязка записи t-0001 к Госуслугам приостановлена: СНИЛС") {
				t.Fatalf("explanation %s, advice %v", explanation, advice)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
			sup := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
			tc.prepare(t, b, roster)
			d := newDiary(b)
			ref := errorRedirect(t, loginAs(t, b, d, tc.oid), d, tc.outcome)
			r := call(t, "GET", b.URL+"/api/v1/support/attempts/"+ref, sup, "", "")
			var a struct {
				Outcome     string
				Explanation json.RawMessage
				Advice      []string
			}
			r.json(t, &a)
			if r.Status != 200 || a.Outcome != tc.outcome {
				t.Fatalf("attempt: %d %s", r.Status, r.Body)
			}
			tc.check(t, string(a.Explanation), a.Advice)
		})
	}
}

// TestRosterImportLogsNoPersonalData: an import with good rows, bad rows
// and a relation to a record of the wrong role answers and logs by line,
// field and record id — never with the values.
func TestRosterImportLogsNoPersonalData(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	r, rep := importRows(t, b, token,
		`{"external_id":"x-1","role":"student","last_name":"Загадкина","first_name":"Ульяна","birth_date":"2014-13-01","snils":"198-765-432 10"}`,
		`{"external_id":"x-2","role":"student","last_name":"Загадкина","first_name":"Ульяна","birth_date":"2014-01-13","snils":"198-765-432 1"}`,
		`{"external_id":"x-3","role":"teacher","last_name":"Загадкина","first_name":"Ульяна","birth_date":"1980-01-13","snils":"198-765-432 10","contacts":[{"type":"fax","value":"zagadkina@example.ru"}]}`,
		`{"external_id":"x-4","role":"teacher","last_name":"Загадкина","first_name":"Ульяна","birth_date":"1980-01-13","snils":"198-765-432 10"}`,
		`{"type":"relation","parent":"x-4","student":"s-0001","kind":"mother"}`,
		`{"external_id":"x-5","role":"student","last_name":"Загадкина","first_name":"Ульяна","birth_date":"1980-01-13","snils":"198-765-432 10"`,
	)
	if r.Status != 200 || rep.Persons != 1 || len(rep.Errors) != 5 || rep.Errors[2].Field != "contacts[0].type" || rep.Errors[3].Field != "parent" {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	for _, secret := range []string{"Загадкина", "Ульяна", "198-765-432", "19876543210", "2014-13-01", "2014-01-13", "1980-01-13", "zagadkina"} {
		if strings.Contains(r.Body, secret) {
			t.Errorf("the report shows %q", secret)
		}
		if strings.Contains(b.logs.String(), secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

// TestSupportWebhookReadsAudited: reading the webhook deliveries is a
// support read like the others, audited; a retry is audited with the event
// it retried, and a refused retry leaves no entry.
func TestSupportWebhookReadsAudited(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	sup := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	now := b.clock.Now().UTC()
	for _, id := range []string{"ev-dead", "ev-done"} {
		if err := b.comp.Store.EnqueueEvent(ctx, store.OutboxEvent{ID: id, TenantID: server.DevTenant, Type: "link.removed",
			Data: json.RawMessage(`{}`), CreatedAt: now, Status: store.EventPending, NextAttemptAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.comp.Store.MarkFailed(ctx, "ev-dead", now, "503", true); err != nil {
		t.Fatal(err)
	}
	if err := b.comp.Store.MarkDelivered(ctx, "ev-done", now); err != nil {
		t.Fatal(err)
	}
	if r := call(t, "GET", b.URL+"/api/v1/support/webhooks?status=dead", sup, "", ""); r.Status != 200 || !strings.Contains(r.Body, "ev-dead") {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if e := auditOf(t, b, "read_webhooks", ""); len(e) != 1 || e[0].Actor != server.DevAPIClientID || !strings.Contains(string(e[0].Detail), `"dead"`) {
		t.Fatalf("read audit = %+v", e)
	}
	if r := call(t, "POST", b.URL+"/api/v1/support/webhooks/ev-done/retry", sup, "", ""); r.Status != 409 {
		t.Fatalf("retry of a delivered event: %d", r.Status)
	}
	if r := call(t, "POST", b.URL+"/api/v1/support/webhooks/ev-none/retry", sup, "", ""); r.Status != 404 {
		t.Fatalf("retry of no event: %d", r.Status)
	}
	if r := call(t, "POST", b.URL+"/api/v1/support/webhooks/ev-dead/retry", sup, "", ""); r.Status != 202 {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	if e := auditOf(t, b, "retry_webhook", "ev-dead"); len(e) != 1 || e[0].Actor != server.DevAPIClientID {
		t.Fatalf("retry audit = %+v", e)
	}
	if n := len(auditOf(t, b, "retry_webhook", "ev-done")) + len(auditOf(t, b, "retry_webhook", "ev-none")); n != 0 {
		t.Fatalf("%d audit entries for refused retries", n)
	}
}
