package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// RunFields runs the conformance tests of the store boundary: every store
// refuses the same strings (NUL and other control characters, invalid
// UTF-8, over the maximum length) with a *store.FieldError naming the
// field, keeps nothing of the refused write, and answers a read by a key
// no entity can have as for a missing entity.
func RunFields(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RefusedStrings", testRefusedStrings},
		{"RefusedJSON", testRefusedJSON},
		{"KeptStrings", testKeptStrings},
		{"ReadsByImpossibleKeys", testReadsByImpossibleKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// badStrings are strings no field may hold. The last is over every
// maximum length.
var badStrings = []struct{ name, v string }{
	{"NUL", "5\x00"},
	{"invalid UTF-8", "5\xff"},
	{"escape", "5\x1b[31m"},
	{"DEL", "5\x7f"},
	{"C1 control", "5\u0085"},
	{"line feed", "5\nА"},
	{"too long", strings.Repeat("я", store.MaxLongTextLength+1)},
}

// wantFieldError checks that err is a *store.FieldError naming field.
func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, store.ErrInvalid) || !errors.Is(err, store.ErrInvalidField) {
		t.Fatalf("error = %v, want a *store.FieldError for %s", err, field)
	}
	if fe.Field != field {
		t.Fatalf("FieldError names %q, want %q (%v)", fe.Field, field, err)
	}
}

// fieldWrite writes an entity with bad in one field and checks that
// nothing of it was kept.
type fieldWrite struct {
	field string
	write func(s store.Store, bad string) error
	kept  func(s store.Store) bool // nil: nothing to look at
}

