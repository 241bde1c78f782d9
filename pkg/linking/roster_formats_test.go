package linking_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// TestImportRecognisesFileKinds: a UTF-8 byte order mark (Excel, Notepad)
// is skipped; a file that is plainly not NDJSON fails at once with one
// error naming what it is, and nothing is imported.
func TestImportRecognisesFileKinds(t *testing.T) {
	good := person("s-1", "student", "Орлова", "2013-05-14", "")
	tests := []struct {
		name    string
		in      string
		kind    string // "" for an import that goes through
		message string
	}{
		{"BOM then rows", "\ufeff" + good + "\n" + person("s-2", "student", "Орлова", "2013-05-15", ""), "", ""},
		{"BOM, blank line, rows", "\ufeff\r\n" + good, "", ""},
		{"JSON array", "[" + good + ",\n" + person("s-2", "student", "Орлова", "2013-05-15", "") + "]", "json_array", "it is a JSON array"},
		{"JSON array after a BOM and blanks", "\ufeff\n  [\n" + good + "\n]", "json_array", "jq -c '.[]' FILE"},
		{"pretty-printed object", "{\n  \"external_id\": \"s-1\",\n  \"role\": \"student\"\n}\n", "json_multiline", "spread over several lines"},
		{"CSV with semicolons", "external_id;role;last_name;first_name;birth_date\ns-1;student;Орлова;Анна;2013-05-14\n", "csv", `5 fields separated by ';'`},
		{"CSV with commas after a BOM", "\ufeffexternal_id,role,last_name\r\ns-1,student,Орлова\r\n", "csv", `3 fields separated by ','`},
		{"UTF-16", "\xff\xfe{\x00\"\x00", "utf16", "UTF-16"},
		{"plain text", "Список класса 5А\n" + good, "other", "first line is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ix := memoryStore(t)
			rep, err := (&linking.Importer{Roster: st, Index: ix}).Import(context.Background(), "t1", strings.NewReader(tt.in))
			if tt.kind == "" {
				if err != nil || len(rep.Errors) > 0 || rep.Persons == 0 {
					t.Fatalf("report %+v, %v", rep, err)
				}
				if _, err := st.GetPerson(context.Background(), "t1", "s-1"); err != nil {
					t.Fatalf("s-1 (the row after the BOM): %v", err)
				}
				return
			}
			var ne *linking.NotNDJSONError
			if !errors.Is(err, linking.ErrNotNDJSON) || !errors.As(err, &ne) || ne.Kind != tt.kind || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("err = %v, want kind %s with %q", err, tt.kind, tt.message)
			}
			if rep.Persons != 0 || len(rep.Errors) != 0 {
				t.Fatalf("report %+v: one error, nothing imported", rep)
			}
			if strings.Contains(err.Error(), "Орлова") || strings.Contains(err.Error(), "s-1") {
				t.Fatalf("the error quotes the file: %v", err)
			}
			if _, err := st.GetPerson(context.Background(), "t1", "s-1"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("s-1 was imported: %v", err)
			}
		})
	}
}

