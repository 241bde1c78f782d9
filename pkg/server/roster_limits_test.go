package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/server"
)

// importReport is the answer of POST /api/v1/roster as tests read it.
type importReport struct {
	Persons, Deleted, Relations, Flagged int
	LinksRemoved                         int `json:"links_removed"`
	Errors                               []struct {
		Line           int
		ExternalID     string `json:"external_id"`
		Field, Message string
	}
}

// importRows posts rows as one NDJSON roster.
func importRows(t *testing.T, b *broker, token string, rows ...string) (apiResp, importReport) {
	t.Helper()
	r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson", strings.Join(rows, "\n"))
	var rep importReport
	if r.Status == 200 {
		r.json(t, &rep)
	}
	return r, rep
}

// TestRosterBodyLimits: an upload over the limit is 413 with the report of
// what was imported before the limit (its deletions are not applied); a
// line over 64 KiB is a row error and the rows after it land; a PUT body
// over 64 KiB is 413.
func TestRosterBodyLimits(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	teacher := func(id string) string {
		return fmt.Sprintf(`{"external_id":%q,"role":"teacher","last_name":"Хан","first_name":"Елизавета","birth_date":"1993-11-11"}`, id)
	}

	t.Run("body over the limit", func(t *testing.T) {
		var rows []string
		for i := range 40 {
			rows = append(rows, teacher(fmt.Sprintf("big-%02d", i)))
		}
		rows = append(rows, `{"op":"delete","external_id":"t-0003"}`)
		body := strings.Join(rows, "\n")
		defer server.SetMaxRosterBody(int64(len(body) / 2))()
		r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson", body)
		var p struct {
			Status int
			Detail string
			Report struct{ Persons, Deleted int }
		}
		r.json(t, &p)
		if r.Status != 413 || p.Status != 413 || p.Report.Persons == 0 || p.Report.Persons >= 40 || p.Report.Deleted != 0 {
			t.Fatalf("oversized: %d %s", r.Status, r.Body)
		}
		n, err := b.comp.Store.CountPersons(ctx, server.DevTenant)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Report.Persons {
			if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, fmt.Sprintf("big-%02d", i)); err != nil {
				t.Fatalf("reported row %d not stored (%d records): %v", i, n, err)
			}
		}
		if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, "t-0003"); err != nil {
			t.Fatal("a deletion after the limit was applied")
		}
	})

	t.Run("a line over 64 KiB", func(t *testing.T) {
		long := `{"external_id":"long","role":"teacher","last_name":"` + strings.Repeat("я", linking.MaxRowBytes/2) + `","first_name":"Я","birth_date":"1990-01-01"}`
		r, rep := importRows(t, b, token, teacher("l-1"), long, teacher("l-2"))
		if r.Status != 200 || rep.Persons != 2 || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 || !strings.Contains(rep.Errors[0].Message, "longer than") {
			t.Fatalf("long line: %d %.300s", r.Status, r.Body)
		}
		if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, "l-2"); err != nil {
			t.Fatalf("the row after the long line: %v", err)
		}
	})

	t.Run("PUT over 64 KiB", func(t *testing.T) {
		body := `{"role":"teacher","last_name":"` + strings.Repeat("я", linking.MaxRowBytes/2) + `","first_name":"Я","birth_date":"1990-01-01"}`
		if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/p-big", token, "application/json", body); r.Status != 413 || !strings.Contains(r.Body, `"status":413`) {
			t.Fatalf("put: %d %.200s", r.Status, r.Body)
		}
		if _, err := b.comp.Store.GetPerson(ctx, server.DevTenant, "p-big"); err == nil {
			t.Fatal("an oversized PUT was stored")
		}
	})
}

// TestRosterAPIChecksumFlag: a SNILS with wrong check digits is accepted,
// flagged snils_checksum and stored exactly as the school wrote it (only
// normalised to 11 digits), through the import and through PUT.
func TestRosterAPIChecksumFlag(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	row := `{"external_id":"c-1","role":"parent","last_name":"Новиков","first_name":"Олег","birth_date":"1980-01-13","snils":"112-233-445 96"}`
	r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson", row)
	if r.Status != 200 || !strings.Contains(r.Body, `"flagged":1`) {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	r = call(t, "PUT", b.URL+"/api/v1/roster/persons/c-2", token, "application/json", strings.Replace(row, "c-1", "c-2", 1))
	if r.Status != 200 || !strings.Contains(r.Body, `"flags":["snils_checksum"]`) {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	for _, id := range []string{"c-1", "c-2"} {
		p, err := b.comp.Store.GetPerson(context.Background(), server.DevTenant, id)
		if err != nil || p.SNILS != "11223344596" || len(p.Flags) != 1 || p.Flags[0] != linking.FlagSNILSChecksum {
			t.Fatalf("%s: SNILS %q flags %v %v", id, p.SNILS, p.Flags, err)
		}
	}
}
