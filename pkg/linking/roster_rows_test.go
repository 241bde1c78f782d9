package linking_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// TestPersonRowContacts: contacts are e-mail addresses or phone numbers
// with a value; anything else is a row error naming the contact, never the
// value.
func TestPersonRowContacts(t *testing.T) {
	ix := testPII(t)
	base := `{"external_id":"t-1","role":"teacher","last_name":"Хан","first_name":"Елизавета","birth_date":"1993-11-11","contacts":`
	tests := []struct {
		contacts, field string
	}{
		{`[{"type":"email","value":"han@example.ru"},{"type":"phone","value":"+7 900 000-00-00"}]`, ""},
		{`[]`, ""},
		{`[{"type":"email","value":"han@example.ru"},{"type":"telegram","value":"@han"}]`, "contacts[1].type"},
		{`[{"type":"","value":"han@example.ru"}]`, "contacts[0].type"},
		{`[{"type":"EMAIL","value":"han@example.ru"}]`, "contacts[0].type"},
		{`[{"type":"phone","value":"  "}]`, "contacts[0].value"},
	}
	for _, tc := range tests {
		t.Run(tc.contacts, func(t *testing.T) {
			row, err := linking.ParseRosterRow([]byte(base + tc.contacts + "}"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = row.Person(ix)
			var re linking.RowError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.field != "" && (!errors.As(err, &re) || re.Field != tc.field):
				t.Fatalf("error %v, want one about %s", err, tc.field)
			case tc.field != "" && (strings.Contains(re.Error(), "@han") || strings.Contains(re.Error(), "example.ru")):
				t.Fatalf("the error repeats the value: %v", re)
			}
		})
	}
}

// TestImportRelationRoles: a relation ties a parent record to a student
// record; one naming a record of another role is a row error (which end,
// which role), on both stores, whether the record is earlier in the file,
// later, or already stored.
func TestImportRelationRoles(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
		ctx := context.Background()
		im := &linking.Importer{Roster: st, Index: ix}
		if rep, err := im.Import(ctx, "t1", strings.NewReader(person("t-old", "teacher", "Старая", "1970-01-01", ""))); err != nil || rep.Persons != 1 {
			t.Fatalf("setup: %+v %v", rep, err)
		}
		rows := strings.Join([]string{
			person("p-1", "parent", "Иванова", "1985-01-02", ""),   // 1
			person("s-1", "student", "Иванова", "2013-05-14", ""),  // 2
			person("t-1", "teacher", "Петрова", "1990-01-01", ""),  // 3
			relation("p-1", "s-1", "mother"),                       // 4: fine
			relation("t-1", "s-1", "mother"),                       // 5: a teacher as parent
			relation("p-1", "t-1", "mother"),                       // 6: a teacher as student
			relation("s-1", "p-1", "mother"),                       // 7: the wrong way round
			relation("t-old", "s-1", "father"),                     // 8: a stored teacher as parent
			relation("p-1", "s-late", "mother"),                    // 9: a record further down, of the wrong role
			person("s-late", "staff", "Поздняя", "1980-01-01", ""), // 10
		}, "\n")
		rep, err := im.Import(ctx, "t1", strings.NewReader(rows))
		if err != nil {
			t.Fatal(err)
		}
		type at struct {
			line      int
			field, id string
		}
		var got []at
		for _, e := range rep.Errors {
			got = append(got, at{e.Line, e.Field, e.ExternalID})
			if !strings.Contains(e.Message, "must name a record of role") {
				t.Errorf("line %d: %s", e.Line, e.Message)
			}
		}
		want := []at{{5, "parent", "t-1"}, {6, "student", "t-1"}, {7, "parent", "s-1"}, {8, "parent", "t-old"}, {9, "student", "s-late"}}
		if !slices.Equal(got, want) || rep.Relations != 1 || rep.Persons != 4 {
			t.Fatalf("errors %v, want %v (report %+v)", got, want, rep)
		}
		if got := relationsOf(t, st, "s-1"); !slices.Equal(got, []string{"p-1>s-1:mother"}) {
			t.Fatalf("relations of s-1 = %v", got)
		}
	})
}