func fieldWrites() []fieldWrite {
	person := func(edit func(p *store.Person, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			p := mkPerson("x-1", store.RoleStudent, "")
			edit(&p, bad)
			return s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("ok-1", store.RoleStudent, ""), p})
		}
	}
	personKept := func(s store.Store) bool {
		_, err1 := s.GetPerson(ctx(), "t1", "ok-1")
		_, err2 := s.GetPerson(ctx(), "t1", "x-1")
		return err1 == nil || err2 == nil
	}
	tenant := func(edit func(tn *store.Tenant, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			tn := store.Tenant{ID: "t-new", DisplayName: "Дневник", TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy()}
			edit(&tn, bad)
			return s.CreateTenant(ctx(), tn)
		}
	}
	tenantKept := func(s store.Store) bool { _, err := s.GetTenant(ctx(), "t-new"); return err == nil }
	link := func(edit func(l *store.Link, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			l := store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "s-1", Role: store.RoleStudent, Rung: "snils",
				Status: store.LinkActive, CreatedAt: base, UpdatedAt: base}
			edit(&l, bad)
			return s.CreateLink(ctx(), l)
		}
	}
	linkKept := func(s store.Store) bool { ls, _ := s.LinksByRecord(ctx(), "t1", "s-1"); return len(ls) > 0 }
	attempt := func(edit func(a *store.Attempt, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			a := store.Attempt{Ref: "REF0000001", TenantID: "t1", ClientID: "c-1", Outcome: "in_progress", CreatedAt: base, UpdatedAt: base}
			edit(&a, bad)
			return s.RecordAttempt(ctx(), a, store.AttemptEvent{Step: "authorize", At: base})
		}
	}
	attemptKept := func(s store.Store) bool { _, err := s.GetAttempt(ctx(), "REF0000001"); return err == nil }
	consent := func(edit func(c *store.Consent, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			c := store.Consent{ID: "00000000-0000-4000-8000-000000000001", TenantID: "t1", PersonID: "s-1", Kind: store.ConsentSelf,
				GrantorOID: "1000", TextVersion: "1", TextHash: "abc", Status: store.ConsentGranted, GrantedAt: base}
			edit(&c, bad)
			return s.CreateConsent(ctx(), c)
		}
	}
	consentKept := func(s store.Store) bool { cs, _ := s.ConsentsOf(ctx(), "t1", "s-1"); return len(cs) > 0 }
	request := func(edit func(r *store.ConsentRequest, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			r := store.ConsentRequest{ID: "00000000-0000-4000-8000-000000000002", TenantID: "t1", PersonID: "s-1",
				Parents: []string{"p-1"}, Status: store.RequestOpen, CreatedAt: base, ExpiresAt: base.AddDate(0, 0, 30)}
			edit(&r, bad)
			_, _, err := s.OpenRequest(ctx(), r)
			return err
		}
	}
	requestKept := func(s store.Store) bool { _, err := s.OpenRequestOf(ctx(), "t1", "s-1"); return err == nil }
	evidence := func(edit func(e *store.Evidence, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			e := store.Evidence{TenantID: "t1", PersonID: "s-1", Event: "granted", At: base,
				Details: store.EvidenceDetails{GrantorOID: "1000", GrantorName: "Иванов Пётр", Purpose: "дневник\nи журнал"}}
			edit(&e, bad)
			return s.AppendEvidence(ctx(), e)
		}
	}
	evidenceKept := func(s store.Store) bool { es, _ := s.EvidenceOf(ctx(), "t1", "s-1"); return len(es) > 0 }
	outbox := func(edit func(e *store.OutboxEvent, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			e := store.OutboxEvent{ID: "00000000-0000-4000-8000-000000000003", TenantID: "t1", Type: "link.created",
				Data: json.RawMessage(`{"person_id":"s-1"}`), CreatedAt: base, Status: store.EventPending, NextAttemptAt: base}
			edit(&e, bad)
			return s.EnqueueEvent(ctx(), e)
		}
	}
	outboxKept := func(s store.Store) bool { es, _ := s.ListEvents(ctx(), "t1", "", 10); return len(es) > 0 }
	client := func(edit func(c *store.Client, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			c := store.Client{ID: "c-new", TenantID: "t1", Name: "Дневник", RedirectURIs: []string{"https://diary.example/cb"},
				GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"}, Scopes: []string{"openid"}, CreatedAt: base}
			edit(&c, bad)
			return s.CreateClient(ctx(), c)
		}
	}
	clientKept := func(s store.Store) bool { _, err := s.GetClient(ctx(), "c-new"); return err == nil }
	audit := func(edit func(e *store.AuditEntry, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			e := store.AuditEntry{At: base, TenantID: "t1", Actor: "api-client", Action: "unlink", Target: "s-1"}
			edit(&e, bad)
			return s.AppendAudit(ctx(), e)
		}
	}
	auditKept := func(s store.Store) bool { es, _ := s.ListAudit(ctx(), "t1", 10); return len(es) > 0 }
	oauth := func(edit func(r *store.OAuthRecord, bad string)) func(s store.Store, bad string) error {
		return func(s store.Store, bad string) error {
			r := store.OAuthRecord{Kind: store.OAuthAccess, Signature: "sig-1", RequestID: "req-1", ClientID: "c-1", TenantID: "t1",
				Subject: "sub-1", Active: true, Data: []byte("{}"), CreatedAt: base, ExpiresAt: base.Add(3600e9)}
			edit(&r, bad)
			return s.CreateOAuthRecord(ctx(), r)
		}
	}
	oauthKept := func(s store.Store) bool {
		_, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, "sig-1")
		return err == nil || errors.Is(err, store.ErrInactive)
	}

	return []fieldWrite{
		{"external_id", person(func(p *store.Person, bad string) { p.ExternalID = bad }), personKept},
		{"last_name", person(func(p *store.Person, bad string) { p.LastName = bad }), personKept},
		{"first_name", person(func(p *store.Person, bad string) { p.FirstName = bad }), personKept},
		{"middle_name", person(func(p *store.Person, bad string) { p.MiddleName = bad }), personKept},
		{"snils", person(func(p *store.Person, bad string) { p.SNILS = bad }), personKept},
		{"school", person(func(p *store.Person, bad string) { p.School = bad }), personKept},
		{"class", person(func(p *store.Person, bad string) { p.Class = bad }), personKept},
		{"birth_cert.series", person(func(p *store.Person, bad string) { p.BirthCert.Series = bad }), personKept},
		{"birth_cert.number", person(func(p *store.Person, bad string) { p.BirthCert.Number = bad }), personKept},
		{"birth_cert.act_no", person(func(p *store.Person, bad string) { p.BirthCert.ActNo = bad }), personKept},
		{"contacts[0].value", person(func(p *store.Person, bad string) { p.Contacts[0].Value = bad }), personKept},
		{"flags[0]", person(func(p *store.Person, bad string) { p.Flags[0] = bad }), personKept},
		{"tenant_id", func(s store.Store, bad string) error {
			return s.UpsertPersons(ctx(), bad, []store.Person{mkPerson("x-1", store.RoleStudent, "")})
		}, personKept},
		{"student", func(s store.Store, bad string) error {
			return s.UpsertRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: bad, Kind: "mother"}})
		}, func(s store.Store) bool { rs, _ := s.RelationsOf(ctx(), "t1", "p-1"); return len(rs) > 0 }},
		{"kind", func(s store.Store, bad string) error {
			return s.UpsertRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: "s-1", Kind: bad}})
		}, func(s store.Store) bool { rs, _ := s.RelationsOf(ctx(), "t1", "p-1"); return len(rs) > 0 }},
		{"id", tenant(func(tn *store.Tenant, bad string) { tn.ID = bad }), nil},
		{"display_name", tenant(func(tn *store.Tenant, bad string) { tn.DisplayName = bad }), tenantKept},
		{"operator_address", tenant(func(tn *store.Tenant, bad string) { tn.OperatorAddress = bad }), tenantKept},
		{"webhook_url", tenant(func(tn *store.Tenant, bad string) { tn.WebhookURL = bad }), tenantKept},
		{"id", client(func(c *store.Client, bad string) { c.ID = bad }), nil},
		{"name", client(func(c *store.Client, bad string) { c.Name = bad }), clientKept},
		{"redirect_uris[0]", client(func(c *store.Client, bad string) { c.RedirectURIs[0] = bad }), clientKept},
		{"esia_oid", link(func(l *store.Link, bad string) { l.ESIAOID = bad }), linkKept},
		{"external_id", link(func(l *store.Link, bad string) { l.ExternalID = bad }), linkKept},
		{"reason", link(func(l *store.Link, bad string) { l.Reason = bad }), linkKept},
		{"ref", attempt(func(a *store.Attempt, bad string) { a.Ref = bad }), nil},
		{"client_id", attempt(func(a *store.Attempt, bad string) { a.ClientID = bad }), attemptKept},
		{"esia_oid", attempt(func(a *store.Attempt, bad string) { a.ESIAOID = bad }), attemptKept},
		{"grantor_oid", consent(func(c *store.Consent, bad string) { c.GrantorOID = bad }), consentKept},
		{"text_version", consent(func(c *store.Consent, bad string) { c.TextVersion = bad }), consentKept},
		{"child_oid", request(func(r *store.ConsentRequest, bad string) { r.ChildOID = bad }), requestKept},
		{"parents[0]", request(func(r *store.ConsentRequest, bad string) { r.Parents[0] = bad }), requestKept},
		{"details.grantor_name", evidence(func(e *store.Evidence, bad string) { e.Details.GrantorName = bad }), evidenceKept},
		{"details.esia_session_id", evidence(func(e *store.Evidence, bad string) { e.Details.ESIASessionID = bad }), evidenceKept},
		{"type", outbox(func(e *store.OutboxEvent, bad string) { e.Type = bad }), outboxKept},
		{"actor", audit(func(e *store.AuditEntry, bad string) { e.Actor = bad }), auditKept},
		{"target", audit(func(e *store.AuditEntry, bad string) { e.Target = bad }), auditKept},
		{"subject", oauth(func(r *store.OAuthRecord, bad string) { r.Subject = bad }), oauthKept},
		{"client_id", oauth(func(r *store.OAuthRecord, bad string) { r.ClientID = bad }), oauthKept},
	}
}

