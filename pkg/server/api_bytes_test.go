package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// startBrokerPG is startBroker in dev mode over a fresh PostgreSQL
// database: what the memory store lets through, PostgreSQL may refuse
// (NUL, invalid UTF-8, keys over the index row limit).
func startBrokerPG(t *testing.T) *broker {
	t.Helper()
	db := pgtest.NewDatabase(t)
	return startBroker(t, true, func(s *server.Settings) {
		s.DatabaseURL, s.KEK = db, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	})
}

// eachBroker runs fn on a dev broker over the memory store and over
// PostgreSQL.
func eachBroker(t *testing.T, fn func(t *testing.T, b *broker)) {
	t.Run("memory", func(t *testing.T) { fn(t, startBroker(t, true, nil)) })
	t.Run("postgres", func(t *testing.T) { fn(t, startBrokerPG(t)) })
}

// TestRosterImportHostileBytes: a roster of more than a thousand rows with
// one "class":"5\u0000" among them, and deletions at its end: that row is
// a row error naming the field, the others are imported, the deletions
// applied and the import audited. On PostgreSQL it used to abort the whole
// import with a 500 (SQLSTATE 22021) after 1,000 rows, deletions not
// applied, no report and no audit entry.
func TestRosterImportHostileBytes(t *testing.T) {
	eachBroker(t, func(t *testing.T, b *broker) {
		ctx := context.Background()
		token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
		student := func(id, class string) string {
			return fmt.Sprintf(`{"external_id":%q,"role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14","school":"Школа № 1","class":"%s"}`, id, class)
		}
		if r, rep := importRows(t, b, token, student("gone-1", "5А"), student("gone-2", "5А")); r.Status != 200 || rep.Persons != 2 {
			t.Fatalf("setup: %d %s", r.Status, r.Body)
		}
		var rows []string
		for i := range 1200 {
			class := "5А"
			if i == 1100 {
				class = `5\u0000`
			}
			rows = append(rows, student(fmt.Sprintf("h-%04d", i), class))
		}
		rows = append(rows, `{"op":"delete","external_id":"gone-1"}`, `{"op":"delete","external_id":"gone-2"}`)
		r, rep := importRows(t, b, token, rows...)
		if r.Status != 200 {
			t.Fatalf("import: %d %.500s", r.Status, r.Body)
		}
		if rep.Persons != 1199 || rep.Deleted != 2 || len(rep.Errors) != 1 || rep.Errors[0].Line != 1101 ||
			rep.Errors[0].Field != "class" || rep.Errors[0].ExternalID != "h-1100" {
			t.Fatalf("report: %.500s", r.Body)
		}
		for _, id := range []string{"h-0000", "h-1099", "h-1101", "h-1199"} {
			if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, id); err != nil {
				t.Fatalf("%s not imported: %v", id, err)
			}
		}
		for _, id := range []string{"h-1100", "gone-1", "gone-2"} {
			if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, id); err == nil {
				t.Fatalf("%s is in the roster", id)
			}
		}
		entries, err := b.comp.Store.ListAudit(ctx, server.DevTenant, 10)
		if err != nil {
			t.Fatal(err)
		}
		var audited bool
		for _, e := range entries {
			var d struct{ Persons, Deleted, Errors int }
			if e.Action == "roster_import" && json.Unmarshal(e.Detail, &d) == nil && d.Persons == 1199 && d.Deleted == 2 && d.Errors == 1 {
				audited = true
			}
		}
		if !audited {
			t.Fatalf("no audit entry of the import: %+v", entries)
		}
	})
}