// TestImportListsEveryRowError: each row reports every problem it has, not
// only the first, and never the value.
func TestImportListsEveryRowError(t *testing.T) {
	type fe struct{ field, message string }
	tests := []struct {
		name string
		row  string
		want []fe
	}{
		{"role, date and SNILS", `{"external_id":"s-1","role":"pupil","last_name":"Орлова","first_name":"Анна","birth_date":"2013-02-30","snils":"123"}`,
			[]fe{{"role", "must be student"}, {"birth_date", "must be a real date"}, {"snils", "must be 11 digits"}}},
		{"no names, bad contact, bad certificate", `{"external_id":"s-2","role":"student","birth_date":"2013-05-14","contacts":[{"type":"fax","value":"1"}],"birth_cert":{"series":"II-МЮ","number":"12","issue_date":"2013-13-01"}}`,
			[]fe{{"contacts[0].type", "must be email or phone"}, {"last_name", "is required"}, {"first_name", "is required"}, {"birth_cert.number", "6 or 7 digits"}, {"birth_cert.issue_date", "must be a real date"}}},
		{"bad id and a control character in class", "{\"external_id\":\"s-3\\u0000\",\"role\":\"boss\",\"last_name\":\"Орлова\",\"first_name\":\"Анна\",\"birth_date\":\"2013-05-14\",\"class\":\"5\\u0007\"}",
			[]fe{{"external_id", "control character"}, {"role", "must be student"}, {"class", "control character"}}},
		{"one problem only", `{"external_id":"s-4","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"14/05/2013"}`,
			[]fe{{"birth_date", "must be a real date"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ix := memoryStore(t)
			in := good(1) + "\n" + tt.row + "\n" + good(2)
			rep, err := (&linking.Importer{Roster: st, Index: ix}).Import(context.Background(), "t1", strings.NewReader(in))
			if err != nil || rep.Persons != 2 {
				t.Fatalf("report %+v, %v", rep, err)
			}
			var got []fe
			for _, e := range rep.Errors {
				if e.Line != 2 {
					t.Errorf("error on line %d, want 2: %+v", e.Line, e)
				}
				if strings.Contains(e.Message, "pupil") || strings.Contains(e.Message, "Орлова") || strings.Contains(e.Message, "123") {
					t.Errorf("the message quotes the value: %+v", e)
				}
				got = append(got, fe{e.Field, e.Message})
			}
			if len(got) != len(tt.want) {
				t.Fatalf("errors %+v, want %v", rep.Errors, tt.want)
			}
			for i, w := range tt.want {
				if got[i].field != w.field || !strings.Contains(got[i].message, w.message) {
					t.Fatalf("error %d = %+v, want %v (all: %+v)", i, got[i], w, rep.Errors)
				}
			}
		})
	}
}

// TestImportListsFlaggedRows: the rows imported with a flag are listed by
// line and record with the reason; the count is of rows.
func TestImportListsFlaggedRows(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
		in := strings.Join([]string{
			good(1),
			person("p-1", "parent", "Иванова", "1985-01-02", "123-456-789 00"), // wrong check digits
			good(2),
			person("p-2", "parent", "Иванов", "1984-03-03", "000-000-000 00"), // placeholder
		}, "\n")
		rep, err := (&linking.Importer{Roster: st, Index: ix, BatchSize: 2}).Import(context.Background(), "t1", strings.NewReader(in))
		if err != nil || rep.Persons != 4 || rep.Flagged != 2 {
			t.Fatalf("report %+v, %v", rep, err)
		}
		want := []linking.RowFlag{
			{Line: 2, ExternalID: "p-1", Field: "snils", Flag: linking.FlagSNILSChecksum},
			{Line: 4, ExternalID: "p-2", Field: "snils", Flag: linking.FlagSNILSZero},
		}
		if len(rep.FlaggedRows) != len(want) {
			t.Fatalf("flagged rows %+v", rep.FlaggedRows)
		}
		for i, w := range want {
			g := rep.FlaggedRows[i]
			if g.Line != w.Line || g.ExternalID != w.ExternalID || g.Field != w.Field || g.Flag != w.Flag || g.Message == "" || strings.Contains(g.Message, "123") {
				t.Fatalf("flagged row %d = %+v, want %+v", i, g, w)
			}
		}
	})
}

func good(n int) string {
	return person("g-"+string(rune('0'+n)), "teacher", "Хорошая", "1980-01-0"+string(rune('0'+n)), "")
}

func memoryStore(t *testing.T) (store.Store, *keyring.PII) {
	t.Helper()
	st := memory.New(nil)
	mustTenant(t, st)
	return st, testPII(t)
}

