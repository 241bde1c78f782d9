package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

// TestTenantsUpdateRetention changes a tenant's retention on PostgreSQL:
// only the periods given change, the consent policy stays, a refused change
// leaves the tenant as it was, and every change leaves an audit entry with
// the periods before and after.
func TestTenantsUpdateRetention(t *testing.T) {
	db, run := pgCLI(t)
	ctx := context.Background()
	st := pgStore(t, db)
	created, err := st.GetTenant(ctx, "msk")
	if err != nil {
		t.Fatal(err)
	}
	var want store.RetentionPolicy
	tests := []struct {
		name    string
		args    []string // after `tenants update`
		wantOut string
		edit    func(p *store.RetentionPolicy) // nil: refused, nothing changes
	}{
		{"every period", []string{"msk", "--attempt-retention-days", "180", "--outbox-retention-days", "7", "--outbox-failed-retention-days", "60"},
			"retention: attempts 180 days, delivered webhook events 7 days, dead ones 60 days", func(p *store.RetentionPolicy) {
				*p = store.RetentionPolicy{AttemptDays: 180, OutboxDays: 7, OutboxFailedDays: 60}
			}},
		{"one period back to its default", []string{"--outbox-retention-days", "0", "msk"},
			"delivered webhook events 30 days", func(p *store.RetentionPolicy) { p.OutboxDays = 0 }},
		{"negative, with a valid one", []string{"msk", "--attempt-retention-days=-1", "--outbox-failed-retention-days", "10"},
			"--attempt-retention-days must be 0", nil},
		{"with a bad consent setting", []string{"msk", "--attempt-retention-days", "90", "--request-days", "0"}, "--request-days", nil},
		{"the re-check period", []string{"msk", "--recheck-retention-days", "14"},
			"values kept for re-checks 14 days", func(p *store.RetentionPolicy) { p.RecheckDays = 14 }},
		{"a negative re-check period", []string{"msk", "--recheck-retention-days=-1"}, "--recheck-retention-days must be 0", nil},
		{"not a number", []string{"msk", "--outbox-retention-days", "month"}, "month", nil},
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
				tc.edit(&want)
				audits++
			}
			got, err := st.GetTenant(ctx, "msk")
			if err != nil {
				t.Fatal(err)
			}
			if got.Retention != want || got.Consent != created.Consent || got.WebhookSecret != created.WebhookSecret {
				t.Fatalf("tenant = %+v, want retention %+v and the rest unchanged", got, want)
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
	var detail struct{ Before, After store.RetentionPolicy }
	last := entries[len(entries)-2] // the oldest is the creation
	if err := json.Unmarshal(last.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if last.Action != "update_retention" || last.Target != "msk" || last.Actor != "broker-cli" ||
		detail.Before != (store.RetentionPolicy{}) || detail.After.AttemptDays != 180 {
		t.Fatalf("first audit entry = %+v, detail %+v", last, detail)
	}
}

// TestJanitorCommand runs `broker janitor` once, as cron would, against
// rows placed days away from every cut-off of two tenants with different
// retention (the command runs on the real clock).
func TestJanitorCommand(t *testing.T) {
	db, env := operatorDB(t)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := broker(t, env, "", args...)
		if code != 0 {
			t.Fatalf("broker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out + errOut
	}
	run("migrate", "up")
	run("tenants", "create", "msk", "--name", "Дневник Москвы", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1")
	run("tenants", "create", "spb", "--name", "Дневник Петербурга", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1")
	run("tenants", "update", "spb", "--attempt-retention-days", "30", "--outbox-failed-retention-days", "10")
	ctx := context.Background()
	st := pgStore(t, db)
	now := time.Now()
	attempts := []struct {
		ref, tenant, outcome string
		age                  time.Duration
	}{
		{"MSKOLD", "msk", "linked", 400 * 24 * time.Hour},
		{"MSKKEEP", "msk", "linked", 100 * 24 * time.Hour},
		{"SPBOLD", "spb", "not_found", 100 * 24 * time.Hour},
		{"SPBKEEP", "spb", "linked", 20 * 24 * time.Hour},
		{"LEFT", "spb", store.OutcomeInProgress, 2 * time.Hour},
		{"WAITING", "msk", store.OutcomeInProgress, 0},
	}
	for _, a := range attempts {
		if err := st.RecordAttempt(ctx, store.Attempt{Ref: a.ref, TenantID: a.tenant, Outcome: a.outcome},
			store.AttemptEvent{Step: "authorize", At: now.Add(-a.age)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []store.OutboxEvent{
		{ID: "msk-dead", TenantID: "msk", Type: "link.created", Status: store.EventDead, NextAttemptAt: now.Add(-20 * 24 * time.Hour)},
		{ID: "spb-dead", TenantID: "spb", Type: "link.created", Status: store.EventDead, NextAttemptAt: now.Add(-20 * 24 * time.Hour)},
		{ID: "msk-delivered", TenantID: "msk", Type: "link.created", Status: store.EventDelivered, DeliveredAt: now.Add(-40 * 24 * time.Hour)},
	} {
		e.CreatedAt = now.Add(-50 * 24 * time.Hour)
		if err := st.EnqueueEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// An expired code goes; a live refresh token stays. (The rows are
	// written by SQL: the janitor reads none, and this store has no sealer.)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, r := range []struct {
		kind, sig string
		expires   time.Time
	}{{"code", "code-expired", now.Add(-50 * time.Minute)}, {"refresh", "rt-live", now.Add(time.Hour)}} {
		if _, err := conn.Exec(ctx, `INSERT INTO oauth_records (kind, signature, request_id, tenant_id, data, key_id, created_at, expires_at)
			VALUES ($1, $2, 'g', 'msk', '\x00', 'k', $3, $4)`, r.kind, r.sig, now.Add(-time.Hour), r.expires); err != nil {
			t.Fatal(err)
		}
	}
	out := run("janitor")
	if !strings.Contains(out, "removed OAuth records once expired, used or revoked: 1 codes, 0 PKCE and 0 OpenID sessions, 0 access and 0 refresh tokens, 0 grants") {
		t.Fatalf("janitor, OAuth: %s", out)
	}
	var left []string
	if err := conn.QueryRow(ctx, `SELECT array_agg(signature) FROM oauth_records`).Scan(&left); err != nil || len(left) != 1 || left[0] != "rt-live" {
		t.Fatalf("oauth records after the janitor: %v (%v), want the live refresh token", left, err)
	}
	if !strings.Contains(out, "abandoned 1 attempts; destroyed 2 attempts with 0 audit entries, 1 delivered and 1 dead webhook events") {
		t.Fatalf("janitor: %s", out)
	}
	for _, a := range attempts {
		got, err := st.GetAttempt(ctx, a.ref)
		switch {
		case strings.HasSuffix(a.ref, "OLD"):
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s kept: %v", a.ref, err)
			}
		case err != nil:
			t.Fatalf("%s: %v", a.ref, err)
		case (got.Outcome == store.OutcomeAbandoned) != (a.ref == "LEFT"):
			t.Fatalf("%s outcome %q", a.ref, got.Outcome)
		}
	}
	for tenantID, want := range map[string]string{"msk": "msk-dead", "spb": ""} {
		es, err := st.ListEvents(ctx, tenantID, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids(es), ","); got != want {
			t.Fatalf("%s events left: %q, want %q", tenantID, got, want)
		}
	}
}

func ids(es []store.OutboxEvent) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
