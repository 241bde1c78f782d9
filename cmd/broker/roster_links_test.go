package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// TestRosterImportKeepsLinksInStep: `broker roster import` treats linked
// records as the roster API does — a changed SNILS suspends the link, a
// deleted record is unlinked — revoking the person's tokens, queuing the
// link.* webhooks and auditing under the actor "cli".
func TestRosterImportKeepsLinksInStep(t *testing.T) {
	db, env := operatorDB(t)
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := broker(t, env, stdin, args...)
		if code != 0 {
			t.Fatalf("broker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	run("", "migrate", "up")
	run("", "tenants", "create", "msk", "--name", "Дневник", "--operator", "Оператор", "--operator-address", "Москва, ул. Тверская, 1")
	run(strings.Join([]string{
		`{"external_id":"t-1","role":"teacher","last_name":"Петрова","first_name":"Ольга","birth_date":"1980-01-02","snils":"112-233-445 95"}`,
		`{"external_id":"t-2","role":"teacher","last_name":"Сидорова","first_name":"Нина","birth_date":"1979-03-04","snils":"123-456-789 64"}`,
	}, "\n"), "roster", "import", "-", "--tenant", "msk", "--quiet")

	ctx := context.Background()
	s := server.DefaultSettings()
	s.DatabaseURL, s.KEK = db, testKEK
	st, err := server.OpenStorage(ctx, s, false, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	subjects, err := keyring.OpenSubjects(ctx, st.Store, st.KEK, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Both teachers logged in once: linked, with the blind indexes of what
	// ESIA said, and each holds a refresh token.
	now := time.Now().UTC()
	for _, p := range []struct{ oid, id, snils, birth string }{
		{"1001", "t-1", "11223344595", "1980-01-02"}, {"1002", "t-2", "12345678964", "1979-03-04"},
	} {
		if err := st.Store.CreateLink(ctx, store.Link{TenantID: "msk", ESIAOID: p.oid, ExternalID: p.id, Role: store.RoleTeacher,
			Rung: "snils", Status: store.LinkActive, SNILSIndex: st.PII.Index(store.IndexSNILS, p.snils),
			BirthDateIndex: st.PII.Index(store.IndexBirthDate, p.birth), CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.Store.CreateOAuthRecord(ctx, store.OAuthRecord{Kind: store.OAuthRefresh, Signature: "rt-" + p.oid, RequestID: "req-" + p.oid,
			ClientID: "c", TenantID: "msk", Subject: subjects.Subject("msk", p.oid), Active: true, Data: []byte("{}"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	out := run(strings.Join([]string{
		`{"external_id":"t-1","role":"teacher","last_name":"Петрова","first_name":"Ольга","birth_date":"1980-01-02","snils":"123-456-789 64"}`,
		`{"op":"delete","external_id":"t-2"}`,
	}, "\n"), "roster", "import", "-", "--tenant", "msk", "--quiet")
	var rep struct {
		LinksRemoved   int `json:"links_removed"`
		LinksSuspended int `json:"links_suspended"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.LinksRemoved != 1 || rep.LinksSuspended != 1 {
		t.Fatalf("report %s (%v)", out, err)
	}
	if ls, err := st.Store.LinksByOID(ctx, "msk", "1001"); err != nil || len(ls) != 1 || ls[0].Status != store.LinkSuspended || ls[0].Reason != "snils_changed" {
		t.Fatalf("t-1's link: %+v, %v", ls, err)
	}
	if ls, err := st.Store.LinksByOID(ctx, "msk", "1002"); err != nil || len(ls) != 0 {
		t.Fatalf("t-2's link survived its record: %+v, %v", ls, err)
	}
	for _, oid := range []string{"1001", "1002"} {
		if _, err := st.Store.GetOAuthRecord(ctx, store.OAuthRefresh, "rt-"+oid); err == nil {
			t.Fatalf("the refresh token of %s is still active", oid)
		}
	}
	events, err := st.Store.ListEvents(ctx, "msk", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, e := range events {
		types[e.Type] = true
	}
	if !types["link.suspended"] || !types["link.removed"] {
		t.Fatalf("webhook events: %v", types)
	}
	audit, err := st.Store.ListAudit(ctx, "msk", 10)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, a := range audit {
		actions[a.Action+" "+a.Target] = a.Actor
	}
	if actions["suspend_link t-1"] != "cli" || actions["unlink t-2"] != "cli" {
		t.Fatalf("audit: %v", actions)
	}
}