// TestImportCSV: a CSV roster as a spreadsheet writes it — UTF-8 with or
// without a BOM or Windows-1251, ';' or ',' — gives the rows NDJSON gives,
// through the same checks, reported by the CSV file's line.
func TestImportCSV(t *testing.T) {
	const header = "external_id;role;last_name;first_name;middle_name;birth_date;snils;birth_cert_series;birth_cert_number;birth_cert_issue_date;school;class;email;phone;type;parent;student;kind"
	rows := []string{
		"s-1;student;Кузнецова;Алиса;Андреевна;12.05.2016;163-527-840 77;IV-МЮ;512345;2016-05-20;МБОУ СОШ № 1;4А;parent@example.com;+7 916 000-00-00;;;;",
		"p-1;parent;Кузнецов;Андрей;;1985-01-02;;;;;;;;;;;;",
		";;;;;;;;;;;;;;relation;p-1;s-1;father",
	}
	utf := header + "\r\n" + strings.Join(rows, "\r\n") + "\r\n"
	cp1251, err := charmap.Windows1251.NewEncoder().String(utf)
	if err != nil {
		t.Fatal(err)
	}
	comma := strings.ReplaceAll(strings.ReplaceAll(utf, ";", ","), "МБОУ СОШ № 1", "\"МБОУ СОШ № 1, корпус 2\"")
	tests := []struct {
		name, in, encoding string
		school             string
	}{
		{"UTF-8, semicolons", utf, "", "МБОУ СОШ № 1"},
		{"UTF-8 with BOM", "\ufeff" + utf, "", "МБОУ СОШ № 1"},
		{"Windows-1251 detected", cp1251, "", "МБОУ СОШ № 1"},
		{"Windows-1251 named", cp1251, linking.EncodingWindows1251, "МБОУ СОШ № 1"},
		{"commas and a quoted comma", comma, linking.EncodingUTF8, "МБОУ СОШ № 1, корпус 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
				ctx := context.Background()
				rep, err := (&linking.Importer{Roster: st, Index: ix}).ImportCSV(ctx, "t1", strings.NewReader(tt.in), linking.CSVOptions{Encoding: tt.encoding})
				if err != nil || rep.Persons != 2 || rep.Relations != 1 || len(rep.Errors) != 0 {
					t.Fatalf("report %+v, %v", rep, err)
				}
				s1, err := st.GetPerson(ctx, "t1", "s-1")
				if err != nil {
					t.Fatal(err)
				}
				if s1.LastName != "Кузнецова" || s1.MiddleName != "Андреевна" || s1.BirthDate.String() != "2016-05-12" || s1.SNILS != "16352784077" ||
					s1.School != tt.school || s1.Class != "4А" || s1.BirthCert == nil || s1.BirthCert.Number != "512345" ||
					!slices.Equal(s1.Contacts, []store.Contact{{Type: "email", Value: "parent@example.com"}, {Type: "phone", Value: "+7 916 000-00-00"}}) {
					t.Fatalf("s-1 = %+v", s1)
				}
				// The same row as NDJSON makes the same record, indexes included.
				ndjson := `{"external_id":"s-1","role":"student","last_name":"Кузнецова","first_name":"Алиса","middle_name":"Андреевна","birth_date":"2016-05-12","snils":"163-527-840 77","birth_cert":{"series":"IV-МЮ","number":"512345","issue_date":"2016-05-20"},"school":"` + tt.school + `","class":"4А","contacts":[{"type":"email","value":"parent@example.com"},{"type":"phone","value":"+7 916 000-00-00"}]}`
				row, err := linking.ParseRosterRow([]byte(ndjson))
				if err != nil {
					t.Fatal(err)
				}
				want, err := row.Person(ix)
				if err != nil {
					t.Fatal(err)
				}
				if s1.Index != want.Index || s1.Role != want.Role {
					t.Fatalf("CSV record index %+v, NDJSON %+v", s1.Index, want.Index)
				}
				if rels := relationsOf(t, st, "s-1"); !slices.Equal(rels, []string{"p-1>s-1:father"}) {
					t.Fatalf("relations %v", rels)
				}
			})
		})
	}
}

