package main_test

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/diarybroker/broker/pkg/admin"
	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

// TestTenantsCreateRequiresTheOperator: a tenant without the operator's
// name or address is refused (the consent text must name both, 152-ФЗ
// ст. 9 ч. 4) and nothing is stored; with both it is created.
func TestTenantsCreateRequiresTheOperator(t *testing.T) {
	_, run := pgCLI(t)
	create := []string{"tenants", "create", "spb", "--name", "Дневник Петербурга"}
	for _, tc := range []struct {
		name string
		args []string
		want string // "" accepted
	}{
		{"no operator", []string{"--operator-address", "СПб, Невский пр., 1"}, "--operator is required"},
		{"no address (the README's old example)", []string{"--operator", "ГБУ «…»"}, "--operator-address is required"},
		{"blank address", []string{"--operator", "ГБУ «…»", "--operator-address", "  "}, "--operator-address is required"},
		{"neither", nil, "--operator is required"},
		{"reserved id", nil, ""},
		{"both", []string{"--operator", "ГБУ «Оператор»", "--operator-address", "СПб, Невский пр., 1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(create, tc.args...)
			if tc.name == "reserved id" {
				args = []string{"tenants", "create", "operator", "--name", "x", "--operator", "x", "--operator-address", "x"}
				tc.want = "reserved"
			}
			out, code := run(args...)
			if (code == 0) != (tc.want == "") || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d: %s", code, out)
			}
			list, _ := run("tenants", "list")
			if stored := strings.Contains(list, "spb"); stored != (tc.want == "") {
				t.Fatalf("stored %v: %s", stored, list)
			}
		})
	}
}

// TestTenantsUpdateEverySetting: the tenant's own settings (name, operator,
// address, time zone, name matching, webhook URL and secret) can be
// corrected, each change audited with before and after and never the
// webhook secret; an empty operator address or an unknown zone is refused.
func TestTenantsUpdateEverySetting(t *testing.T) {
	db, run := pgCLI(t)
	st := pgStore(t, db)
	ctx := context.Background()
	before, _ := st.GetTenant(ctx, "msk")
	out, code := run("tenants", "update", "msk", "--name", "Дневник Москвы и области", "--operator", "ГБУ «Новый оператор»",
		"--operator-address", "Москва, ул. Петровка, 2", "--time-zone", "Europe/Samara", "--allow-name-match",
		"--webhook-url", "https://diary.example/hooks", "--rotate-webhook-secret")
	if code != 0 || !strings.Contains(out, "new webhook secret (shown once)") {
		t.Fatalf("exit %d: %s", code, out)
	}
	got, _ := st.GetTenant(ctx, "msk")
	if got.DisplayName != "Дневник Москвы и области" || got.OperatorName != "ГБУ «Новый оператор»" || got.OperatorAddress != "Москва, ул. Петровка, 2" ||
		got.TimeZone != "Europe/Samara" || !got.Matching.AllowNameMatch || got.WebhookURL != "https://diary.example/hooks" ||
		got.WebhookSecret == before.WebhookSecret || !strings.Contains(out, got.WebhookSecret) || got.Consent != before.Consent {
		t.Fatalf("after update: %+v", got)
	}
	entries, _ := st.ListAudit(ctx, "msk", 10)
	var detail struct {
		Before, After map[string]any
	}
	actions := []string{}
	for _, e := range entries {
		actions = append(actions, e.Action)
		if strings.Contains(string(e.Detail), before.WebhookSecret) || strings.Contains(string(e.Detail), got.WebhookSecret) {
			t.Fatalf("a webhook secret in the audit log: %s", e.Detail)
		}
		if e.Action == "update_tenant" {
			if err := json.Unmarshal(e.Detail, &detail); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !reflect.DeepEqual(actions, []string{"rotate_webhook_secret", "update_tenant", "create_tenant"}) {
		t.Fatalf("audit actions = %v", actions)
	}
	if detail.Before["operator"] != "ГБУ «Оператор»" || detail.After["operator_address"] != "Москва, ул. Петровка, 2" ||
		detail.Before["allow_name_match"] != false || detail.After["time_zone"] != "Europe/Samara" {
		t.Fatalf("update_tenant detail = %+v", detail)
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"--operator-address", ""}}, {[]string{"--operator", " "}}, {[]string{"--name", ""}},
		{[]string{"--time-zone", "Mars/Olympus"}}, {[]string{"--webhook-url", "diary.example/hooks"}},
	} {
		flag := tc.args[0]
		out, code := run(append([]string{"tenants", "update", "msk"}, tc.args...)...)
		if code == 0 || !strings.Contains(out, flag) {
			t.Fatalf("%v: exit %d: %s", tc.args, code, out)
		}
	}
	if out, code := run("tenants", "update", "msk", "--no-allow-name-match", "--webhook-url", ""); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if got, _ := st.GetTenant(ctx, "msk"); got.Matching.AllowNameMatch || got.WebhookURL != "" || got.OperatorAddress != "Москва, ул. Петровка, 2" {
		t.Fatalf("after the refusals and --no-allow-name-match: %+v", got)
	}
}

