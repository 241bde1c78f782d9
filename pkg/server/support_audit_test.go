package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

var auditRow = regexp.MustCompile(`<tr><td>\d\d\.\d\d\.\d{4} `)

// TestSupportAuditPage (both backends): the whole tenant's support reads its tenant's
// audit log — support's own reads among it —, filtered by actor, action,
// target (a reference code in any spelling) and dates, 50 a page, newest
// first, and as CSV whose cells cannot start a formula; another tenant's
// entries are not there; a school's admin gets the no-access page.
func TestSupportAuditPage(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testSupportAuditPage(t, startBroker(t, true, be.edit(t))) })
	}
}

func testSupportAuditPage(t *testing.T, b *broker) {
	ctx := context.Background()
	_, _, ref := failedLogin(t, b, oidSNILSTypo, "not_found")
	sup, home := signInSupport(t, b, oidTenantSupport)
	if !strings.Contains(home.Body, `href="/support/audit?grant=`) {
		t.Fatalf("no link to the audit log: %.1500s", home.Body)
	}
	if r := searchRef(t, sup, home, ref); !strings.Contains(r.Body, "Попытка входа") {
		t.Fatalf("search: %.800s", r.Body)
	}
	grants, err := b.comp.Store.ListStaffGrants(ctx, server.DevTenant)
	if err != nil {
		t.Fatal(err)
	}
	actor := ""
	for _, g := range grants {
		if g.Role == store.StaffTenantSupport {
			actor = support.StaffActor(g.ID)
		}
	}
	add := func(e store.AuditEntry) {
		t.Helper()
		if err := b.comp.Store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	add(store.AuditEntry{TenantID: server.DevTenant, Actor: "=cmd|' /C calc'!A0", Action: store.AuditReadAttempt, Target: "@SUM(1+1)"})
	add(store.AuditEntry{TenantID: "another", Actor: "staff:x", Action: store.AuditReadAttempt, Target: "OTHERTENANT"})
	for i := range 60 {
		add(store.AuditEntry{TenantID: server.DevTenant, Actor: "diary-api", Action: "bulk_test", Target: fmt.Sprintf("bulk-%02d", i)})
	}
	page := func(q url.Values) outcome {
		t.Helper()
		return consoleGet(sup, b, "/support/audit?"+q.Encode())
	}
	today := time.Now().UTC()
	day := func(d int) string { return today.AddDate(0, 0, d).Format("2006-01-02") }
	tests := []struct {
		name       string
		q          url.Values
		want, not  []string
		rows       int // -1: don't count
		status     int
		wantNext   bool
		followNext int // rows on the next page
	}{
		// 63 of demo: 60 bulk, the formula, and the search's read_attempt and search_records.
		{"all, newest first, 50 a page", url.Values{}, []string{"bulk-59"}, []string{"bulk-09", "OTHERTENANT"}, 50, 200, true, 13},
		{"by target, the code as written on the page", url.Values{"target": {strings.ToLower(login.FormatRef(ref))}}, []string{ref, actor, "просмотр попытки входа"}, []string{"bulk-", "@SUM"}, 1, 200, false, 0},
		{"by actor", url.Values{"actor": {actor}}, []string{ref}, []string{"bulk-", "@SUM"}, -1, 200, false, 0},
		{"by action", url.Values{"action": {"bulk_test"}}, []string{"bulk-59"}, []string{ref}, 50, 200, true, 10},
		{"today", url.Values{"from": {day(0)}, "to": {day(0)}, "target": {ref}}, []string{ref}, nil, 1, 200, false, 0},
		{"from tomorrow", url.Values{"from": {day(1)}}, []string{"Записей нет"}, []string{ref}, 0, 200, false, 0},
		{"until yesterday", url.Values{"to": {day(-1)}}, []string{"Записей нет"}, []string{ref}, 0, 200, false, 0},
		{"a date that is not one", url.Values{"from": {"01.12.2026"}}, []string{"Фильтр указан неверно"}, []string{ref}, 0, 400, false, 0},
		{"another tenant's target", url.Values{"target": {"OTHERTENANT"}}, []string{"Записей нет"}, nil, 0, 200, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := page(tc.q)
			if p.Status != tc.status {
				t.Fatalf("status %d, want %d: %.1500s", p.Status, tc.status, p.Body)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Body, htmlEscaped(w)) {
					t.Errorf("no %q in %.3000s", w, p.Body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(p.Body, n) {
					t.Errorf("%q in the page", n)
				}
			}
			if n := len(auditRow.FindAllString(p.Body, -1)); tc.rows >= 0 && n != tc.rows {
				t.Errorf("%d rows, want %d", n, tc.rows)
			}
			next := regexp.MustCompile(`href="(/support/audit\?[^"]*before=[^"]+)"`).FindStringSubmatch(p.Body)
			if (next != nil) != tc.wantNext {
				t.Fatalf("next page link %v, want %v", next, tc.wantNext)
			}
			if next != nil {
				p2 := consoleGet(sup, b, htmlUnescape(next[1]))
				if n := len(auditRow.FindAllString(p2.Body, -1)); n != tc.followNext || strings.Contains(p2.Body, "bulk-59") {
					t.Fatalf("next page: %d rows, want %d: %.2000s", n, tc.followNext, p2.Body)
				}
			}
		})
	}

	t.Run("CSV with the page's filters, safe for spreadsheets", func(t *testing.T) {
		resp, err := sup.client.Get(b.URL + "/support/audit.csv?action=read_attempt")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		rows, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || strings.Join(rows[0], ",") != "id,at,tenant,actor,action,target,detail" {
			t.Fatalf("rows: %q", rows)
		}
		// Newest first: the formula-looking entry, then support's read.
		if rows[1][3] != "'=cmd|' /C calc'!A0" || rows[1][5] != "'@SUM(1+1)" || rows[2][3] != actor || rows[2][5] != ref || rows[2][2] != server.DevTenant {
			t.Fatalf("rows: %q", rows)
		}
		for _, r := range rows {
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Fatalf("a cell starts a formula: %q", cell)
				}
			}
		}
	})

	t.Run("a school's admin: no access", func(t *testing.T) {
		admin, home := signInSupport(t, b, oidSchoolAdmin)
		if strings.Contains(home.Body, "/support/audit") {
			t.Fatalf("a link to the audit log for a school admin: %.1500s", home.Body)
		}
		for _, path := range []string{"/support/audit", "/support/audit.csv"} {
			p := consoleGet(admin, b, path)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Нет доступа к журналу аудита") || strings.Contains(p.Body, ref) {
				t.Fatalf("%s: %d %.800s", path, p.Status, p.Body)
			}
		}
	})

	t.Run("without a session: to the sign-in", func(t *testing.T) {
		br := newBrowser(t)
		br.stopAt = b.URL + "/support"
		if p := br.get(b.URL + "/support/audit.csv"); p.Redirect == nil || p.Redirect.Path != "/support" {
			t.Fatalf("%d %v", p.Status, p.Redirect)
		}
	})
}