// fieldsFixture is a tenant with a parent and a student record.
func fieldsFixture(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("s-1", store.RoleStudent, ""), mkPerson("p-1", store.RoleParent, "")}))
}

func testRefusedStrings(t *testing.T, s store.Store) {
	fieldsFixture(t, s)
	for _, w := range fieldWrites() {
		for _, bad := range badStrings {
			t.Run(w.field+"/"+bad.name, func(t *testing.T) {
				wantFieldError(t, w.write(s, bad.v), w.field)
				if w.kept != nil && w.kept(s) {
					t.Fatal("a refused write kept something")
				}
			})
		}
	}
	// The writes that change a stored entity refuse the same way and
	// leave it as it was.
	tn, err := s.GetTenant(ctx(), "t1")
	must(t, err)
	tn.Consent.Purpose = "ведение\x00дневника"
	wantFieldError(t, s.UpdateTenant(ctx(), tn), "consent.purpose")
	must(t, s.CreateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "s-1", Role: store.RoleStudent,
		Rung: "snils", Status: store.LinkActive, CreatedAt: base, UpdatedAt: base}))
	wantFieldError(t, s.UpdateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "s-1", Role: store.RoleStudent,
		Rung: "snils", Status: store.LinkSuspended, Reason: "bad\x00reason"}), "reason")
	if ls, _ := s.LinksByRecord(ctx(), "t1", "s-1"); len(ls) != 1 || ls[0].Status != store.LinkActive {
		t.Fatalf("a refused update changed the link: %+v", ls)
	}
	c := store.Consent{ID: "00000000-0000-4000-8000-000000000009", TenantID: "t1", PersonID: "s-1", Kind: store.ConsentSelf,
		GrantorOID: "1000", TextVersion: "1", Status: store.ConsentGranted, GrantedAt: base}
	must(t, s.CreateConsent(ctx(), c))
	wantFieldError(t, s.EndConsent(ctx(), "t1", c.ID, store.ConsentRevoked, "why\x00", base), "end_reason")
	if cs, _ := s.ConsentsOf(ctx(), "t1", "s-1"); len(cs) != 1 || cs[0].Status != store.ConsentGranted {
		t.Fatalf("a refused end changed the consent: %+v", cs)
	}
	r, _, err := s.OpenRequest(ctx(), store.ConsentRequest{ID: "00000000-0000-4000-8000-00000000000a", TenantID: "t1", PersonID: "s-1",
		Parents: []string{"p-1"}, Status: store.RequestOpen, CreatedAt: base, ExpiresAt: base.AddDate(0, 0, 30)})
	must(t, err)
	wantFieldError(t, s.AddDecline(ctx(), "t1", r.ID, store.Decline{ParentRecord: "p-1", GrantorOID: "1\xff", At: base}), "grantor_oid")
	if got, _ := s.GetRequest(ctx(), "t1", r.ID); len(got.Declines) != 0 {
		t.Fatalf("a refused decline was kept: %+v", got.Declines)
	}
	if pc, ok := s.(store.PersonCopier); ok {
		p := mkPerson("x-2", store.RoleStudent, "")
		p.Class = "5\x00"
		wantFieldError(t, pc.CopyPersons(ctx(), "t1", []store.Person{p}), "class")
	}
	if kr, ok := s.(store.KnownRelations); ok {
		_, err := kr.UpsertKnownRelations(ctx(), "t1", []store.Relation{{Parent: "p-1\x00", Student: "s-1"}})
		wantFieldError(t, err, "parent")
	}
}

