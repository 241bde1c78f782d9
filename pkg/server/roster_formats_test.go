package server_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/diarybroker/broker/pkg/server"
)

// TestRosterAPIFileKinds: POST /api/v1/roster takes a BOM, says once what
// a body that is not NDJSON is (400, nothing imported), takes CSV as
// text/csv (UTF-8 or Windows-1251), and reports every error of a row and
// the flagged rows.
func TestRosterAPIFileKinds(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	row := `{"external_id":"k-1","role":"teacher","last_name":"Хан","first_name":"Елизавета","birth_date":"1993-11-11"}`
	cp1251, err := charmap.Windows1251.NewEncoder().String("external_id;role;last_name;first_name;birth_date\r\nk-4;teacher;Ёлкина;Анна;11.11.1993\r\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, contentType, body string
		status                  int
		has                     []string // in the answer
		stored                  string   // a record that must exist afterwards, or must not when status is 400
	}{
		{"BOM", "application/x-ndjson", "\ufeff" + row, 200, []string{`"persons":1`}, "k-1"},
		{"JSON array", "application/x-ndjson", "[" + strings.Replace(row, "k-1", "k-2", 1) + "]", 400, []string{"it is a JSON array", "nothing was imported"}, "k-2"},
		{"CSV sent as NDJSON", "application/x-ndjson", "external_id;role\nk-3;teacher\n", 400, []string{"it looks like CSV", "send it as text/csv"}, "k-3"},
		{"CSV, Windows-1251", "text/csv; charset=windows-1251", cp1251, 200, []string{`"persons":1`}, "k-4"},
		{"CSV with every error of a row and a flag", "text/csv", "external_id,role,last_name,first_name,birth_date,snils\nk-5,pupil,Хан,,1993-02-30,1\nk-6,parent,Хан,Олег,1980-01-13,112-233-445 96\n", 200,
			[]string{`{"line":2,"external_id":"k-5","field":"role"`, `{"line":2,"external_id":"k-5","field":"first_name"`, `{"line":2,"external_id":"k-5","field":"birth_date"`,
				`{"line":2,"external_id":"k-5","field":"snils"`, `"flagged_rows":[{"line":3,"external_id":"k-6","field":"snils","flag":"snils_checksum"`}, "k-6"},
		{"CSV with another header", "text/csv", "Фамилия;Имя\nХан;Олег\n", 400, []string{`unknown column \"Фамилия\"`}, ""},
		{"unknown charset", "text/csv; charset=koi8-r", "external_id\nk-7\n", 415, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "POST", b.URL+"/api/v1/roster", token, tt.contentType, tt.body)
			if r.Status != tt.status {
				t.Fatalf("%d, want %d: %s", r.Status, tt.status, r.Body)
			}
			for _, want := range tt.has {
				if !strings.Contains(r.Body, want) {
					t.Errorf("answer lacks %s: %s", want, r.Body)
				}
			}
			if tt.stored == "" {
				return
			}
			_, err := b.comp.Store.GetPerson(ctx, server.DevTenant, tt.stored)
			if (err == nil) != (tt.status == 200) {
				t.Fatalf("%s stored: %v, status %d", tt.stored, err == nil, r.Status)
			}
		})
	}
}