// TestTenantsShow prints every setting of admin.TenantView, one per
// line, and the same as JSON.
func TestTenantsShow(t *testing.T) {
	_, run := pgCLI(t, "--consent-term-days", "365")
	out, code := run("tenants", "show", "msk")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	view := reflect.TypeFor[admin.TenantView]()
	for i := range view.NumField() {
		name, _, _ := strings.Cut(view.Field(i).Tag.Get("json"), ",")
		if !strings.Contains(out, "\n"+name+":") && !strings.HasPrefix(out, name+":") {
			t.Fatalf("show lacks %s: %s", name, out)
		}
	}
	for _, want := range []string{"operator_address:", "Москва, ул. Тверская, 1", "consent_term_days:", "365", "webhook_secret_set:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q: %s", want, out)
		}
	}
	js, code := run("tenants", "show", "msk", "--json")
	var v admin.TenantView
	if err := json.Unmarshal([]byte(js), &v); code != 0 || err != nil || v.ID != "msk" || v.ConsentTermDays != 365 || v.Operator != "ГБУ «Оператор»" {
		t.Fatalf("show --json: %v %s", err, js)
	}
	if out, code := run("tenants", "show", "nowhere"); code == 0 || !strings.Contains(out, "nowhere") {
		t.Fatalf("unknown tenant: exit %d: %s", code, out)
	}
}

// tableCounts counts the rows of every table of the database, and per
// tenant in the tables with a tenant column (tenants by id): table →
// tenant ("" all) → rows.
func tableCounts(t *testing.T, pool *pgxpool.Pool) map[string]map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT t.table_name,
		EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = t.table_name AND c.column_name = 'tenant_id')
		FROM information_schema.tables t WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	type table struct {
		name   string
		tenant bool
	}
	var tables []table
	for rows.Next() {
		var tb table
		if err := rows.Scan(&tb.name, &tb.tenant); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, tb)
	}
	rows.Close()
	out := map[string]map[string]int64{}
	for _, tb := range tables {
		col := "tenant_id"
		if tb.name == "tenants" {
			col, tb.tenant = "id", true
		}
		q := `SELECT '', count(*) FROM ` + tb.name
		if tb.tenant {
			q = `SELECT COALESCE(` + col + `, ''), count(*) FROM ` + tb.name + ` GROUP BY 1 UNION ALL SELECT '', count(*) FROM ` + tb.name
		}
		r, err := pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out[tb.name] = map[string]int64{}
		for r.Next() {
			var tenant string
			var n int64
			if err := r.Scan(&tenant, &n); err != nil {
				t.Fatal(err)
			}
			if tenant != "" || out[tb.name][""] == 0 {
				out[tb.name][tenant] = n
			}
		}
		r.Close()
	}
	return out
}

// childTables hold a tenant's rows without a tenant column (they belong
// to an attempt or a ticket): they are counted in all.
var childTables = map[string]bool{"attempt_events": true, "ticket_notes": true}

