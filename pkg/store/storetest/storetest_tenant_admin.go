package storetest

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// SeedTenant creates tenant id with one of everything the broker keeps of a
// tenant and answers how many rows of each table that is.
func SeedTenant(t *testing.T, s store.Store, id string) map[string]int64 {
	t.Helper()
	mkTenant(t, s, id)
	must(t, s.CreateClient(ctx(), store.Client{ID: id + "-diary", TenantID: id, GrantTypes: []string{"authorization_code"}, CreatedAt: base}))
	must(t, s.CreateClient(ctx(), store.Client{ID: id + "-api", TenantID: id, GrantTypes: []string{"client_credentials"}, CreatedAt: base}))
	must(t, s.UpsertPersons(ctx(), id, []store.Person{mkPerson("s-1", store.RoleStudent, "11223344595"), mkPerson("p-1", store.RoleParent, "")}))
	must(t, s.UpsertRelations(ctx(), id, []store.Relation{{Parent: "p-1", Student: "s-1"}}))
	must(t, s.CreateLink(ctx(), store.Link{TenantID: id, ESIAOID: "1000", ExternalID: "p-1", Role: store.RoleParent, Rung: "snils", CreatedAt: base, UpdatedAt: base}))
	ref := "REF" + id + "000000"
	ref = ref[:10]
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: ref, TenantID: id, ClientID: id + "-diary", Outcome: "in_progress"},
		store.AttemptEvent{Step: "authorize", At: base}))
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: ref, Outcome: "linked"},
		store.AttemptEvent{Step: "link", At: base.Add(time.Second), Detail: linkDetail("", "s-1")}))
	must(t, s.KeepAttemptValues(ctx(), store.AttemptValues{Ref: ref, TenantID: id, Data: []byte(`{"snils":"11223344595"}`), KeptAt: base}))
	must(t, s.CreateOAuthRecord(ctx(), store.OAuthRecord{Kind: store.OAuthAccess, Signature: id + "-sig", RequestID: id + "-req",
		ClientID: id + "-diary", TenantID: id, Subject: "sub", Active: true, Data: []byte("{}"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}))
	// A grant and its slim refresh token (the session once per grant).
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Grant: &store.OAuthGrant{RequestID: id + "-req2", ClientID: id + "-diary", TenantID: id, Subject: "sub", Data: []byte("{}"),
			CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
		Create: []store.OAuthRecord{{Kind: store.OAuthRefresh, Signature: id + "-rt", RequestID: id + "-req2",
			ClientID: id + "-diary", TenantID: id, Subject: "sub", Active: true, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}},
	}))
	must(t, s.CreateConsent(ctx(), mkConsent(id+"-c1", id, "s-1", base)))
	_, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: id + "-r1", TenantID: id, PersonID: "s-1", Parents: []string{"p-1"}, CreatedAt: base})
	must(t, err)
	must(t, s.AppendEvidence(ctx(), store.Evidence{TenantID: id, PersonID: "s-1", ConsentID: id + "-c1", Event: "granted", At: base, Details: fullDetails()}))
	must(t, s.EnqueueEvent(ctx(), mkEvent(id+"-ev1", id, "consent.granted", base)))
	must(t, s.EnqueueMail(ctx(), store.MailJob{ID: id + "-m1", TenantID: id, RequestID: id + "-r1", ChildRecord: "s-1", ParentRecord: "p-1",
		Kind: store.MailRequested, CreatedAt: base}))
	_, err = s.PutStaffGrant(ctx(), mkGrant(id+"-g1", id, store.StaffTenantSupport, 'a'))
	must(t, err)
	must(t, s.AppendAudit(ctx(), store.AuditEntry{At: base, TenantID: id, Actor: "cli", Action: "unlink", Target: "p-1"}))
	must(t, s.CreateTicket(ctx(), mkTicket(id+"-k1", id, ref, base, "МБОУ СОШ № 1")))
	_, err = s.ChangeTicket(ctx(), supportOf(id), id+"-k1", store.TicketChange{At: base, Author: "staff", Note: "позвонили"})
	must(t, err)
	return map[string]int64{"tenants": 1, "clients": 2, "roster_persons": 2, "roster_relations": 1, "links": 1,
		"attempts": 1, "attempt_events": 2, "attempt_records": 1, "attempt_values": 1, "oauth_records": 2, "oauth_grants": 1, "consents": 1, "consent_requests": 1,
		"consent_evidence": 1, "outbox_events": 1, "mail_jobs": 1, "staff_grants": 1, "audit_log": 1, "tickets": 1, "ticket_notes": 1}
}

