package main_test

import (
	"context"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/store/postgres"
)

// TestStaffCommands: broker staff grant, list and revoke on PostgreSQL,
// across two tenants and an operator grant; the SNILS is shown masked and
// stored only as its blind index; every change is audited; a grant that
// cannot be (operator with a tenant, school_admin without a school, a bad
// SNILS) is refused before anything is stored.
func TestStaffCommands(t *testing.T) {
	db, env := operatorDB(t)
	run := func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := broker(t, env, "", args...)
		if code != want {
			t.Fatalf("broker %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	run(0, "migrate", "up")
	run(0, "tenants", "create", "msk", "--name", "Дневник Москвы", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1")
	run(0, "tenants", "create", "spb", "--name", "Дневник Петербурга", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1")

	out := run(0, "staff", "grant", "--tenant", "msk", "--snils", "104-527-893 44", "--role", "school_admin", "--school", "МБОУ СОШ № 1", "--school", "Лицей № 3")
	if !strings.Contains(out, "***-***-893 44 school_admin in msk: Лицей № 3; МБОУ СОШ № 1") {
		t.Fatalf("grant: %s", out)
	}
	run(0, "staff", "grant", "--tenant", "spb", "--snils", "10452789344", "--role", "tenant_support")
	run(0, "staff", "grant", "--snils", "112-233-401 83", "--role", "operator")
	for _, refused := range [][]string{
		{"--tenant", "msk", "--snils", "112-233-401 83", "--role", "operator"},
		{"--snils", "112-233-401 83", "--role", "tenant_support"},
		{"--tenant", "msk", "--snils", "112-233-401 83", "--role", "school_admin"},
		{"--tenant", "msk", "--snils", "112-233-401 83", "--role", "tenant_support", "--school", "x"},
		{"--tenant", "msk", "--snils", "12345", "--role", "tenant_support"},
		{"--tenant", "nope", "--snils", "112-233-401 83", "--role", "tenant_support"},
		{"--tenant", "msk", "--snils", "112-233-401 83", "--role", "boss"},
	} {
		_, _, code := broker(t, env, "", append([]string{"staff", "grant"}, refused...)...)
		if code == 0 {
			t.Errorf("staff grant %v was accepted", refused)
		}
	}

	all := run(0, "staff", "list")
	msk := run(0, "staff", "list", "--tenant", "msk")
	if strings.Count(all, "stf-") != 3 || strings.Count(msk, "stf-") != 1 || strings.Contains(msk, "spb") || strings.Contains(all, "104-527") {
		t.Fatalf("list:\n%s\nmsk:\n%s", all, msk)
	}

	ctx := context.Background()
	pool, err := postgres.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var raw string
	if err := pool.QueryRow(ctx, `SELECT string_agg(row_to_json(g)::text, ' ') FROM staff_grants g`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"104527", "10452789344", "112233", "104-527"} {
		if strings.Contains(raw, secret) {
			t.Errorf("staff_grants holds %q: %s", secret, raw)
		}
	}

	run(2, "staff", "revoke", "--tenant", "spb", "--snils", "112-233-401 83")
	run(0, "staff", "revoke", "--tenant", "msk", "--snils", "104-527-893 44")
	run(2, "staff", "revoke", "--tenant", "msk", "--snils", "104-527-893 44")
	if out := run(0, "staff", "list"); strings.Count(out, "stf-") != 2 || strings.Contains(out, "school_admin") {
		t.Fatalf("after revoke: %s", out)
	}
	var actions string
	if err := pool.QueryRow(ctx, `SELECT string_agg(tenant_id || ':' || action || ':' || actor, ' ' ORDER BY id) FROM audit_log WHERE action LIKE '%staff'`).Scan(&actions); err != nil {
		t.Fatal(err)
	}
	if actions != "msk:grant_staff:broker-cli spb:grant_staff:broker-cli *:grant_staff:broker-cli msk:revoke_staff:broker-cli" {
		t.Fatalf("audit: %s", actions)
	}
}
