package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRosterImportHostileBytesCLI: `broker roster import` on PostgreSQL
// reports a row holding a NUL as a row error naming the field and imports
// the rest, deletions included (it used to stop at SQLSTATE 22021); a
// tenant whose name holds a control character is refused naming the
// field.
func TestRosterImportHostileBytesCLI(t *testing.T) {
	_, env := operatorDB(t)
	run := func(want int, stdin string, args ...string) (string, string) {
		t.Helper()
		out, errOut, code := broker(t, env, stdin, args...)
		if code != want {
			t.Fatalf("broker %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	run(0, "", "migrate", "up")
	run(0, "", "tenants", "create", "msk", "--name", "Дневник Москвы", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1")
	if _, errOut := run(2, "", "tenants", "create", "esc", "--name", "Дневник\x1b[31m", "--operator", "x", "--operator-address", "x"); !strings.Contains(errOut, "--name contains the control character") {
		t.Fatalf("tenants create with an escape: %s", errOut)
	}
	student := func(id, class string) string {
		return `{"external_id":"` + id + `","role":"student","last_name":"Орлова","first_name":"Анна","birth_date":"2012-05-14","class":"` + class + `"}`
	}
	run(0, student("gone", "5А"), "roster", "import", "-", "--tenant", "msk", "--quiet")
	roster := strings.Join([]string{student("s-1", "5А"), student("s-2", `5\u0000`), student("s-3", "5Б"),
		`{"op":"delete","external_id":"gone"}`}, "\n")
	out, _ := run(1, roster, "roster", "import", "-", "--tenant", "msk", "--quiet")
	var rep struct {
		Persons, Deleted int
		Errors           []struct {
			Line  int
			Field string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Persons != 2 || rep.Deleted != 1 ||
		len(rep.Errors) != 1 || rep.Errors[0].Line != 2 || rep.Errors[0].Field != "class" {
		t.Fatalf("report: %s", out)
	}
}
