package main_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// TestTenantsUpdate changes a tenant's consent policy on PostgreSQL: only
// the settings given change, a refused change leaves the tenant as it was,
// and every change leaves an audit entry with the policy before and after.
func TestTenantsUpdate(t *testing.T) {
	db, run := pgCLI(t, "--operator", "ГБУ «Оператор»")
	ctx := context.Background()
	st := pgStore(t, db)
	created, err := st.GetTenant(ctx, "msk")
	if err != nil {
		t.Fatal(err)
	}
	policy := func() (store.ConsentPolicy, time.Duration) {
		t.Helper()
		tn, err := st.GetTenant(ctx, "msk")
		if err != nil {
			t.Fatal(err)
		}
		if tn.DisplayName != created.DisplayName || tn.WebhookSecret != created.WebhookSecret || tn.OperatorName != created.OperatorName {
			t.Fatalf("settings other than consent changed: %+v", tn)
		}
		return tn.Consent, tn.Tokens.RefreshReuse()
	}
	want, wantReuse := store.DefaultConsentPolicy(), store.DefaultRefreshReuse
	reuse := func(d time.Duration) *time.Duration { return &d }

	tests := []struct {
		name    string
		args    []string // after `tenants update`
		wantOut string
		edit    func(p *store.ConsentPolicy) // nil: refused, nothing changes
		reuse   *time.Duration               // the reuse interval set, if any
	}{
		{"every setting", []string{"msk", "--consent-text-version", "2", "--consent-term-days", "365", "--request-days", "14",
			"--destroy-after-days", "60", "--adult-age", "19", "--own-account-age", "15", "--purpose", "ведение дневника"},
			"everyone is asked to consent again", func(p *store.ConsentPolicy) {
				p.TextVersion, p.TermDays, p.RequestDays, p.DestroyAfterDay, p.AdultAge, p.OwnAccountAge, p.Purpose =
					"2", 365, 14, 60, 19, 15, "ведение дневника"
			}, nil},
		{"one setting, the flag before the tenant", []string{"--consent-term-days", "0", "msk"}, "term 0 days",
			func(p *store.ConsentPolicy) { p.TermDays = 0 }, nil},
		{"refresh reuse interval", []string{"msk", "--refresh-reuse-interval", "10s"}, "reuse interval 10s",
			func(*store.ConsentPolicy) {}, reuse(10 * time.Second)},
		{"refresh reuse off, with a consent setting", []string{"msk", "--refresh-reuse-interval", "0", "--request-days", "20"}, "reuse interval 0s",
			func(p *store.ConsentPolicy) { p.RequestDays = 20 }, reuse(0)},
		{"refresh reuse interval too long", []string{"msk", "--refresh-reuse-interval", "6m"}, "--refresh-reuse-interval", nil, nil},
		{"refresh reuse interval negative", []string{"msk", "--refresh-reuse-interval=-5s"}, "--refresh-reuse-interval", nil, nil},
		{"refresh reuse interval not whole seconds", []string{"msk", "--refresh-reuse-interval", "1500ms"}, "whole seconds", nil, nil},
		{"nothing given", []string{"msk"}, "nothing to update", nil, nil},
		{"own account age not below adult age", []string{"msk", "--own-account-age", "19"}, "--own-account-age", nil, nil},
		{"adult age absurd", []string{"msk", "--adult-age", "200"}, "--adult-age", nil, nil},
		{"requests never open, with a valid setting", []string{"msk", "--request-days", "0", "--consent-text-version", "3"}, "--request-days", nil, nil},
		{"negative term", []string{"msk", "--consent-term-days", "-1"}, "--consent-term-days", nil, nil},
		{"no destruction period", []string{"msk", "--destroy-after-days", "0"}, "--destroy-after-days", nil, nil},
		{"empty text version", []string{"msk", "--consent-text-version", ""}, "--consent-text-version", nil, nil},
		{"not a number", []string{"msk", "--adult-age", "many"}, "many", nil, nil},
		{"unknown tenant", []string{"nowhere", "--adult-age", "19"}, "nowhere", nil, nil},
	}
	audits := 1 // the creation is audited too
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := run(append([]string{"tenants", "update"}, tc.args...)...)
			if (code == 0) != (tc.edit != nil) {
				t.Fatalf("exit %d: %s", code, out)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Fatalf("output lacks %q: %s", tc.wantOut, out)
			}
			if tc.edit != nil {
				// An audit entry for the consent settings given, one for the token setting.
				tc.edit(&want)
				for _, a := range tc.args {
					if strings.HasPrefix(a, "--") && !strings.HasPrefix(a, "--refresh-reuse-interval") {
						audits++
						break
					}
				}
				if tc.reuse != nil {
					wantReuse = *tc.reuse
					audits++
				}
			}
			got, gotReuse := policy()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("policy = %+v, want %+v", got, want)
			}
			if gotReuse != wantReuse {
				t.Fatalf("refresh reuse interval = %v, want %v", gotReuse, wantReuse)
			}
		})
	}
	entries, err := st.ListAudit(ctx, "msk", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != audits {
		t.Fatalf("%d audit entries, want %d: %+v", len(entries), audits, entries)
	}
	var detail struct{ Before, After store.ConsentPolicy }
	if err := json.Unmarshal(entries[len(entries)-2].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if e := entries[len(entries)-2]; e.Action != "update_consent_policy" || e.Target != "msk" ||
		detail.Before.TextVersion != "1" || detail.After.TextVersion != "2" || detail.After.AdultAge != 19 {
		t.Fatalf("first audit entry = %+v, detail %+v", e, detail)
	}
}