// TestImportCSVRowsAndLines: the CSV file's line numbers in the report,
// across quoted line breaks and empty rows; every check of an NDJSON row,
// and the CSV's own (field count, quoting); a wrong header is one error.
func TestImportCSVRowsAndLines(t *testing.T) {
	type at struct {
		line  int
		field string
	}
	tests := []struct {
		name    string
		in      string
		persons int
		errs    []at
		fatal   string // an error of the whole file
	}{
		{name: "errors by line", persons: 2, in: "external_id;role;last_name;first_name;birth_date;snils\n" +
			"s-1;student;Орлова;Анна;2013-05-14;\n" + // 2
			"s-2;pupil;Орлова;Анна;2013-02-30;123\n" + // 3: three errors
			";;;;;\n" + // 4: an empty spreadsheet row
			"s-3;student;\"Орлова\nКуликова\";Анна;2013-05-14;\n" + // 5-6: a line break inside quotes (the name is then invalid)
			"s-4;student;Орлова;Анна;2013-05-14;;extra\n" + // 7: a field too many
			"s-5;student;Орлова;Анна;2013-05-14\n" + // 8: a field too few
			"s-6;student;Орлова;Анна;2013-05-14;\n", // 9
			errs: []at{{3, "role"}, {3, "birth_date"}, {3, "snils"}, {5, "last_name"}, {7, ""}, {8, ""}}},
		{name: "a bare quote", persons: 1, in: "external_id,role,last_name,first_name,birth_date\ns-1,student,Ор\"лова,Анна,2013-05-14\ns-2,student,Орлова,Анна,2013-05-14\n",
			errs: []at{{2, ""}}},
		{name: "header only", in: "external_id;role;last_name;first_name;birth_date\n"},
		{name: "header with a blank trailing column", persons: 1, in: "external_id;role;last_name;first_name;birth_date;\ns-1;student;Орлова;Анна;2013-05-14;\n"},
		{name: "upper-case header with spaces", persons: 1, in: "External_ID ; Role ; Last_Name ; First_Name ; Birth_Date\ns-1;student;Орлова;Анна;2013-05-14\n"},
		{name: "unknown column", in: "Фамилия;Имя;Дата рождения\nОрлова;Анна;14.05.2013\n", fatal: `unknown column "Фамилия"; the columns are type, op, external_id`},
		{name: "column twice", in: "external_id;role;role\n", fatal: "column role appears twice"},
		{name: "no id column", in: "role;last_name\nstudent;Орлова\n", fatal: "no external_id column"},
		{name: "empty file", in: "", fatal: "the file is empty"},
		{name: "NDJSON given as CSV", in: person("s-1", "student", "Орлова", "2013-05-14", ""), fatal: "it is JSON, not CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ix := memoryStore(t)
			rep, err := (&linking.Importer{Roster: st, Index: ix}).ImportCSV(context.Background(), "t1", strings.NewReader(tt.in), linking.CSVOptions{})
			if tt.fatal != "" {
				if !errors.Is(err, linking.ErrBadCSV) || !strings.Contains(err.Error(), tt.fatal) || rep.Persons != 0 {
					t.Fatalf("err = %v (report %+v), want ErrBadCSV with %q", err, rep, tt.fatal)
				}
				return
			}
			if err != nil || rep.Persons != tt.persons {
				t.Fatalf("report %+v, %v; want %d persons", rep, err, tt.persons)
			}
			var got []at
			for _, e := range rep.Errors {
				got = append(got, at{e.Line, e.Field})
				if strings.Contains(e.Message, "Орлова") || strings.Contains(e.Message, "pupil") {
					t.Errorf("the message quotes the value: %+v", e)
				}
			}
			if !slices.Equal(got, tt.errs) {
				t.Fatalf("errors %v, want %v (%+v)", got, tt.errs, rep.Errors)
			}
		})
	}
}
