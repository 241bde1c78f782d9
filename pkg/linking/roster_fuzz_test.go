package linking_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// FuzzRosterRow drives one roster line through the whole row path: parse,
// validate and index (RosterRow.Person / Relation), the store boundary
// (store.ValidatePersons, ValidateRelations), and an import into the
// memory store — which refuses exactly what PostgreSQL would, through the
// same checks — beside a good row. It checks: no panic; what the row
// functions accept the store accepts; an error is a RowError; the import
// never fails as a whole, imports the good row, and reports the line at
// most once. Seeds are in testdata/fuzz/FuzzRosterRow; run with
//
//	go test -run '^$' -fuzz '^FuzzRosterRow$' -fuzztime 1000000x ./pkg/linking
func FuzzRosterRow(f *testing.F) {
	for _, s := range []string{
		`{"external_id":"s-1","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14","school":"Школа № 1","class":"5А"}`,
		`{"external_id":"s-1","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14","class":"5\u0000"}`,
		`{"external_id":"s-1\u0000","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14"}`,
		`{"external_id":"s-1","role":"parent","last_name":"Орлова","first_name":"Мария","birth_date":"1985-01-01","snils":"112-233-445 95","contacts":[{"type":"email","value":"a@example.ru"}]}`,
		`{"external_id":"s-1","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14","birth_cert":{"series":"II-МЮ","number":"123456","issue_date":"2012-06-01","act_no":"1\u001b"}}`,
		`{"type":"relation","parent":"p-1","student":"s-1","kind":"mother"}`,
		`{"type":"relation","op":"delete","parent":"p-1\u0000","student":"s-1"}`,
		`{"op":"delete","external_id":"s-1\u0085"}`,
		"{\"external_id\":\"s-\xff\",\"role\":\"teacher\",\"last_name\":\"Хан\",\"first_name\":\"Я\",\"birth_date\":\"1990-01-01\"}",
	} {
		f.Add([]byte(s))
	}
	ix := testPII(f)
	good := `{"external_id":"fz-good","role":"parent","last_name":"Орлова","first_name":"Мария","birth_date":"1985-01-01"}`
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > linking.MaxRowBytes || strings.ContainsAny(string(line), "\r\n") {
			return // one line of a roster; longer ones are skipped whole (TestRosterBodyLimits)
		}
		accepted := false
		if row, err := linking.ParseRosterRow(line); err == nil {
			switch row.Type {
			case "", "person":
				if row.Op != "" && row.Op != "upsert" {
					break
				}
				p, err := row.Person(ix)
				var re linking.RowError
				switch {
				case err != nil && !errors.As(err, &re):
					t.Fatalf("Person: %v is not a RowError", err)
				case err == nil:
					if verr := store.ValidatePersons([]store.Person{p}); verr != nil {
						t.Fatalf("Person accepted what the store refuses: %v", verr)
					}
					accepted = p.ExternalID != "fz-good"
				}
			case "relation":
				rel, err := row.Relation()
				var re linking.RowError
				switch {
				case err != nil && !errors.As(err, &re):
					t.Fatalf("Relation: %v is not a RowError", err)
				case err == nil:
					if verr := store.ValidateRelations([]store.Relation{rel}); verr != nil {
						t.Fatalf("Relation accepted what the store refuses: %v", verr)
					}
				}
			}
		}
		st := memory.New(nil)
		if err := st.CreateTenant(context.Background(), store.Tenant{ID: "t1"}); err != nil {
			t.Fatal(err)
		}
		im := &linking.Importer{Roster: st, Index: ix, Workers: 1}
		rep, err := im.Import(context.Background(), "t1", strings.NewReader(good+"\n"+string(line)))
		if err != nil {
			t.Fatalf("the import failed as a whole: %v", err)
		}
		if _, err := st.GetPerson(context.Background(), "t1", "fz-good"); err != nil && rep.Deleted == 0 {
			t.Fatalf("the good row was not imported: %v (report %+v)", err, rep)
		}
		if len(rep.Errors) > 1 || (len(rep.Errors) == 1 && rep.Errors[0].Line != 2) {
			t.Fatalf("errors %+v", rep.Errors)
		}
		if accepted && (rep.Persons != 2 || len(rep.Errors) != 0) {
			t.Fatalf("an accepted row was not imported: %+v", rep)
		}
	})
}
