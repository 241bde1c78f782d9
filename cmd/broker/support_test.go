package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// TestSupportCommands: `broker support attempt` and `broker support find`
// on PostgreSQL with two tenants that both hold a record "st-1": the
// explanation is the console's (steps, the candidate with its school and
// class, the one-digit SNILS difference, the advice), masked; --unmask
// needs --reason and is audited with it, as the CLI, in the record's
// tenant; every search way finds the tenant's own record only.
func TestSupportCommands(t *testing.T) {
	db, env := operatorDB(t)
	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := broker(t, env, stdin, args...)
		if code != want {
			t.Fatalf("broker %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	run(0, "", "migrate", "up")
	for _, tn := range []string{"msk", "spb"} {
		run(0, "", "tenants", "create", tn, "--name", "Дневник "+tn, "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1")
	}
	run(0, `{"type":"person","external_id":"st-1","role":"student","last_name":"Павлов","first_name":"Игорь","middle_name":"Сергеевич","birth_date":"2012-09-21","snils":"104-527-893 44","birth_cert":{"series":"II-МЮ","number":"654321"},"school":"МБОУ СОШ № 1","class":"7Б"}`,
		"roster", "import", "-", "--tenant", "msk", "--quiet")
	run(0, `{"type":"person","external_id":"st-1","role":"student","last_name":"Смирнова","first_name":"Ольга","birth_date":"2013-01-02","snils":"112-233-445 95","birth_cert":{"series":"II-МЮ","number":"654321"},"school":"Гимназия № 2"}`,
		"roster", "import", "-", "--tenant", "spb", "--quiet")

	// The failed login: ESIA's SNILS differs from the record's in its last digit.
	ctx := context.Background()
	st := pgStore(t, db)
	at := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	rec := linking.IdentityOfRecord(store.Person{SNILS: "104-527-893 44", BirthDate: store.Date{Year: 2012, Month: 9, Day: 21}})
	detail, _ := json.Marshal(map[string]any{"outcome": "not_found", "reason": "not_found", "candidates": []linking.Candidate{{
		ExternalID: "st-1", Role: store.RoleStudent, Fields: []linking.FieldExplanation{
			linking.CompareSNILS(rec.SNILS, "104-527-893 45"), linking.CompareBirthDate(rec.BirthDate, rec.BirthDate)}}}})
	a := store.Attempt{Ref: "7K2M9QX4TB", TenantID: "msk", ClientID: "diary", Outcome: "not_found", Reason: "not_found"}
	esia, _ := json.Marshal(map[string]any{"level": "trusted", "trusted": true, "documents": []string{"RF_PASSPORT"}})
	for _, ev := range []store.AttemptEvent{{Step: "esia", At: at, Detail: esia}, {Step: "link", At: at.Add(time.Second), Detail: detail}} {
		if err := st.RecordAttempt(ctx, a, ev); err != nil {
			t.Fatal(err)
		}
	}

	masked := run(0, "", "support", "attempt", "7k2m9-qx4tb")
	for _, want := range []string{"Попытка входа 7K2M9-QX4TB", "07.12.2026 12:30:00", "Госуслуги ответили — уровень trusted",
		"запись st-1 (ученик, МБОУ СОШ № 1, 7Б класс)", "отличается одной цифрой (символ 11) — в дневнике ***-***-893 44, на Госуслугах ***-***-893 45",
		"Что сделать:"} {
		if !strings.Contains(masked, want) {
			t.Errorf("support attempt lacks %q:\n%s", want, masked)
		}
	}
	var v struct{ Ref, Outcome string }
	if err := json.Unmarshal([]byte(run(0, "", "support", "attempt", "7K2M9QX4TB", "--json")), &v); err != nil || v.Ref != "7K2M9-QX4TB" || v.Outcome != "not_found" {
		t.Fatalf("--json: %+v %v", v, err)
	}
	for _, refused := range [][]string{
		{"support", "attempt", "7K2M9QX4TB", "--unmask"},
		{"support", "attempt", "7K2M9QX4TB", "--reason", "просто"},
		{"support", "attempt", "7K2M9QX4TB", "--unmask", "--reason", "x", "--json"},
		{"support", "attempt", "ZZZZZZZZZZ"},
		{"support", "attempt", "это не код"},
		{"support", "find", "--tenant", "msk", "--snils", "104-527-893 44", "--unmask"},
		{"support", "find", "--tenant", "nope", "--record", "st-1"},
		{"support", "find", "--tenant", "msk"},
	} {
		if out, errOut, code := broker(t, env, "", refused...); code == 0 || strings.Contains(out+errOut, "104-527-893 44") {
			t.Errorf("broker %v: exit %d\n%s%s", refused, code, out, errOut)
		}
	}
	full := run(0, "", "support", "attempt", "7K2M9QX4TB", "--unmask", "--reason", "звонок мамы, заявка 12")
	if !strings.Contains(full, "в дневнике 104-527-893 44, на Госуслугах ***-***-893 45") {
		t.Errorf("--unmask:\n%s", full)
	}

	finds := []struct {
		name      string
		args      []string
		want, not string
	}{
		{"snils", []string{"--tenant", "msk", "--snils", "10452789344"}, "Запись st-1 (ученик, МБОУ СОШ № 1, 7Б класс)", "Смирнова"},
		{"name and birth date", []string{"--tenant", "msk", "--last-name", "павлов", "--first-name", "Игорь", "--birth-date", "2012-09-21"}, "СНИЛС: ***-***-893 44", "Гимназия"},
		{"birth cert", []string{"--tenant", "spb", "--birth-cert", "II МЮ 654321"}, "СНИЛС: ***-***-445 95", "МБОУ"},
		{"record id", []string{"--tenant", "spb", "--record", "st-1"}, "Гимназия № 2", "Павлов"},
		{"another tenant's SNILS", []string{"--tenant", "spb", "--snils", "104-527-893 44"}, "Ничего не найдено.", "st-1"},
		{"unmasked", []string{"--tenant", "spb", "--record", "st-1", "--unmask", "--reason", "сверка с журналом"}, "ФИО: Смирнова Ольга", "***-***-445 95"},
	}
	for _, f := range finds {
		out := run(0, "", append([]string{"support", "find"}, f.args...)...)
		if !strings.Contains(out, f.want) || strings.Contains(out, f.not) {
			t.Errorf("find by %s: want %q, not %q:\n%s", f.name, f.want, f.not, out)
		}
		if f.name != "unmasked" && (strings.Contains(out, "Павлов ") || strings.Contains(out, "112-233-445 95") || strings.Contains(out, "21.09.2012")) {
			t.Errorf("find by %s shows personal data:\n%s", f.name, out)
		}
	}

	for tenant, want := range map[string][]string{
		"msk": {"read_attempt", "search_persons", "unmask:st-1:звонок мамы, заявка 12"},
		"spb": {"search_persons", "unmask:st-1:сверка с журналом"},
	} {
		log, err := st.ListAudit(ctx, tenant, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range log {
			if e.Actor != "broker-cli" {
				t.Errorf("%s: actor %q", tenant, e.Actor)
			}
			var d struct{ Reason string }
			_ = json.Unmarshal(e.Detail, &d)
			got = append(got, strings.TrimSuffix(strings.Join([]string{e.Action, e.Target, d.Reason}, ":"), "::"))
		}
		all := strings.Join(got, " | ")
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("%s audit lacks %q: %s", tenant, w, all)
			}
		}
		if tenant == "spb" && strings.Contains(all, "read_attempt") {
			t.Errorf("spb audit holds msk's attempt: %s", all)
		}
	}
}
