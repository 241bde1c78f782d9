package main_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// TestRosterImportFilesFromSchools: `broker roster import` on what schools
// really send — a BOM, a JSON array, a CSV without --format, CSV in UTF-8
// and Windows-1251 — and what it says: every error of a row, the flagged
// rows with their reason, an honest summary, the progress bar's line ended.
func TestRosterImportFilesFromSchools(t *testing.T) {
	db, env := operatorDB(t)
	if out, errOut, code := broker(t, env, "", "migrate", "up"); code != 0 {
		t.Fatalf("migrate: %s%s", out, errOut)
	}
	dir := t.TempDir()
	row := func(id, role, birth, snils string) string {
		return fmt.Sprintf(`{"external_id":%q,"role":%q,"last_name":"Орлова","first_name":"Анна","birth_date":%q,"snils":%q}`, id, role, birth, snils)
	}
	const csvHeader = "external_id;role;last_name;first_name;birth_date;snils"
	cp1251 := func(s string) string {
		b, err := charmap.Windows1251.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		file     string
		args     []string
		code     int
		persons  int
		imported []string // external ids in the database afterwards
		stderr   []string // lines (or parts of lines) standard error must have
		noReport bool     // one error, no report
	}{
		{name: "UTF-8 BOM", file: "\ufeff" + row("s-1", "student", "2013-05-14", "") + "\n", persons: 1, imported: []string{"s-1"},
			stderr: []string{"rows/s\nImported 1 person row(s)\n"}},
		{name: "JSON array", file: "[" + row("s-1", "student", "2013-05-14", "") + "]", code: 2, noReport: true,
			stderr: []string{"broker: roster.txt: the roster is not NDJSON (one JSON object per line): it is a JSON array; write one object per line, without the brackets and commas between them (jq -c '.[]' FILE); nothing was imported\n"}},
		{name: "CSV without --format", file: csvHeader + "\ns-1;student;Орлова;Анна;2013-05-14;\n", code: 2, noReport: true,
			stderr: []string{"broker: roster.txt: the roster is not NDJSON (one JSON object per line): it looks like CSV (its first line has 6 fields separated by ';'); import it with --format csv (docs/roster-format.md, CSV)\n"}},
		{name: "every error of a row, none imported", file: row("s-1", "pupil", "2013-02-30", "123") + "\n", code: 1,
			stderr: []string{
				"rows/s\nrejected: line 1 (s-1): role: must be student, parent, teacher or staff\n",
				"rejected: line 1 (s-1): birth_date: must be a real date, YYYY-MM-DD\n",
				"rejected: line 1 (s-1): snils: must be 11 digits\n",
				"broker: 1 row(s) rejected (3 error(s)); none were imported\n",
			}},
		{name: "flagged rows listed, some rejected", file: strings.Join([]string{row("p-1", "parent", "1985-01-02", "123-456-789 00"),
			row("s-2", "student", "2013-05-14", ""), row("bad", "student", "2013-13-01", "")}, "\n"), code: 1, persons: 2, imported: []string{"p-1", "s-2"},
			stderr: []string{
				"rejected: line 3 (bad): birth_date: must be a real date, YYYY-MM-DD\n",
				"flagged: line 1 (p-1): snils: the SNILS check digits are wrong: imported as written, never corrected; ask the school to check it (snils_checksum)\n",
				"broker: 1 row(s) rejected (1 error(s)); imported 2 person row(s); 1 imported row(s) flagged for the school to check\n",
			}},
		{name: "CSV, UTF-8", file: csvHeader + "\r\ns-1;student;Орлова;Анна;14.05.2013;\r\ns-2;pupil;Орлова;;2013-05-14;\r\n", args: []string{"--format", "csv"},
			code: 1, persons: 1, imported: []string{"s-1"},
			stderr: []string{"rejected: line 3 (s-2): role: must be", "rejected: line 3 (s-2): first_name: is required\n", "broker: 1 row(s) rejected (2 error(s)); imported 1 person row(s)\n"}},
		{name: "CSV, Windows-1251 and commas", file: cp1251(strings.ReplaceAll(csvHeader, ";", ",") + "\r\ns-1,student,Ёлкина,Анна,2013-05-14,\r\n"), args: []string{"--format", "csv"},
			persons: 1, imported: []string{"s-1"}, stderr: []string{"Imported 1 person row(s)\n"}},
		{name: "CSV with a wrong header", file: "Фамилия;Имя\nОрлова;Анна\n", args: []string{"--format", "csv"}, code: 2, noReport: true,
			stderr: []string{`broker: roster.txt: the CSV roster cannot be read: header: unknown column "Фамилия"; the columns are type, op, external_id`}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tenant := fmt.Sprintf("school%d", i)
			if out, errOut, code := broker(t, env, "", "tenants", "create", tenant, "--name", "Дневник", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Примерная, 1"); code != 0 {
				t.Fatalf("tenants create: %s%s", out, errOut)
			}
			file := writeFile(t, dir, "roster.txt", []byte(tt.file))
			out, errOut, code := broker(t, env, "", append([]string{"roster", "import", "--tenant", tenant, file}, tt.args...)...)
			errOut = strings.ReplaceAll(errOut, file, "roster.txt")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if !strings.HasSuffix(errOut, "\n") || strings.Contains(errOut, "Орлова") || strings.Contains(errOut, "pupil") {
				t.Errorf("stderr does not end its line, or quotes the file:\n%q", errOut)
			}
			if tt.noReport {
				if out != "" || strings.Count(errOut, "\n") != 1 {
					t.Fatalf("want one message and no report; stdout %q, stderr %q", out, errOut)
				}
			} else {
				var rep struct{ Persons int }
				if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Persons != tt.persons {
					t.Fatalf("report %s (%v), want %d persons", out, err, tt.persons)
				}
			}
			for _, id := range tt.imported {
				if !rosterHas(t, db, tenant, id) {
					t.Errorf("%s not imported", id)
				}
			}
		})
	}
}