// testRefusedJSON: details a store keeps as JSON must be JSON in UTF-8
// without \u0000 (PostgreSQL's jsonb cannot hold it).
func testRefusedJSON(t *testing.T, s store.Store) {
	fieldsFixture(t, s)
	for _, bad := range []struct{ name, v string }{
		{"NUL escape", `{"a":"5\u0000"}`},
		{"invalid UTF-8", "{\"a\":\"5\xff\"}"},
		{"not JSON", `{"a":`},
	} {
		t.Run(bad.name, func(t *testing.T) {
			wantFieldError(t, s.AppendAudit(ctx(), store.AuditEntry{At: base, TenantID: "t1", Actor: "a", Action: "x", Detail: json.RawMessage(bad.v)}), "detail")
			wantFieldError(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000002", TenantID: "t1", CreatedAt: base, UpdatedAt: base},
				store.AttemptEvent{Step: "authorize", At: base, Detail: json.RawMessage(bad.v)}), "detail")
			wantFieldError(t, s.EnqueueEvent(ctx(), store.OutboxEvent{ID: "00000000-0000-4000-8000-000000000004", TenantID: "t1",
				Type: "link.created", Data: json.RawMessage(bad.v), CreatedAt: base, Status: store.EventPending, NextAttemptAt: base}), "data")
		})
	}
	// An escaped backslash before u0000 is text, not a NUL.
	must(t, s.AppendAudit(ctx(), store.AuditEntry{At: base, TenantID: "t1", Actor: "a", Action: "x", Detail: json.RawMessage(`{"a":"\\u0000"}`)}))
}

// testKeptStrings: what the checks allow, the stores keep exactly — up to
// the maximum lengths, in characters of up to four bytes, so that the
// widest key (a relation: tenant, parent and student ids) fits an index.
func testKeptStrings(t *testing.T, s store.Store) {
	emoji := func(n int) string { return strings.Repeat("😀", n) }
	tid := emoji(store.MaxIDLength)
	tn := store.Tenant{ID: tid, DisplayName: "«Дневник» ёЁ", TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy(), CreatedAt: base, UpdatedAt: base}
	tn.Consent.Purpose = "ведение дневника\nи журнала\tуспеваемости"
	must(t, s.CreateTenant(ctx(), tn))
	got, err := s.GetTenant(ctx(), tid)
	must(t, err)
	if got.Consent.Purpose != tn.Consent.Purpose {
		t.Fatalf("purpose = %q", got.Consent.Purpose)
	}
	parent, student := mkPerson(emoji(store.MaxIDLength), store.RoleParent, ""), mkPerson("я"+emoji(store.MaxIDLength-1), store.RoleStudent, "")
	student.LastName, student.School = strings.Repeat("Щ", store.MaxNameLength), strings.Repeat("ш", store.MaxSchoolLength)
	student.Class = strings.Repeat("ж", store.MaxClassLength)
	parent.Index.NameBirth, student.Index.NameBirth = "ix-nb-p", "ix-nb-s"
	must(t, s.UpsertPersons(ctx(), tid, []store.Person{parent, student}))
	p, err := s.GetPerson(ctx(), tid, student.ExternalID)
	must(t, err)
	if p.LastName != student.LastName || p.School != student.School || p.Class != student.Class {
		t.Fatal("a record at the maximum lengths was not kept exactly")
	}
	must(t, s.UpsertRelations(ctx(), tid, []store.Relation{{Parent: parent.ExternalID, Student: student.ExternalID, Kind: "mother"}}))
	rs, err := s.RelationsOf(ctx(), tid, student.ExternalID)
	must(t, err)
	if len(rs) != 1 || rs[0].Parent != parent.ExternalID {
		t.Fatalf("relation at the maximum id lengths: %+v", rs)
	}
	// One character more is refused.
	long := mkPerson(emoji(store.MaxIDLength+1), store.RoleStudent, "")
	wantFieldError(t, s.UpsertPersons(ctx(), tid, []store.Person{long}), "external_id")
}

