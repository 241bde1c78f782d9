package linking_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// TestImportHostileBytes: strings the store cannot keep (NUL and other
// control characters, over the maximum lengths) are row errors naming
// the field, on both stores; the rest of the roster — more than one batch
// of records, its relations and its deletions — is imported as if the
// bad rows were not there. On PostgreSQL a "class":"5\u0000" used to fail
// the whole import (SQLSTATE 22021) with the deletions not applied.
func TestImportHostileBytes(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
		ctx := context.Background()
		im := &linking.Importer{Roster: st, Index: ix}
		setup := person("old-1", "teacher", "Старая", "1970-01-01", "") + "\n" + person("old-2", "teacher", "Старая", "1970-01-02", "")
		if rep, err := im.Import(ctx, "t1", strings.NewReader(setup)); err != nil || rep.Persons != 2 {
			t.Fatalf("setup: %+v %v", rep, err)
		}
		row := func(id, extra string) string {
			return fmt.Sprintf(`{"external_id":%q,"role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14"%s}`, id, extra)
		}
		var lines []string
		add := func(l string) int { lines = append(lines, l); return len(lines) }
		for i := range 600 {
			add(row(fmt.Sprintf("s-%04d", i), `,"school":"Школа № 1","class":"5А"`))
		}
		want := []struct {
			line  int
			field string
		}{
			{add(row("bad-class", `,"class":"5\u0000"`)), "class"},
			{add(row("bad-school", `,"school":"Школа\u0000"`)), "school"},
			{add(row("bad-escape", `,"class":"5\u001b[31m"`)), "class"},
			{add(row(strings.Repeat("x", 8000), ``)), "external_id"},
			{add(`{"external_id":"bad-id\u0000","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14"}`), "external_id"},
			{add(row("bad-class-long", `,"class":"`+strings.Repeat("я", store.MaxClassLength+1)+`"`)), "class"},
			{add(row("bad-contact", `,"contacts":[{"type":"email","value":"a\u0000@example.ru"}]`)), "contacts[0].value"},
			{add(row("bad-cert", `,"birth_cert":{"series":"II-МЮ","number":"123456","issue_date":"2012-06-01","act_no":"1\u0000"}`)), "birth_cert.act_no"},
			{add(`{"op":"delete","external_id":"old-1\u0000"}`), "external_id"},
			{add(`{"type":"relation","parent":"p-1\u0000","student":"s-0001","kind":"mother"}`), "parent"},
			{add(relation("p-1", "s-0001", "mother")), ""},
		}
		want = want[:len(want)-1] // the last is a good relation
		for i := 600; i < 1100; i++ {
			add(row(fmt.Sprintf("s-%04d", i), ``))
		}
		add(`{"external_id":"p-1","role":"parent","last_name":"Орлова","first_name":"Мария","birth_date":"1985-01-01"}`)
		add(`{"op":"delete","external_id":"old-1"}`)
		add(`{"op":"delete","external_id":"old-2"}`)

		rep, err := (&linking.Importer{Roster: st, Index: ix, BatchSize: 500}).Import(ctx, "t1", strings.NewReader(strings.Join(lines, "\n")))
		if err != nil {
			t.Fatalf("import failed: %v (report %+v)", err, rep)
		}
		var got []struct {
			line  int
			field string
		}
		for _, e := range rep.Errors {
			got = append(got, struct {
				line  int
				field string
			}{e.Line, e.Field})
			if strings.ContainsRune(e.ExternalID, 0) || len(e.ExternalID) > store.MaxIDLength || strings.Contains(e.Message, "Школа") {
				t.Fatalf("the error repeats the bad value: %+v", e)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("errors %+v, want %+v", rep.Errors, want)
		}
		if rep.Persons != 1101 || rep.Deleted != 2 || rep.Relations != 1 {
			t.Fatalf("report %+v", rep)
		}
		for _, id := range []string{"s-0000", "s-0599", "s-0600", "s-1099", "p-1"} {
			if _, err := st.GetPerson(ctx, "t1", id); err != nil {
				t.Fatalf("%s not imported: %v", id, err)
			}
		}
		for _, id := range []string{"old-1", "old-2", "bad-class", "bad-school"} {
			if _, err := st.GetPerson(ctx, "t1", id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: %v, want it absent", id, err)
			}
		}
		if n, err := st.CountPersons(ctx, "t1"); err != nil || n != 1101 {
			t.Fatalf("%d records, %v", n, err)
		}
	})
}

// TestPersonRowFieldErrors: a row with a string the store cannot keep is
// a RowError naming the field that unwraps to store.ErrInvalidField (the
// API answers it 400), and never quotes the value.
func TestPersonRowFieldErrors(t *testing.T) {
	ix := testPII(t)
	base := `{"external_id":"t-1","role":"teacher","last_name":"Хан","first_name":"Елизавета","birth_date":"1993-11-11"`
	tests := []struct{ extra, field string }{
		{`,"school":"Гимназия № 5","class":"10 «Б»"`, ""},
		{`,"school":"Гимназия\u0000"`, "school"},
		{`,"class":"5\u0000"`, "class"},
		{`,"class":"5\u0085"`, "class"},
		{`,"school":"` + strings.Repeat("ш", store.MaxSchoolLength+1) + `"`, "school"},
		{`,"middle_name":"` + strings.Repeat("Щ", store.MaxNameLength+1) + `"`, "middle_name"},
		{`,"contacts":[{"type":"phone","value":"` + strings.Repeat("9", store.MaxContactLength+1) + `"}]`, "contacts[0].value"},
		{`,"contacts":[` + strings.Repeat(`{"type":"phone","value":"1"},`, store.MaxContacts) + `{"type":"phone","value":"1"}]`, "contacts"},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			row, err := linking.ParseRosterRow([]byte(base + tc.extra + "}"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = row.Person(ix)
			var re linking.RowError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.field == "":
			case !errors.As(err, &re) || re.Field != tc.field || !errors.Is(err, store.ErrInvalidField):
				t.Fatalf("error %v, want a field error about %s", err, tc.field)
			case strings.Contains(re.Error(), "Гимназия") || strings.Contains(re.Error(), "999"):
				t.Fatalf("the error repeats the value: %v", re)
			}
		})
	}
}