// supportOf is the scope of tenant id's support staff.
func supportOf(id string) store.Scope {
	return store.Scope{Role: store.StaffTenantSupport, TenantID: id}
}

// tenantRows counts, through the store's reads, what seedTenant made.
func tenantRows(t *testing.T, s store.Store, id string) map[string]int64 {
	t.Helper()
	n := map[string]int64{}
	if _, err := s.GetTenant(ctx(), id); err == nil {
		n["tenants"] = 1
	}
	cl, err := s.ListClients(ctx(), id)
	must(t, err)
	n["clients"] = int64(len(cl))
	persons, err := s.CountPersons(ctx(), id)
	must(t, err)
	n["roster_persons"] = int64(persons)
	rel, err := s.RelationsOf(ctx(), id, "s-1")
	must(t, err)
	n["roster_relations"] = int64(len(rel))
	links, err := s.LinksByOID(ctx(), id, "1000")
	must(t, err)
	n["links"] = int64(len(links))
	byRecord, err := s.AttemptsByRecord(ctx(), id, "s-1", 10)
	must(t, err)
	n["attempt_records"] = int64(len(byRecord))
	if a, err := s.GetAttempt(ctx(), ("REF" + id + "000000")[:10]); err == nil {
		n["attempts"], n["attempt_events"] = 1, int64(len(a.Events))
	}
	if _, err := s.GetAttemptValues(ctx(), ("REF" + id + "000000")[:10]); err == nil {
		n["attempt_values"] = 1
	}
	if _, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, id+"-sig"); err == nil {
		n["oauth_records"] = 1
	}
	if r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, id+"-rt"); err == nil {
		n["oauth_records"]++
		if r.FromGrant {
			n["oauth_grants"] = 1
		}
	}
	cs, err := s.ConsentsOf(ctx(), id, "s-1")
	must(t, err)
	n["consents"] = int64(len(cs))
	if _, err := s.GetRequest(ctx(), id, id+"-r1"); err == nil {
		n["consent_requests"] = 1
	}
	ev, err := s.EvidenceOf(ctx(), id, "s-1")
	must(t, err)
	n["consent_evidence"] = int64(len(ev))
	events, err := s.ListEvents(ctx(), id, "", 10)
	must(t, err)
	n["outbox_events"] = int64(len(events))
	mail, err := s.MailOfRequest(ctx(), id, id+"-r1")
	must(t, err)
	n["mail_jobs"] = int64(len(mail))
	grants, err := s.ListStaffGrants(ctx(), id)
	must(t, err)
	n["staff_grants"] = int64(len(grants))
	audit, err := s.ListAudit(ctx(), id, 10)
	must(t, err)
	n["audit_log"] = int64(len(audit))
	tickets, err := s.TicketsInScope(ctx(), supportOf(id), "", 0)
	must(t, err)
	n["tickets"] = int64(len(tickets))
	for _, tk := range tickets {
		full, err := s.TicketInScope(ctx(), supportOf(id), tk.ID)
		must(t, err)
		n["ticket_notes"] += int64(len(full.Notes))
	}
	return n
}