// testReadsByImpossibleKeys: a read or a delete by a key no entity can
// have (NUL, invalid UTF-8, 8,000 characters) is answered as for a
// missing entity, never with the database's error.
func testReadsByImpossibleKeys(t *testing.T, s store.Store) {
	fieldsFixture(t, s)
	for _, bad := range []struct{ name, v string }{
		{"NUL", "s-1\x00"}, {"invalid UTF-8", "s-1\xff"}, {"8000 characters", strings.Repeat("x", 8000)},
	} {
		t.Run(bad.name, func(t *testing.T) {
			_, err := s.GetPerson(ctx(), "t1", bad.v)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetTenant(ctx(), bad.v)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetClient(ctx(), bad.v)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetAttempt(ctx(), bad.v)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetOAuthRecord(ctx(), store.OAuthAccess, bad.v)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetRequest(ctx(), "t1", bad.v)
			wantErr(t, err, store.ErrNotFound)
			wantErr(t, s.RetryEvent(ctx(), "t1", bad.v, base), store.ErrNotFound)
			wantErr(t, s.DeleteLink(ctx(), "t1", bad.v, "s-1"), store.ErrNotFound)
			for name, list := range map[string]func() (int, error){
				"LinksByRecord": func() (int, error) { l, err := s.LinksByRecord(ctx(), "t1", bad.v); return len(l), err },
				"LinksByOID":    func() (int, error) { l, err := s.LinksByOID(ctx(), "t1", bad.v); return len(l), err },
				"LinksByRecords": func() (int, error) {
					l, err := s.LinksByRecords(ctx(), "t1", []string{"s-1", bad.v})
					return len(l), err
				},
				"RelationsOf":      func() (int, error) { l, err := s.RelationsOf(ctx(), "t1", bad.v); return len(l), err },
				"ConsentsOf":       func() (int, error) { l, err := s.ConsentsOf(ctx(), "t1", bad.v); return len(l), err },
				"EvidenceOf":       func() (int, error) { l, err := s.EvidenceOf(ctx(), "t1", bad.v); return len(l), err },
				"OpenRequestsFor":  func() (int, error) { l, err := s.OpenRequestsFor(ctx(), "t1", bad.v); return len(l), err },
				"AttemptsByRecord": func() (int, error) { l, err := s.AttemptsByRecord(ctx(), "t1", bad.v, 10); return len(l), err },
				"AttemptsByOID":    func() (int, error) { l, err := s.AttemptsByOID(ctx(), "t1", bad.v, 10); return len(l), err },
				"FindPersons": func() (int, error) {
					l, err := s.FindPersons(ctx(), "t1", store.IndexSNILS, bad.v, 10)
					return len(l), err
				},
			} {
				if n, err := list(); err != nil || n != 0 {
					t.Fatalf("%s: %d, %v", name, n, err)
				}
			}
			// Inside a transaction too: a refused key must not abort it.
			must(t, s.InTx(ctx(), func(ctx2 context.Context) error {
				if err := s.LockPersons(ctx2, "t1", []string{bad.v, "s-1"}); err != nil {
					return err
				}
				_, err := s.GetPerson(ctx2, "t1", bad.v)
				wantErr(t, err, store.ErrNotFound)
				_, err = s.GetPerson(ctx2, "t1", "s-1")
				return err
			}))
		})
	}
	// A delete by good and impossible ids deletes the good ones.
	must(t, s.DeletePersons(ctx(), "t1", []string{"s-1\x00", "s-1"}))
	if _, err := s.GetPerson(ctx(), "t1", "s-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("s-1 not deleted: %v", err)
	}
}