// TestAPIHostileBytes: a NUL or a control character in a JSON body, NUL
// or %FF in the path or the query, an id of 8,000 characters: 400
// problem+json naming the field, before any query, on both stores —
// never a 500, and nothing stored.
func TestAPIHostileBytes(t *testing.T) {
	eachBroker(t, func(t *testing.T, b *broker) {
		token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster", "support", "consent:read")
		body := func(extra string) string {
			return `{"role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14"` + extra + `}`
		}
		long := strings.Repeat("x", 8000)
		tests := []struct {
			name, method, path, body, field string
		}{
			{"NUL in school", "PUT", "/api/v1/roster/persons/b-1", body(`,"school":"Школа\u0000"`), "school"},
			{"NUL in class", "PUT", "/api/v1/roster/persons/b-1", body(`,"class":"5\u0000"`), "class"},
			{"escape in class", "PUT", "/api/v1/roster/persons/b-1", body(`,"class":"5\u001b"`), "class"},
			{"class too long", "PUT", "/api/v1/roster/persons/b-1", body(`,"class":"` + strings.Repeat("я", store.MaxClassLength+1) + `"`), "class"},
			{"NUL in external_id", "PUT", "/api/v1/roster/persons/b-1", body(`,"external_id":"b-1\u0000"`), "external_id"},
			{"NUL in the path", "PUT", "/api/v1/roster/persons/b-1%00", body(""), "id"},
			{"%FF in the path", "PUT", "/api/v1/roster/persons/b-1%FF", body(""), "id"},
			{"8000-character id", "PUT", "/api/v1/roster/persons/" + long, body(""), "id"},
			{"delete NUL", "DELETE", "/api/v1/roster/persons/%00", "", "id"},
			{"delete %FF", "DELETE", "/api/v1/roster/persons/%FF", "", "id"},
			{"delete 8000", "DELETE", "/api/v1/roster/persons/" + long, "", "id"},
			{"links NUL", "GET", "/api/v1/roster/persons/%00/links", "", "id"},
			{"links 8000", "GET", "/api/v1/roster/persons/" + long + "/links", "", "id"},
			{"unlink oid NUL", "DELETE", "/api/v1/roster/persons/b-1/links?esia_oid=%00", "", "esia_oid"},
			{"consents NUL", "GET", "/api/v1/consents?person_id=%00", "", "person_id"},
			{"consents %FF", "GET", "/api/v1/consents?person_id=%FF", "", "person_id"},
			{"consents 8000", "GET", "/api/v1/consents?person_id=" + long, "", "person_id"},
			{"attempt %FF", "GET", "/api/v1/support/attempts/%FF", "", "ref"},
			{"attempt 8000", "GET", "/api/v1/support/attempts/" + long, "", "ref"},
			{"search NUL", "GET", "/api/v1/support/persons?last_name=%D0%98%00&birth_date=2012-05-14", "", "last_name"},
			{"search %FF", "GET", "/api/v1/support/persons?snils=%FF", "", "snils"},
			{"suspend NUL", "POST", "/api/v1/support/persons/%00/links/suspend", "", "id"},
			{"resume oid %FF", "POST", "/api/v1/support/persons/b-1/links/resume?esia_oid=%FF", "", "esia_oid"},
			{"webhooks status NUL", "GET", "/api/v1/support/webhooks?status=%00", "", "status"},
			{"retry NUL", "POST", "/api/v1/support/webhooks/%00/retry", "", "id"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.method, b.URL+tc.path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var p struct {
					Status        int
					Field, Detail string
				}
				err = json.NewDecoder(resp.Body).Decode(&p)
				if resp.StatusCode != 400 || err != nil || p.Status != 400 || p.Field != tc.field ||
					resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Fatalf("%s %s: %d %s %+v %v", tc.method, tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), p, err)
				}
				if strings.Contains(p.Detail, "Школа") || strings.Contains(p.Detail, "xxxx") {
					t.Fatalf("the detail repeats the value: %q", p.Detail)
				}
			})
		}
		if _, err := b.comp.Store.GetPerson(context.Background(), server.DevTenant, "b-1"); err == nil {
			t.Fatal("a refused PUT was stored")
		}
	})
}