// testTenantDelete: only a disabled tenant can be deleted; its deletion
// destroys every row of it and nothing of another tenant, and leaves one
// audit entry with the counts; the id can be used again.
func testTenantDelete(t *testing.T, s store.Store) {
	want := SeedTenant(t, s, "t1")
	SeedTenant(t, s, "t2")
	if got := tenantRows(t, s, "t1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("seeded rows = %v, want %v", got, want)
	}
	_, err := s.DeleteTenant(ctx(), "t1", "cli")
	wantErr(t, err, store.ErrInvalid)
	_, err = s.DeleteTenant(ctx(), "nope", "cli")
	wantErr(t, err, store.ErrNotFound)
	tn, err := s.GetTenant(ctx(), "t1")
	must(t, err)
	tn.DisabledAt = base.Add(time.Hour)
	must(t, s.UpdateTenant(ctx(), tn))
	again, err := s.GetTenant(ctx(), "t1")
	must(t, err)
	if !again.Disabled() || !again.DisabledAt.Equal(tn.DisabledAt) {
		t.Fatalf("disabled tenant read back as %+v", again)
	}
	// A failed transaction around the deletion undoes it.
	errRollback := store.ErrAlreadyExists
	wantErr(t, s.InTx(ctx(), func(c2 context.Context) error {
		if _, err := s.DeleteTenant(c2, "t1", "cli"); err != nil {
			return err
		}
		return errRollback
	}), errRollback)
	if got := tenantRows(t, s, "t1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows after a rolled back deletion = %v, want %v", got, want)
	}

	d, err := s.DeleteTenant(ctx(), "t1", "cli")
	must(t, err)
	if d.TenantID != "t1" || d.By != "cli" || d.At.IsZero() || !maps.Equal(d.Counts, want) {
		t.Fatalf("deletion = %+v, want counts %v", d, want)
	}
	got := tenantRows(t, s, "t1")
	deletionRecord := got["audit_log"]
	got["audit_log"] = 0
	for table, n := range got {
		if n != 0 {
			t.Fatalf("after deletion, %d row(s) of %s left: %v", n, table, got)
		}
	}
	if deletionRecord != 1 {
		t.Fatalf("%d audit entries after deletion, want the deletion's only", deletionRecord)
	}
	audit, err := s.ListAudit(ctx(), "t1", 10)
	must(t, err)
	var rec store.TenantDeletion
	must(t, json.Unmarshal(audit[0].Detail, &rec))
	if audit[0].Action != store.AuditDeleteTenant || audit[0].Actor != "cli" || !maps.Equal(rec.Counts, want) {
		t.Fatalf("deletion record = %+v (%+v)", audit[0], rec)
	}
	if other := tenantRows(t, s, "t2"); !reflect.DeepEqual(other, want) {
		t.Fatalf("another tenant's rows after the deletion = %v, want %v", other, want)
	}
	mkTenant(t, s, "t1") // the id is free again
}

// testClientUpdate: every setting of a client can be changed but its
// tenant and creation time; an operator-level client belongs to no tenant.
func testClientUpdate(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	c := store.Client{ID: "diary", TenantID: "t1", Name: "Дневник", SecretHash: []byte{1}, GrantTypes: []string{"authorization_code"},
		RedirectURIs: []string{"https://diary.example/cb"}, Scopes: []string{"openid"}, CreatedAt: base}
	must(t, s.CreateClient(ctx(), c))
	c.Name, c.SecretHash, c.RedirectURIs, c.Scopes = "Новый", []byte{2}, []string{"https://diary.example/cb2"}, []string{"openid", "profile"}
	c.PostLogoutRedirectURIs, c.GrantTypes, c.ResponseTypes = []string{"https://diary.example/"}, []string{"authorization_code", "refresh_token"}, []string{"code"}
	c.PKCE, c.IDTokenAlg = store.PKCEOptional, store.AlgRS256
	c.DisabledAt, c.PreviousSecretHash, c.PreviousSecretUntil, c.SecretRotatedAt = base.Add(time.Hour), []byte{1}, base.Add(24*time.Hour), base
	changed := c
	changed.TenantID, changed.CreatedAt = "t2", base.Add(time.Minute) // not changed by an update
	must(t, s.UpdateClient(ctx(), changed))
	got, err := s.GetClient(ctx(), "diary")
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("after update: %+v, want %+v", got, c)
	}
	wantErr(t, s.UpdateClient(ctx(), store.Client{ID: "nope", TenantID: "t1"}), store.ErrNotFound)
	wantErr(t, s.UpdateClient(ctx(), store.Client{ID: "diary", TenantID: "t1", Name: "a\x00b"}), store.ErrInvalid)

	op := store.Client{ID: "operator-api", GrantTypes: []string{"client_credentials"}, Scopes: []string{"admin"}, SecretHash: []byte{3}, CreatedAt: base}
	must(t, s.CreateClient(ctx(), op))
	got, err = s.GetClient(ctx(), "operator-api")
	must(t, err)
	if !got.Operator() || !reflect.DeepEqual(got, op) {
		t.Fatalf("operator client = %+v", got)
	}
	of, err := s.ListClients(ctx(), "t1")
	must(t, err)
	if len(of) != 1 || of[0].ID != "diary" {
		t.Fatalf("ListClients(t1) = %+v", of)
	}
	all, err := s.ListClients(ctx(), "")
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("ListClients(all) = %+v", all)
	}
}