// TestTenantsDisableEnableDelete on PostgreSQL with two tenants, each with
// one of everything: delete refuses an enabled tenant and wants --yes;
// disable and enable are audited; the deletion destroys every row of the
// tenant in every table and nothing of the other, and leaves one audit
// entry with the counts and no personal data; the id is free again.
func TestTenantsDisableEnableDelete(t *testing.T) {
	db, run := pgCLI(t)
	ctx := context.Background()
	pool, err := postgres.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	kek, err := keyring.ParseKEK(testKEK)
	if err != nil {
		t.Fatal(err)
	}
	pg := postgres.New(pool, nil)
	pii, err := keyring.OpenPII(ctx, pg, kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := pg.WithSealer(pii)
	want := storetest.SeedTenant(t, st, "kzn")
	storetest.SeedTenant(t, st, "spb")
	before := tableCounts(t, pool)
	for table, n := range want {
		if before[table]["kzn"] != n && !childTables[table] {
			t.Fatalf("seeded %s: %d rows of kzn, want %d (%v)", table, before[table]["kzn"], n, before[table])
		}
	}

	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tenants", "delete", "kzn", "--yes"}, 2, "must be disabled"},
		{[]string{"tenants", "disable", "kzn"}, 0, "tenant kzn disabled since"},
		{[]string{"tenants", "list"}, 0, "disabled"},
		{[]string{"tenants", "enable", "kzn"}, 0, "tenant kzn enabled"},
		{[]string{"tenants", "disable", "kzn"}, 0, "disabled"},
		{[]string{"tenants", "delete", "kzn"}, 2, "add --yes"},
		{[]string{"tenants", "delete", "nowhere", "--yes"}, 2, "nowhere"},
	}
	for _, s := range steps {
		if out, code := run(s.args...); code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("%v: exit %d: %s", s.args, code, out)
		}
	}
	if got := tableCounts(t, pool); !maps.EqualFunc(got, before, func(a, b map[string]int64) bool {
		a, b = maps.Clone(a), maps.Clone(b)
		for _, k := range []string{"", "kzn"} { // disable and enable added audit entries of kzn
			delete(a, k)
			delete(b, k)
		}
		return maps.Equal(a, b)
	}) {
		t.Fatalf("disable and enable changed other rows: %v", got)
	}
	out, code := run("tenants", "delete", "kzn", "--yes")
	if code != 0 || !strings.Contains(out, "tenant kzn deleted") || !strings.Contains(out, "roster_persons") {
		t.Fatalf("delete: exit %d: %s", code, out)
	}
	after := tableCounts(t, pool)
	for table, byTenant := range after {
		for tenant, n := range byTenant {
			switch {
			case tenant == "kzn" && table == "audit_log":
				if n != 1 {
					t.Fatalf("%d audit entries of kzn left, want the deletion's", n)
				}
			case tenant == "kzn":
				t.Fatalf("%d row(s) of kzn left in %s", n, table)
			case tenant == "spb" && n != before[table]["spb"]:
				t.Fatalf("%s: spb has %d rows, had %d", table, n, before[table]["spb"])
			}
		}
	}
	for table := range childTables {
		if got, was := after[table][""], before[table][""]; got != was-want[table] {
			t.Fatalf("%s: %d rows left of %d", table, got, was)
		}
	}
	entries, err := st.ListAudit(ctx, "kzn", 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit of kzn: %v %+v", err, entries)
	}
	var d store.TenantDeletion
	if err := json.Unmarshal(entries[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if e := entries[0]; e.Action != store.AuditDeleteTenant || e.Actor != "broker-cli" || d.Counts["roster_persons"] != 2 || d.At.IsZero() {
		t.Fatalf("deletion record = %+v %+v", e, d)
	}
	for _, personal := range []string{"Иванов", "11223344595", "p@example.ru", "1000"} {
		if strings.Contains(string(entries[0].Detail), personal) {
			t.Fatalf("the deletion record holds %q: %s", personal, entries[0].Detail)
		}
	}
	if out, code := run("tenants", "create", "kzn", "--name", "Дневник Казани", "--operator", "ГБУ", "--operator-address", "Казань"); code != 0 {
		t.Fatalf("create again: %s", out)
	}
}
