// Package storetest is the conformance suite every store implementation
// must pass: the memory store and the PostgreSQL store run the same tests,
// so they cannot drift apart.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// NewStore returns a fresh, empty store for one test.
type NewStore func(t *testing.T) store.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []storeTest{
		{"Tenants", testTenants},
		{"Clients", testClients},
		{"ClientUpdate", testClientUpdate},
		{"TenantDelete", testTenantDelete},
		{"RosterUpsertAndFind", testRosterUpsertAndFind},
		{"RosterBatchIsAtomic", testRosterBatchIsAtomic},
		{"RosterTenantsIsolated", testRosterTenantsIsolated},
		{"RosterDeleteCascades", testRosterDeleteCascades},
		{"Relations", testRelations},
		{"Links", testLinks},
		{"Attempts", testAttempts},
		{"Keys", testKeys},
		{"Audit", testAudit},
		{"StaffGrants", testStaffGrants},
		{"ConsoleScopes", testConsoleScopes},
		{"RecordConsoleScopes", testRecordConsoleScopes},
		{"Mail", testMail},
		{"TxRollback", testTxRollback},
		{"TxCommit", testTxCommit},
	}
	for _, tc := range append(tests, oauthTests...) {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.fn(t, s)
		})
	}
}

// storeTest is one test of the suite.
type storeTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// oauthTests are the suite's tests of store.OAuthRecords, which Run runs
// with the rest and RunOAuth alone.
var oauthTests = []storeTest{
	{"OAuthRecords", testOAuthRecords},
	{"OAuthDeactivateIsAtomic", testOAuthDeactivateIsAtomic},
	{"OAuthRevokeSubject", testOAuthRevokeSubject},
	{"OAuthRecordSet", testOAuthRecordSet},
	{"OAuthBatch", testOAuthBatch},
	{"OAuthBatchGateIsAtomic", testOAuthBatchGateIsAtomic},
	{"OAuthRequirement", testOAuthRequirement},
	{"OAuthUsedCodeReadsItsGrant", testOAuthUsedCodeReadsItsGrant},
	{"OAuthRotation", testOAuthRotation},
	{"OAuthRotationRemoves", testOAuthRotationRemoves},
	{"OAuthJanitor", testOAuthJanitor},
	{"OAuthGrants", testOAuthGrants},
	{"OAuthGrantRefresh", testOAuthGrantRefresh},
	{"OAuthGrantRefreshRace", testOAuthGrantRefreshRace},
	{"OAuthGrantRefreshLegacy", testOAuthGrantRefreshLegacy},
	{"OAuthGrantRefreshRevokeSubject", testOAuthGrantRefreshRevokeSubject},
}

// RunOAuth runs the suite's OAuth tests alone: for a store that writes
// tokens differently (postgres.Store.WithAsyncTokenCommit) and must still
// keep every one of their promises.
func RunOAuth(t *testing.T, newStore NewStore) {
	for _, tc := range oauthTests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// base is the fixed time tests write; stores must keep it to the microsecond.
var base = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func ctx() context.Context { return context.Background() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func mkTenant(t *testing.T, s store.Store, id string) store.Tenant {
	t.Helper()
	tn := store.Tenant{
		ID: id, DisplayName: "Дневник " + id, OperatorName: "ГБУ «Оператор»",
		OperatorAddress: "Москва, ул. Тверская, 1", TimeZone: "Europe/Moscow",
		Matching: store.MatchingPolicy{AllowNameMatch: true}, Consent: store.DefaultConsentPolicy(),
		WebhookURL: "https://diary.example/hook", WebhookSecret: "whsec",
		CreatedAt: base, UpdatedAt: base,
	}
	must(t, s.CreateTenant(ctx(), tn))
	return tn
}

func mkPerson(id string, role store.Role, snils string) store.Person {
	return store.Person{
		ExternalID: id, Role: role,
		LastName: "Иванов", FirstName: "Пётр", MiddleName: "Сергеевич",
		BirthDate: store.Date{Year: 2012, Month: 5, Day: 14},
		SNILS:     snils,
		BirthCert: &store.BirthCert{Type: "RF_BRTH_CERT", Series: "II-МЮ", Number: "123456", IssueDate: store.Date{Year: 2012, Month: 6, Day: 1}},
		Contacts:  []store.Contact{{Type: "email", Value: "p@example.ru"}},
		School:    "МБОУ СОШ № 1", Class: "8А",
		Index: store.PersonIndex{SNILS: "ix-snils-" + snils, BirthDate: "ix-bd-2012-05-14", NameBirth: "ix-nb-" + id},
		Flags: []string{"snils_checksum"},
	}
}

func testTenants(t *testing.T, s store.Store) {
	tn := mkTenant(t, s, "t1")
	wantErr(t, s.CreateTenant(ctx(), tn), store.ErrAlreadyExists)
	wantErr(t, s.CreateTenant(ctx(), store.Tenant{}), store.ErrInvalid)
	got, err := s.GetTenant(ctx(), "t1")
	must(t, err)
	if !reflect.DeepEqual(got, tn) {
		t.Fatalf("GetTenant = %+v, want %+v", got, tn)
	}
	if got.Tokens.RefreshReuse() != store.DefaultRefreshReuse {
		t.Fatalf("refresh reuse interval of a tenant that sets none: %v", got.Tokens.RefreshReuse())
	}
	got.DisplayName = "Новое имя"
	got.Consent.TextVersion = "2"
	off := 0
	got.Tokens.RefreshReuseSeconds = &off
	must(t, s.UpdateTenant(ctx(), got))
	again, err := s.GetTenant(ctx(), "t1")
	must(t, err)
	if again.DisplayName != "Новое имя" || again.Consent.TextVersion != "2" || !again.CreatedAt.Equal(base) ||
		again.Tokens.RefreshReuseSeconds == nil || again.Tokens.RefreshReuse() != 0 {
		t.Fatalf("after update: %+v", again)
	}
	wantErr(t, s.UpdateTenant(ctx(), store.Tenant{ID: "nope"}), store.ErrNotFound)
	_, err = s.GetTenant(ctx(), "nope")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetTenantForUpdate(ctx(), "nope")
	wantErr(t, err, store.ErrNotFound)
	testTenantReadModifyWrite(t, s)
	mkTenant(t, s, "t0")
	list, err := s.ListTenants(ctx())
	must(t, err)
	if len(list) != 2 || list[0].ID != "t0" || list[1].ID != "t1" {
		t.Fatalf("ListTenants = %+v", list)
	}
}

// testTenantReadModifyWrite: two transactions that each read the tenant
// with GetTenantForUpdate and change a different setting both land; the
// second waits for the first instead of overwriting it with what it read.
func testTenantReadModifyWrite(t *testing.T, s store.Store) {
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.InTx(ctx(), func(c context.Context) error {
			tn, err := s.GetTenantForUpdate(c, "t1")
			if err != nil {
				return err
			}
			close(locked)
			<-release
			tn.Consent.TermDays = 365
			return s.UpdateTenant(c, tn)
		})
	}()
	<-locked
	second := make(chan error, 1)
	go func() {
		second <- s.InTx(ctx(), func(c context.Context) error {
			tn, err := s.GetTenantForUpdate(c, "t1")
			if err != nil {
				return err
			}
			tn.Consent.RequestDays = 7
			return s.UpdateTenant(c, tn)
		})
	}()
	// Whether or not the second transaction has reached its read yet, it
	// must not see the tenant before the first commits.
	time.Sleep(20 * time.Millisecond)
	close(release)
	must(t, <-done)
	must(t, <-second)
	got, err := s.GetTenant(ctx(), "t1")
	must(t, err)
	if got.Consent.TermDays != 365 || got.Consent.RequestDays != 7 {
		t.Fatalf("concurrent updates: term %d, request days %d; one was lost", got.Consent.TermDays, got.Consent.RequestDays)
	}
}

func testClients(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	c := store.Client{
		ID: "diary", TenantID: "t1", Name: "Дневник", SecretHash: []byte{1, 2, 3},
		RedirectURIs: []string{"https://diary.example/cb"}, PostLogoutRedirectURIs: []string{"https://diary.example/"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile"}, PKCE: store.PKCEOptional, IDTokenAlg: store.AlgRS256, CreatedAt: base,
	}
	must(t, s.CreateClient(ctx(), c))
	// PKCE optional only for a confidential client, known algorithms only.
	wantErr(t, s.CreateClient(ctx(), store.Client{ID: "spa", TenantID: "t1", Public: true, PKCE: store.PKCEOptional}), store.ErrInvalidField)
	wantErr(t, s.CreateClient(ctx(), store.Client{ID: "spa", TenantID: "t1", PKCE: "plain"}), store.ErrInvalidField)
	wantErr(t, s.CreateClient(ctx(), store.Client{ID: "spa", TenantID: "t1", IDTokenAlg: "HS256"}), store.ErrInvalidField)
	wantErr(t, s.CreateClient(ctx(), c), store.ErrAlreadyExists)
	wantErr(t, s.CreateClient(ctx(), store.Client{ID: "x", TenantID: "missing"}), store.ErrInvalid)
	got, err := s.GetClient(ctx(), "diary")
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("GetClient = %+v, want %+v", got, c)
	}
	must(t, s.CreateClient(ctx(), store.Client{ID: "api", TenantID: "t2", Public: true, GrantTypes: []string{"client_credentials"}, CreatedAt: base}))
	all, err := s.ListClients(ctx(), "")
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("ListClients(all) = %d clients", len(all))
	}
	t2, err := s.ListClients(ctx(), "t2")
	must(t, err)
	if len(t2) != 1 || t2[0].ID != "api" || !t2[0].Public {
		t.Fatalf("ListClients(t2) = %+v", t2)
	}
	must(t, s.DeleteClient(ctx(), "api"))
	wantErr(t, s.DeleteClient(ctx(), "api"), store.ErrNotFound)
	_, err = s.GetClient(ctx(), "api")
	wantErr(t, err, store.ErrNotFound)
}

func samePerson(t *testing.T, got, want store.Person) {
	t.Helper()
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	want.TenantID = got.TenantID
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("person = %+v\nwant %+v", got, want)
	}
}

func testRosterUpsertAndFind(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	p1 := mkPerson("s-1", store.RoleStudent, "11223344595")
	p2 := mkPerson("s-2", store.RoleStudent, "11223344596")
	p3 := mkPerson("p-1", store.RoleParent, "")
	p3.BirthCert, p3.Contacts, p3.Flags, p3.MiddleName = nil, nil, nil, ""
	p3.Index.BirthDate = "ix-bd-1980"
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{p1, p2, p3}))

	got, err := s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	samePerson(t, got, p1)
	if got.TenantID != "t1" || got.UpdatedAt.IsZero() {
		t.Fatalf("tenant/updated not set: %+v", got)
	}
	got, err = s.GetPerson(ctx(), "t1", "p-1")
	must(t, err)
	samePerson(t, got, p3)

	found, err := s.FindPersons(ctx(), "t1", store.IndexBirthDate, "ix-bd-2012-05-14", 0)
	must(t, err)
	if ids := personIDs(found); !reflect.DeepEqual(ids, []string{"s-1", "s-2"}) {
		t.Fatalf("FindPersons(birth date) = %v", ids)
	}
	found, err = s.FindPersons(ctx(), "t1", store.IndexBirthDate, "ix-bd-2012-05-14", 1)
	must(t, err)
	if len(found) != 1 {
		t.Fatalf("limit 1 gave %d", len(found))
	}
	found, err = s.FindPersons(ctx(), "t1", store.IndexSNILS, "ix-snils-11223344596", 0)
	must(t, err)
	if ids := personIDs(found); !reflect.DeepEqual(ids, []string{"s-2"}) {
		t.Fatalf("FindPersons(snils) = %v", ids)
	}
	found, err = s.FindPersons(ctx(), "t1", store.IndexSNILS, "", 0)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("empty index value matched %d records", len(found))
	}

	// An update replaces the record and its indexes.
	p2.SNILS = "99988877766"
	p2.Index.SNILS = "ix-snils-new"
	p2.Class = "9А"
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{p2}))
	found, err = s.FindPersons(ctx(), "t1", store.IndexSNILS, "ix-snils-11223344596", 0)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("old index still finds %v", personIDs(found))
	}
	found, err = s.FindPersons(ctx(), "t1", store.IndexSNILS, "ix-snils-new", 0)
	must(t, err)
	if len(found) != 1 || found[0].Class != "9А" || found[0].SNILS != "99988877766" {
		t.Fatalf("new index = %+v", found)
	}
	n, err := s.CountPersons(ctx(), "t1")
	must(t, err)
	if n != 3 {
		t.Fatalf("CountPersons = %d", n)
	}
	_, err = s.GetPerson(ctx(), "t1", "nope")
	wantErr(t, err, store.ErrNotFound)
}

func personIDs(ps []store.Person) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ExternalID)
	}
	sort.Strings(ids)
	return ids
}

func testRosterBatchIsAtomic(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	good := mkPerson("s-1", store.RoleStudent, "11223344595")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{good}))

	changed := good
	changed.Class = "11Б"
	bad := mkPerson("s-2", "pilot", "")
	wantErr(t, s.UpsertPersons(ctx(), "t1", []store.Person{changed, bad}), store.ErrInvalid)
	dup := mkPerson("s-3", store.RoleStudent, "")
	wantErr(t, s.UpsertPersons(ctx(), "t1", []store.Person{dup, dup}), store.ErrInvalid)
	wantErr(t, s.UpsertPersons(ctx(), "t1", []store.Person{{Role: store.RoleStudent}}), store.ErrInvalid)
	wantErr(t, s.UpsertPersons(ctx(), "missing-tenant", []store.Person{good}), store.ErrInvalid)

	got, err := s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	if got.Class != good.Class {
		t.Fatalf("failed batch changed the record: class %q", got.Class)
	}
	for _, id := range []string{"s-2", "s-3"} {
		_, err = s.GetPerson(ctx(), "t1", id)
		wantErr(t, err, store.ErrNotFound)
	}
}

func testRosterTenantsIsolated(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("s-1", store.RoleStudent, "11223344595")}))
	_, err := s.GetPerson(ctx(), "t2", "s-1")
	wantErr(t, err, store.ErrNotFound)
	found, err := s.FindPersons(ctx(), "t2", store.IndexSNILS, "ix-snils-11223344595", 0)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("tenant t2 sees t1's records: %v", personIDs(found))
	}
	// The same external id in another tenant is another record.
	other := mkPerson("s-1", store.RoleTeacher, "")
	must(t, s.UpsertPersons(ctx(), "t2", []store.Person{other}))
	p1, err := s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	if p1.Role != store.RoleStudent {
		t.Fatalf("t2's upsert changed t1's record")
	}
}

func testRosterDeleteCascades(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{
		mkPerson("s-1", store.RoleStudent, "11223344595"), mkPerson("p-1", store.RoleParent, ""),
	}))
	must(t, s.UpsertRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: "s-1", Kind: "mother"}}))
	must(t, s.CreateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "s-1", Role: store.RoleStudent, Rung: "snils"}))
	must(t, s.DeletePersons(ctx(), "t1", []string{"s-1", "never-existed"}))
	_, err := s.GetPerson(ctx(), "t1", "s-1")
	wantErr(t, err, store.ErrNotFound)
	found, err := s.FindPersons(ctx(), "t1", store.IndexSNILS, "ix-snils-11223344595", 0)
	must(t, err)
	if len(found) != 0 {
		t.Fatal("deleted record still indexed")
	}
	rels, err := s.RelationsOf(ctx(), "t1", "p-1")
	must(t, err)
	if len(rels) != 0 {
		t.Fatalf("relations of deleted record remain: %+v", rels)
	}
	links, err := s.LinksByOID(ctx(), "t1", "1000")
	must(t, err)
	if len(links) != 0 {
		t.Fatalf("links of deleted record remain: %+v", links)
	}
}

func testRelations(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{
		mkPerson("s-1", store.RoleStudent, ""), mkPerson("s-2", store.RoleStudent, ""), mkPerson("p-1", store.RoleParent, ""),
	}))
	wantErr(t, s.UpsertRelations(ctx(), "t1", []store.Relation{
		{Parent: "p-1", Student: "s-1", Kind: "mother"}, {Parent: "p-1", Student: "ghost", Kind: "mother"},
	}), store.ErrInvalid)
	rels, err := s.RelationsOf(ctx(), "t1", "p-1")
	must(t, err)
	if len(rels) != 0 {
		t.Fatalf("a failed batch stored relations: %+v", rels)
	}
	must(t, s.UpsertRelations(ctx(), "t1", []store.Relation{
		{Parent: "p-1", Student: "s-1", Kind: "mother"}, {Parent: "p-1", Student: "s-2", Kind: "mother"},
	}))
	// Upserting again with another kind replaces, never duplicates.
	must(t, s.UpsertRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: "s-2", Kind: "guardian"}}))
	rels, err = s.RelationsOf(ctx(), "t1", "p-1")
	must(t, err)
	want := []store.Relation{
		{TenantID: "t1", Parent: "p-1", Student: "s-1", Kind: "mother"},
		{TenantID: "t1", Parent: "p-1", Student: "s-2", Kind: "guardian"},
	}
	if !reflect.DeepEqual(rels, want) {
		t.Fatalf("RelationsOf(p-1) = %+v", rels)
	}
	rels, err = s.RelationsOf(ctx(), "t1", "s-2")
	must(t, err)
	if len(rels) != 1 || rels[0].Parent != "p-1" {
		t.Fatalf("RelationsOf(s-2) = %+v", rels)
	}
	must(t, s.DeleteRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: "s-1"}}))
	rels, err = s.RelationsOf(ctx(), "t1", "s-1")
	must(t, err)
	if len(rels) != 0 {
		t.Fatalf("deleted relation remains: %+v", rels)
	}
}

// testLockPersonsHoldsOffLinks: a link made while a transaction holds the
// record with LockPersons waits for it; when that transaction deletes the
// record, the link is refused instead of being made and then cascaded away
// unseen.
func testLockPersonsHoldsOffLinks(t *testing.T, s store.Store) {
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("gone-1", store.RoleTeacher, "")}))
	must(t, s.LockPersons(ctx(), "t1", []string{"gone-1"})) // outside a transaction: nothing
	locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- s.InTx(ctx(), func(c context.Context) error {
			if err := s.LockPersons(c, "t1", []string{"gone-1", "ghost"}); err != nil {
				return err
			}
			close(locked)
			<-release
			return s.DeletePersons(c, "t1", []string{"gone-1"})
		})
	}()
	<-locked
	linked := make(chan error, 1)
	go func() {
		linked <- s.CreateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "2000", ExternalID: "gone-1", Role: store.RoleTeacher, Rung: "snils"})
	}()
	// Without the lock the link is made at once; with it, it waits.
	select {
	case err := <-linked:
		close(release)
		must(t, <-done)
		t.Fatalf("a link to a locked record was made at once (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	must(t, <-done)
	wantErr(t, <-linked, store.ErrInvalid)
	if links, err := s.LinksByOID(ctx(), "t1", "2000"); err != nil || len(links) != 0 {
		t.Fatalf("a link to the deleted record: %+v, %v", links, err)
	}
}

func testLinks(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("t-1", store.RoleTeacher, ""), mkPerson("p-1", store.RoleParent, "")}))
	l := store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "t-1", Role: store.RoleTeacher, Rung: "snils", ESIAETag: "E1", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateLink(ctx(), l))
	wantErr(t, s.CreateLink(ctx(), l), store.ErrAlreadyExists)
	wantErr(t, s.CreateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "ghost"}), store.ErrInvalid)
	must(t, s.CreateLink(ctx(), store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "p-1", Role: store.RoleParent, Rung: "snils"}))
	testLockPersonsHoldsOffLinks(t, s)

	links, err := s.LinksByOID(ctx(), "t1", "1000")
	must(t, err)
	if len(links) != 2 || links[0].ExternalID != "p-1" || links[1].ExternalID != "t-1" {
		t.Fatalf("LinksByOID = %+v", links)
	}
	if links[0].Status != store.LinkActive {
		t.Fatalf("default status = %q", links[0].Status)
	}
	want := l
	want.Status = store.LinkActive
	if !reflect.DeepEqual(links[1], want) {
		t.Fatalf("link = %+v\nwant %+v", links[1], want)
	}
	other, err := s.LinksByOID(ctx(), "t2", "1000")
	must(t, err)
	if len(other) != 0 {
		t.Fatal("links leak across tenants")
	}
	l.Status, l.Reason = store.LinkSuspended, "snils_changed"
	must(t, s.UpdateLink(ctx(), l))
	byRec, err := s.LinksByRecord(ctx(), "t1", "t-1")
	must(t, err)
	if len(byRec) != 1 || byRec[0].Status != store.LinkSuspended || byRec[0].Reason != "snils_changed" || !byRec[0].CreatedAt.Equal(base) {
		t.Fatalf("LinksByRecord = %+v", byRec)
	}
	must(t, s.DeleteLink(ctx(), "t1", "1000", "t-1"))
	wantErr(t, s.DeleteLink(ctx(), "t1", "1000", "t-1"), store.ErrNotFound)
	wantErr(t, s.UpdateLink(ctx(), l), store.ErrNotFound)
}

func testAttempts(t *testing.T, s store.Store) {
	a := store.Attempt{Ref: "ABCDE12345", TenantID: "t1", ClientID: "diary", Outcome: "in_progress"}
	must(t, s.RecordAttempt(ctx(), a, store.AttemptEvent{Step: "authorize", At: base, Detail: json.RawMessage(`{"role":"student"}`)}))
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: a.Ref, ESIAOID: "1000", Outcome: "not_found", Reason: "not_found"},
		store.AttemptEvent{Step: "link", At: base.Add(time.Second), Detail: json.RawMessage(`{"snils":"different"}`)}))
	got, err := s.GetAttempt(ctx(), a.Ref)
	must(t, err)
	if got.TenantID != "t1" || got.ClientID != "diary" || got.ESIAOID != "1000" || got.Outcome != "not_found" || got.Reason != "not_found" {
		t.Fatalf("attempt = %+v", got)
	}
	if !got.CreatedAt.Equal(base) || !got.UpdatedAt.Equal(base.Add(time.Second)) {
		t.Fatalf("times: created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}
	if len(got.Events) != 2 || got.Events[0].Step != "authorize" || got.Events[1].Step != "link" {
		t.Fatalf("events = %+v", got.Events)
	}
	var detail map[string]string
	must(t, json.Unmarshal(got.Events[1].Detail, &detail))
	if detail["snils"] != "different" {
		t.Fatalf("detail = %s", got.Events[1].Detail)
	}
	for i := 0; i < 3; i++ {
		must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: fmt.Sprintf("REF%07d", i), TenantID: "t1", ESIAOID: "1000", Outcome: "linked"},
			store.AttemptEvent{Step: "link", At: base.Add(time.Duration(i+2) * time.Minute)}))
	}
	list, err := s.AttemptsByOID(ctx(), "t1", "1000", 2)
	must(t, err)
	if len(list) != 2 || list[0].Ref != "REF0000002" || list[1].Ref != "REF0000001" {
		t.Fatalf("AttemptsByOID = %+v", list)
	}
	_, err = s.GetAttempt(ctx(), "NOPE")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RecordAttempt(ctx(), store.Attempt{}, store.AttemptEvent{Step: "x"}), store.ErrInvalid)
}

func testKeys(t *testing.T, s store.Store) {
	k1 := store.Key{ID: "k1", Kind: store.KeySigning, Algorithm: "ES256", Sealed: []byte("sealed1"), Public: []byte(`{"kty":"EC"}`), CreatedAt: base}
	must(t, s.RotateKey(ctx(), k1, time.Time{}))
	wantErr(t, s.RotateKey(ctx(), k1, time.Time{}), store.ErrAlreadyExists)
	must(t, s.CreateKey(ctx(), store.Key{ID: "p1", Kind: store.KeyPII, Algorithm: "A256GCM", Sealed: []byte("x"), CreatedAt: base}))
	k2 := store.Key{ID: "k2", Kind: store.KeySigning, Algorithm: "ES256", Sealed: []byte("sealed2"), Public: []byte(`{"kty":"EC"}`), CreatedAt: base.Add(time.Hour)}
	until := base.Add(25 * time.Hour)
	must(t, s.RotateKey(ctx(), k2, until))
	keys, err := s.ListKeys(ctx(), store.KeySigning)
	must(t, err)
	if len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Fatalf("ListKeys = %+v", keys)
	}
	if !keys[0].Active() || keys[1].Active() {
		t.Fatalf("active flags wrong: %+v", keys)
	}
	if !keys[1].RetiredAt.Equal(k2.CreatedAt) || !keys[1].PublishUntil.Equal(until) {
		t.Fatalf("retired key: %+v", keys[1])
	}
	if string(keys[0].Sealed) != "sealed2" || string(keys[0].Public) != `{"kty":"EC"}` {
		t.Fatalf("material lost: %+v", keys[0])
	}
	// CreateKey refuses a second active key of a kind.
	wantErr(t, s.CreateKey(ctx(), store.Key{ID: "p2", Kind: store.KeyPII, Algorithm: "A256GCM", Sealed: []byte("y")}), store.ErrAlreadyExists)
	// An RS256 signing key is active beside the ES256 one; rotating it
	// retires only the RS256 key.
	r1 := store.Key{ID: "r1", Kind: store.KeySigning, Algorithm: "RS256", Sealed: []byte("rsa1"), CreatedAt: base.Add(2 * time.Hour)}
	must(t, s.CreateKey(ctx(), r1))
	wantErr(t, s.CreateKey(ctx(), store.Key{ID: "r0", Kind: store.KeySigning, Algorithm: "RS256", Sealed: []byte("rsa0")}), store.ErrAlreadyExists)
	must(t, s.RotateKey(ctx(), store.Key{ID: "r2", Kind: store.KeySigning, Algorithm: "RS256", Sealed: []byte("rsa2"), CreatedAt: base.Add(3 * time.Hour)}, until))
	keys, err = s.ListKeys(ctx(), store.KeySigning)
	must(t, err)
	active := map[string]bool{}
	for _, k := range keys {
		active[k.ID] = k.Active()
	}
	if len(keys) != 4 || !active["k2"] || !active["r2"] || active["r1"] || active["k1"] {
		t.Fatalf("after rotating the RS256 key: %+v", active)
	}
	must(t, s.CreateKey(ctx(), store.Key{ID: "s1", Kind: store.KeySubject, Sealed: []byte("z"), CreatedAt: base}))
	pii, err := s.ListKeys(ctx(), store.KeyPII)
	must(t, err)
	if len(pii) != 1 || !pii[0].Active() {
		t.Fatalf("rotating signing keys touched pii keys: %+v", pii)
	}
	must(t, s.DeleteKey(ctx(), "k1"))
	wantErr(t, s.DeleteKey(ctx(), "k1"), store.ErrNotFound)
}

func rec(kind store.OAuthKind, sig, req string) store.OAuthRecord {
	return store.OAuthRecord{Kind: kind, Signature: sig, RequestID: req, ClientID: "diary", TenantID: "t1", Subject: "sub-1",
		Active: true, Data: []byte(`{"x":1}`), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
}

func testOAuthRecords(t *testing.T, s store.Store) {
	r := rec(store.OAuthCode, "sig-code", "req-1")
	must(t, s.CreateOAuthRecord(ctx(), r))
	wantErr(t, s.CreateOAuthRecord(ctx(), r), store.ErrAlreadyExists)
	got, err := s.GetOAuthRecord(ctx(), store.OAuthCode, "sig-code")
	must(t, err)
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("record = %+v\nwant %+v", got, r)
	}
	_, err = s.GetOAuthRecord(ctx(), store.OAuthAccess, "sig-code")
	wantErr(t, err, store.ErrNotFound)

	must(t, s.DeactivateOAuthRecord(ctx(), store.OAuthCode, "sig-code"))
	wantErr(t, s.DeactivateOAuthRecord(ctx(), store.OAuthCode, "sig-code"), store.ErrInactive)
	wantErr(t, s.DeactivateOAuthRecord(ctx(), store.OAuthCode, "nope"), store.ErrNotFound)
	got, err = s.GetOAuthRecord(ctx(), store.OAuthCode, "sig-code")
	wantErr(t, err, store.ErrInactive)
	if got.RequestID != "req-1" || string(got.Data) != `{"x":1}` {
		t.Fatalf("inactive record must come back with ErrInactive: %+v", got)
	}

	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "a1", "req-1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "a2", "req-1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "a3", "req-2")))
	must(t, s.DeactivateOAuthRequest(ctx(), store.OAuthAccess, "req-1"))
	for sig, want := range map[string]error{"a1": store.ErrInactive, "a2": store.ErrInactive, "a3": nil} {
		_, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, sig)
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Fatalf("%s: err = %v, want %v", sig, err, want)
		}
	}
	must(t, s.DeleteOAuthRecord(ctx(), store.OAuthAccess, "a3"))
	wantErr(t, s.DeleteOAuthRecord(ctx(), store.OAuthAccess, "a3"), store.ErrNotFound)

	old := rec(store.OAuthPKCE, "old", "req-9")
	old.ExpiresAt = base.Add(-time.Minute)
	must(t, s.CreateOAuthRecord(ctx(), old))
	n, err := s.DeleteExpiredOAuth(ctx(), base, 100)
	must(t, err)
	if !reflect.DeepEqual(n, map[store.OAuthKind]int{store.OAuthPKCE: 1}) {
		t.Fatalf("DeleteExpiredOAuth = %v, want one pkce", n)
	}
	_, err = s.GetOAuthRecord(ctx(), store.OAuthPKCE, "old")
	wantErr(t, err, store.ErrNotFound)
}

func testOAuthDeactivateIsAtomic(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthCode, "race", "req-1")))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.InTx(ctx(), func(ctx context.Context) error {
				return s.DeactivateOAuthRecord(ctx, store.OAuthCode, "race")
			})
		}()
	}
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		switch {
		case err == nil:
			wins++
		case errors.Is(err, store.ErrInactive):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent redemptions won, want exactly 1", wins)
	}
}

func testOAuthRevokeSubject(t *testing.T, s store.Store) {
	a := rec(store.OAuthAccess, "a1", "r1")
	r := rec(store.OAuthRefresh, "r1", "r1")
	otherTenant := rec(store.OAuthAccess, "a2", "r2")
	otherTenant.TenantID = "t2"
	otherSubject := rec(store.OAuthAccess, "a3", "r3")
	otherSubject.Subject = "sub-2"
	// A code in flight goes too (uncounted: not a token yet), so that it
	// cannot become a grant after the revocation; other tenants' and
	// subjects' codes stay.
	code := rec(store.OAuthCode, "c1", "r1")
	otherTenantCode := rec(store.OAuthCode, "c2", "r4")
	otherTenantCode.TenantID = "t2"
	otherSubjectCode := rec(store.OAuthCode, "c3", "r5")
	otherSubjectCode.Subject = "sub-2"
	for _, x := range []store.OAuthRecord{a, r, otherTenant, otherSubject, code, otherTenantCode, otherSubjectCode} {
		must(t, s.CreateOAuthRecord(ctx(), x))
	}
	n, err := s.RevokeOAuthSubject(ctx(), "t1", "sub-1")
	must(t, err)
	if n != 2 {
		t.Fatalf("revoked %d, want 2 (the code is not counted)", n)
	}
	for _, c := range []struct {
		kind store.OAuthKind
		sig  string
		want error
	}{
		{store.OAuthAccess, "a1", store.ErrInactive}, {store.OAuthRefresh, "r1", store.ErrInactive},
		{store.OAuthAccess, "a2", nil}, {store.OAuthAccess, "a3", nil},
		{store.OAuthCode, "c1", store.ErrInactive}, {store.OAuthCode, "c2", nil}, {store.OAuthCode, "c3", nil},
	} {
		_, err := s.GetOAuthRecord(ctx(), c.kind, c.sig)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Fatalf("%s/%s: err = %v, want %v", c.kind, c.sig, err, c.want)
		}
	}
}

var errAbort = errors.New("abort")

func testTxRollback(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("s-1", store.RoleStudent, "11223344595")}))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthCode, "c1", "r1")))
	err := s.InTx(ctx(), func(ctx context.Context) error {
		changed := mkPerson("s-1", store.RoleStudent, "11223344595")
		changed.Class = "1А"
		if err := s.UpsertPersons(ctx, "t1", []store.Person{changed, mkPerson("s-2", store.RoleStudent, "")}); err != nil {
			return err
		}
		if err := s.DeactivateOAuthRecord(ctx, store.OAuthCode, "c1"); err != nil {
			return err
		}
		if err := s.CreateOAuthRecord(ctx, rec(store.OAuthAccess, "a1", "r1")); err != nil {
			return err
		}
		if err := s.CreateLink(ctx, store.Link{TenantID: "t1", ESIAOID: "1", ExternalID: "s-2", Role: store.RoleStudent}); err != nil {
			return err
		}
		return errAbort
	})
	wantErr(t, err, errAbort)
	p, err := s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	if p.Class != "8А" {
		t.Fatalf("rolled-back update kept: class %q", p.Class)
	}
	_, err = s.GetPerson(ctx(), "t1", "s-2")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthCode, "c1")
	must(t, err)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthAccess, "a1")
	wantErr(t, err, store.ErrNotFound)
	links, err := s.LinksByOID(ctx(), "t1", "1")
	must(t, err)
	if len(links) != 0 {
		t.Fatal("rolled-back link kept")
	}
}

func testTxCommit(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.UpsertPersons(ctx, "t1", []store.Person{mkPerson("s-1", store.RoleStudent, "")}); err != nil {
			return err
		}
		// Reads inside the transaction see its writes.
		if _, err := s.GetPerson(ctx, "t1", "s-1"); err != nil {
			return err
		}
		return s.InTx(ctx, func(ctx context.Context) error { // nested joins the outer
			return s.CreateOAuthRecord(ctx, rec(store.OAuthAccess, "a1", "r1"))
		})
	}))
	_, err := s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthAccess, "a1")
	must(t, err)
}

func testOAuthRecordSet(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthCode, "sig", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthPKCE, "sig", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "other", "r1")))
	must(t, s.DeactivateOAuthRecord(ctx(), store.OAuthCode, "sig"))
	set, err := s.GetOAuthRecordSet(ctx(), "sig", []store.OAuthKind{store.OAuthCode, store.OAuthPKCE, store.OAuthOIDC})
	must(t, err)
	if len(set) != 2 || set[store.OAuthCode].Active || !set[store.OAuthPKCE].Active || string(set[store.OAuthPKCE].Data) != `{"x":1}` {
		t.Fatalf("set = %+v", set)
	}
}

func testOAuthBatch(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthRefresh, "old-refresh", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "old-access", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthPKCE, "p", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "older-access", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthAccess, "other-grant", "r2")))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate:           &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "old-refresh"},
		Deactivate:     []store.OAuthRequestRef{{Kind: store.OAuthAccess, RequestID: "r1"}},
		DeleteRequests: []store.OAuthRequestRef{{Kind: store.OAuthAccess, RequestID: "r1"}},
		Delete:         []store.OAuthRef{{Kind: store.OAuthPKCE, Signature: "p"}, {Kind: store.OAuthOIDC, Signature: "missing"}},
		Create:         []store.OAuthRecord{rec(store.OAuthAccess, "new-access", "r1"), rec(store.OAuthRefresh, "new-refresh", "r1")},
	}))
	for _, c := range []struct {
		kind store.OAuthKind
		sig  string
		want error
	}{
		{store.OAuthRefresh, "old-refresh", store.ErrInactive}, {store.OAuthAccess, "old-access", store.ErrNotFound},
		{store.OAuthAccess, "older-access", store.ErrNotFound}, {store.OAuthAccess, "other-grant", nil},
		{store.OAuthPKCE, "p", store.ErrNotFound}, {store.OAuthAccess, "new-access", nil}, {store.OAuthRefresh, "new-refresh", nil},
	} {
		_, err := s.GetOAuthRecord(ctx(), c.kind, c.sig)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Fatalf("%s/%s: %v, want %v", c.kind, c.sig, err, c.want)
		}
	}
	// An inactive gate fails the batch and writes nothing.
	err := s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate:   &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "old-refresh"},
		Delete: []store.OAuthRef{{Kind: store.OAuthAccess, Signature: "new-access"}},
		Create: []store.OAuthRecord{rec(store.OAuthAccess, "never", "r1")},
	})
	wantErr(t, err, store.ErrInactive)
	if _, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, "never"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed batch created a record: %v", err)
	}
	if _, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, "new-access"); err != nil {
		t.Fatalf("failed batch deleted a record: %v", err)
	}
	wantErr(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: "nope"}}), store.ErrNotFound)
	// A duplicate create fails the batch too.
	err = s.ApplyOAuth(ctx(), store.OAuthBatch{
		Deactivate: []store.OAuthRequestRef{{Kind: store.OAuthAccess, RequestID: "r1"}},
		Create:     []store.OAuthRecord{rec(store.OAuthRefresh, "new-refresh", "r1")},
	})
	wantErr(t, err, store.ErrAlreadyExists)
	if _, err := s.GetOAuthRecord(ctx(), store.OAuthAccess, "new-access"); err != nil {
		t.Fatalf("failed batch deactivated a record: %v", err)
	}
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{}))
}

// testOAuthUsedCodeReadsItsGrant: a code gated in the batch that writes
// its grant keeps no data of its own and reads the grant's (its replay
// still finds the request); gated without its grant it keeps its own.
func testOAuthUsedCodeReadsItsGrant(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthCode, "exchanged", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthCode, "other", "r2")))
	grant := &store.OAuthGrant{RequestID: "r1", ClientID: "diary", TenantID: "t1", Subject: "sub-1", Data: []byte(`{"grant":1}`),
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: "exchanged"}, Grant: grant}))
	got, err := s.GetOAuthRecord(ctx(), store.OAuthCode, "exchanged")
	wantErr(t, err, store.ErrInactive)
	if got.RequestID != "r1" || string(got.Data) != `{"grant":1}` || !got.FromGrant {
		t.Fatalf("used code %+v (data %s)", got, got.Data)
	}
	set, err := s.GetOAuthRecordSet(ctx(), "exchanged", []store.OAuthKind{store.OAuthCode, store.OAuthPKCE})
	must(t, err)
	if r := set[store.OAuthCode]; len(set) != 1 || r.Active || string(r.Data) != `{"grant":1}` || !r.FromGrant {
		t.Fatalf("used code in a set %+v", set)
	}
	// Another request's grant leaves the code its data.
	grant2 := *grant
	grant2.RequestID = "r3"
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthCode, Signature: "other"}, Grant: &grant2}))
	got, err = s.GetOAuthRecord(ctx(), store.OAuthCode, "other")
	wantErr(t, err, store.ErrInactive)
	if string(got.Data) != `{"x":1}` || got.FromGrant {
		t.Fatalf("code gated with another grant %+v (data %s)", got, got.Data)
	}
}

func testOAuthBatchGateIsAtomic(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthRefresh, "rt", "r1")))
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- s.ApplyOAuth(ctx(), store.OAuthBatch{
				Gate:   &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "rt"},
				Create: []store.OAuthRecord{rec(store.OAuthAccess, fmt.Sprintf("a%d", i), "r1")},
			})
		}(i)
	}
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		if err == nil {
			wins++
		} else if !errors.Is(err, store.ErrInactive) {
			t.Fatalf("unexpected: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent rotations won, want 1", wins)
	}
}

// testOAuthRotation: a rotation records on the rotated refresh token when
// it happened and its successor; a failed batch records nothing, and a
// token revoked otherwise has neither.
func testOAuthRotation(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthRefresh, "rt-1", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthRefresh, "rt-x", "r2")))
	at := base.Add(1500 * time.Nanosecond).In(time.FixedZone("MSK", 3*60*60))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate:     &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "rt-1"},
		Rotation: &store.OAuthRotation{At: at, Successor: "rt-2"},
		Create:   []store.OAuthRecord{rec(store.OAuthRefresh, "rt-2", "r1")},
	}))
	old, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-1")
	wantErr(t, err, store.ErrInactive)
	if old.Successor != "rt-2" || !old.RotatedAt.Equal(base.Add(time.Microsecond)) || old.RotatedAt.Location() != time.UTC {
		t.Fatalf("rotated record: successor %q at %v", old.Successor, old.RotatedAt)
	}
	set, err := s.GetOAuthRecordSet(ctx(), "rt-1", []store.OAuthKind{store.OAuthRefresh})
	must(t, err)
	if r := set[store.OAuthRefresh]; r.Successor != "rt-2" || !r.RotatedAt.Equal(old.RotatedAt) {
		t.Fatalf("record set: successor %q at %v", r.Successor, r.RotatedAt)
	}
	// The successor's own failed rotation leaves no trace.
	wantErr(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate:     &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "rt-2"},
		Rotation: &store.OAuthRotation{At: at, Successor: "rt-3"},
		Create:   []store.OAuthRecord{rec(store.OAuthRefresh, "rt-2", "r1")}, // a duplicate
	}), store.ErrAlreadyExists)
	for _, sig := range []string{"rt-2"} {
		r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, sig)
		must(t, err)
		if r.Successor != "" || !r.RotatedAt.IsZero() {
			t.Fatalf("%s after a failed rotation: successor %q at %v", sig, r.Successor, r.RotatedAt)
		}
	}
	must(t, s.DeactivateOAuthRequest(ctx(), store.OAuthRefresh, "r2"))
	if r, _ := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-x"); r.Successor != "" || !r.RotatedAt.IsZero() {
		t.Fatalf("revoked record: successor %q at %v", r.Successor, r.RotatedAt)
	}
}

// testOAuthRotationRemoves: a rotation with Remove deletes the rotated
// refresh token in the batch that creates its successor — nothing is left
// for the janitor — and is still a gate: presented again (the row gone),
// or when the token was revoked, the batch fails and writes nothing.
func testOAuthRotationRemoves(t *testing.T, s store.Store) {
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthRefresh, "rt-1", "r1")))
	must(t, s.CreateOAuthRecord(ctx(), rec(store.OAuthRefresh, "rt-x", "r2")))
	rotate := func(gate, successor, req string) error {
		return s.ApplyOAuth(ctx(), store.OAuthBatch{
			Gate:     &store.OAuthRef{Kind: store.OAuthRefresh, Signature: gate},
			Rotation: &store.OAuthRotation{At: base, Successor: successor, Remove: true},
			Create:   []store.OAuthRecord{rec(store.OAuthRefresh, successor, req)},
		})
	}
	must(t, rotate("rt-1", "rt-2", "r1"))
	_, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-1")
	wantErr(t, err, store.ErrNotFound)
	if r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-2"); err != nil || r.RequestID != "r1" {
		t.Fatalf("successor: %+v, %v", r, err)
	}
	// Presented again: the gate is gone; the other successor is not written.
	wantErr(t, rotate("rt-1", "rt-3", "r1"), store.ErrNotFound)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-3")
	wantErr(t, err, store.ErrNotFound)
	// A revoked token is kept inactive (until the janitor) and rotates no more.
	must(t, s.DeactivateOAuthRequest(ctx(), store.OAuthRefresh, "r2"))
	wantErr(t, rotate("rt-x", "rt-y", "r2"), store.ErrInactive)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-x")
	wantErr(t, err, store.ErrInactive)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-y")
	wantErr(t, err, store.ErrNotFound)
	removed, err := s.DeleteExpiredOAuth(ctx(), base.Add(-time.Hour), 100)
	must(t, err)
	if removed[store.OAuthRefresh] != 0 {
		t.Fatalf("the janitor found %v before anything expired", removed)
	}
}

func testAudit(t *testing.T, s store.Store) {
	for i, a := range []string{"read_attempt", "search_persons", "unlink"} {
		must(t, s.AppendAudit(ctx(), store.AuditEntry{At: base.Add(time.Duration(i) * time.Second), TenantID: "t1", Actor: "support-console",
			Action: a, Target: fmt.Sprintf("T%d", i), Detail: json.RawMessage(`{"fields":["snils"]}`)}))
	}
	must(t, s.AppendAudit(ctx(), store.AuditEntry{TenantID: "t2", Actor: "x", Action: "read_attempt"}))
	wantErr(t, s.AppendAudit(ctx(), store.AuditEntry{TenantID: "t1"}), store.ErrInvalid)
	list, err := s.ListAudit(ctx(), "t1", 2)
	must(t, err)
	if len(list) != 2 || list[0].Action != "unlink" || list[1].Action != "search_persons" || list[0].Actor != "support-console" ||
		list[0].Target != "T2" || !list[0].At.Equal(base.Add(2*time.Second)) || list[0].ID <= list[1].ID {
		t.Fatalf("ListAudit = %+v", list)
	}
	var d map[string][]string
	must(t, json.Unmarshal(list[0].Detail, &d))
	if d["fields"][0] != "snils" {
		t.Fatalf("detail = %s", list[0].Detail)
	}
}

// testOAuthJanitor: DeleteExpiredOAuth removes what is over — an expired
// code, a rotated refresh token and a used code past their expiry, tokens
// revoked (by grant or by subject), whose expiry revocation brought
// forward — counted by kind, and keeps live tokens, a used code and a
// rotated refresh token within their expiry (replay and reuse detection),
// and another tenant's tokens; batches are bounded by the limit.
func testOAuthJanitor(t *testing.T, s store.Store) {
	now := time.Now().UTC()
	live := func(kind store.OAuthKind, sig, req string, ttl time.Duration) store.OAuthRecord {
		r := rec(kind, sig, req)
		r.CreatedAt, r.ExpiresAt = now.Add(-time.Minute).Truncate(time.Microsecond), now.Add(ttl).Truncate(time.Microsecond)
		return r
	}
	otherTenant := live(store.OAuthRefresh, "rt-t2", "g4", 24*time.Hour)
	otherTenant.TenantID = "t2"
	for _, r := range []store.OAuthRecord{
		live(store.OAuthCode, "code-old", "g0", -time.Minute),   // expired, never used
		live(store.OAuthCode, "code-used", "g1", time.Minute),   // used, within its expiry
		live(store.OAuthRefresh, "rt-1", "g1", 24*time.Hour),    // rotated below
		live(store.OAuthAccess, "at-g2", "g2", time.Hour),       // revoked with its grant
		live(store.OAuthRefresh, "rt-g2", "g2", 24*time.Hour),   // revoked with its grant
		live(store.OAuthAccess, "at-g3", "g3", time.Hour),       // revoked with its subject
		live(store.OAuthRefresh, "rt-live", "g5", 24*time.Hour), // live
		otherTenant,
	} {
		must(t, s.CreateOAuthRecord(ctx(), r))
	}
	must(t, s.DeactivateOAuthRecord(ctx(), store.OAuthCode, "code-used"))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate:     &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "rt-1"},
		Rotation: &store.OAuthRotation{At: now, Successor: "rt-2"},
		Create:   []store.OAuthRecord{live(store.OAuthRefresh, "rt-2", "g1", 24*time.Hour)},
	}))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Deactivate: []store.OAuthRequestRef{
		{Kind: store.OAuthAccess, RequestID: "g2"}, {Kind: store.OAuthRefresh, RequestID: "g2"}}}))
	sub := rec(store.OAuthAccess, "x", "g3")
	if n, err := s.RevokeOAuthSubject(ctx(), "t1", sub.Subject); err != nil || n < 1 {
		t.Fatalf("RevokeOAuthSubject = %d, %v", n, err)
	}
	// The subject's other grants went too: g1's successor and g5's token
	// are the same subject's. Re-create two live ones of another subject.
	for _, sig := range []string{"rt-3", "rt-4"} {
		r := live(store.OAuthRefresh, sig, "g6", 24*time.Hour)
		r.Subject = "sub-2"
		must(t, s.CreateOAuthRecord(ctx(), r))
	}

	// A limit of 2 removes two; the rest follow.
	at := now.Add(time.Second)
	first, err := s.DeleteExpiredOAuth(ctx(), at, 2)
	must(t, err)
	total := 0
	for _, n := range first {
		total += n
	}
	if total != 2 {
		t.Fatalf("a batch of 2 removed %v", first)
	}
	rest, err := s.DeleteExpiredOAuth(ctx(), at, 100)
	must(t, err)
	for k, n := range first {
		rest[k] += n
	}
	// Removed: code-old; at-g2, rt-g2; at-g3, rt-2, rt-live (the subject's
	// revoked tokens). Kept: code-used and rt-1 (within their expiry).
	want := map[store.OAuthKind]int{store.OAuthCode: 1, store.OAuthAccess: 2, store.OAuthRefresh: 3}
	if !reflect.DeepEqual(rest, want) {
		t.Fatalf("removed %v, want %v", rest, want)
	}
	for _, c := range []struct {
		kind store.OAuthKind
		sig  string
		want error
	}{
		{store.OAuthCode, "code-used", store.ErrInactive}, {store.OAuthRefresh, "rt-1", store.ErrInactive},
		{store.OAuthRefresh, "rt-t2", nil}, {store.OAuthRefresh, "rt-3", nil}, {store.OAuthRefresh, "rt-4", nil},
		{store.OAuthCode, "code-old", store.ErrNotFound}, {store.OAuthRefresh, "rt-g2", store.ErrNotFound},
		{store.OAuthAccess, "at-g3", store.ErrNotFound},
	} {
		_, err := s.GetOAuthRecord(ctx(), c.kind, c.sig)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Fatalf("%s/%s: err = %v, want %v", c.kind, c.sig, err, c.want)
		}
	}
	// Past their expiry the used code and the rotated token go too.
	later, err := s.DeleteExpiredOAuth(ctx(), now.Add(2*24*time.Hour), 100)
	must(t, err)
	if later[store.OAuthCode] != 1 || later[store.OAuthRefresh] != 4 {
		t.Fatalf("removed past expiry %v, want the used code and rt-1, rt-t2, rt-3, rt-4", later)
	}
}

// testOAuthGrants: the session once per grant — tokens written without
// data and subject read their grant's (FromGrant), alone and in a record
// set, and are revoked with their grant's subject; a grant is read by its
// request id, one without token rows is revoked by its subject (another
// tenant's left alone), a rotation names its new access token; a record
// with data keeps its own; a grant written twice fails the whole batch; a
// rotation moves the grant's expiry on; revoking the grant's refresh
// tokens (by request or by subject, another tenant's untouched) lets the
// janitor remove it, after which its rotated tokens read no data.
func testOAuthGrants(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	session := []byte(`{"session":"claims"}`)
	grant := func(req, tenant string, ttl time.Duration) *store.OAuthGrant {
		return &store.OAuthGrant{RequestID: req, ClientID: "diary", TenantID: tenant, Subject: "sub-1", Data: session,
			CreatedAt: now, ExpiresAt: now.Add(ttl)}
	}
	slim := func(kind store.OAuthKind, sig, req, tenant string, ttl time.Duration) store.OAuthRecord {
		return store.OAuthRecord{Kind: kind, Signature: sig, RequestID: req, ClientID: "diary", TenantID: tenant,
			Active: true, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	}
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: grant("g1", "t1", 24*time.Hour), Create: []store.OAuthRecord{
		slim(store.OAuthAccess, "at-1", "g1", "t1", time.Hour), slim(store.OAuthRefresh, "rt-1", "g1", "t1", 24*time.Hour)}}))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: grant("g2", "t2", 24*time.Hour), Create: []store.OAuthRecord{
		slim(store.OAuthRefresh, "rt-t2", "g2", "t2", 24*time.Hour)}}))
	own := rec(store.OAuthRefresh, "rt-own", "g1")
	must(t, s.CreateOAuthRecord(ctx(), own))
	// A grant is read by its request id (self-contained access tokens);
	// one without any token row is revoked by its subject all the same.
	if g, err := s.GetOAuthGrant(ctx(), "g1"); err != nil || string(g.Data) != string(session) || g.ClientID != "diary" ||
		g.TenantID != "t1" || g.Subject != "sub-1" || !g.ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("GetOAuthGrant: %+v, %v", g, err)
	}
	if _, err := s.GetOAuthGrant(ctx(), "no-such-grant"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown grant: %v", err)
	}
	bare := func(req, tenant string) *store.OAuthGrant {
		g := grant(req, tenant, 96*time.Hour)
		g.Subject = "sub-bare"
		return g
	}
	withAccess := bare("g-bare", "t1")
	withAccess.Access = "nonce-1"
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: withAccess}))
	// A rotation names the grant's new access token, at an expiry no later.
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{GrantExpiry: &store.OAuthGrantExpiry{RequestID: "g-bare", At: now, Access: "nonce-2"}}))
	if g, err := s.GetOAuthGrant(ctx(), "g-bare"); err != nil || g.Access != "nonce-2" || !g.ExpiresAt.Equal(now.Add(96*time.Hour)) {
		t.Fatalf("a grant's access token after a rotation: %q %v, %v", g.Access, g.ExpiresAt, err)
	}
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: bare("g-bare-t2", "t2")}))
	if _, err := s.RevokeOAuthSubject(ctx(), "t1", "sub-bare"); err != nil {
		t.Fatal(err)
	}
	if g, err := s.GetOAuthGrant(ctx(), "g-bare"); err != nil || g.ExpiresAt.After(time.Now()) {
		t.Fatalf("a grant without token rows after its subject's revocation: %+v, %v", g.ExpiresAt, err)
	}
	if g, err := s.GetOAuthGrant(ctx(), "g-bare-t2"); err != nil || !g.ExpiresAt.Equal(now.Add(96*time.Hour)) {
		t.Fatalf("another tenant's grant after the revocation: %+v, %v", g.ExpiresAt, err)
	}

	for _, sig := range []string{"at-1", "rt-1"} {
		kind := store.OAuthAccess
		if sig == "rt-1" {
			kind = store.OAuthRefresh
		}
		r, err := s.GetOAuthRecord(ctx(), kind, sig)
		must(t, err)
		if !r.FromGrant || string(r.Data) != string(session) || r.RequestID != "g1" || r.TenantID != "t1" || r.Subject != "sub-1" || !r.ExpiresAt.Equal(slim(kind, sig, "g1", "t1", 0).ExpiresAt.Add(map[store.OAuthKind]time.Duration{store.OAuthAccess: time.Hour, store.OAuthRefresh: 24 * time.Hour}[kind])) {
			t.Fatalf("%s: %+v", sig, r)
		}
	}
	set, err := s.GetOAuthRecordSet(ctx(), "rt-1", []store.OAuthKind{store.OAuthRefresh})
	must(t, err)
	if r := set[store.OAuthRefresh]; !r.FromGrant || string(r.Data) != string(session) {
		t.Fatalf("record set: %+v", r)
	}
	if r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-own"); err != nil || r.FromGrant || string(r.Data) != string(own.Data) {
		t.Fatalf("a record with its own data: %+v, %v", r, err)
	}
	// A grant written twice: the batch fails whole.
	wantErr(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: grant("g1", "t1", time.Hour), Create: []store.OAuthRecord{
		slim(store.OAuthAccess, "at-x", "g1", "t1", time.Hour)}}), store.ErrAlreadyExists)
	_, err = s.GetOAuthRecord(ctx(), store.OAuthAccess, "at-x")
	wantErr(t, err, store.ErrNotFound)

	// A rotation moves the grant's expiry on: at 2 days the janitor keeps it.
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "rt-1"}, Rotation: &store.OAuthRotation{At: now, Successor: "rt-2"},
		GrantExpiry: &store.OAuthGrantExpiry{RequestID: "g1", At: now.Add(72 * time.Hour)},
		Create:      []store.OAuthRecord{slim(store.OAuthRefresh, "rt-2", "g1", "t1", 72*time.Hour)}}))
	removed, err := s.DeleteExpiredOAuth(ctx(), now.Add(48*time.Hour), 100)
	must(t, err)
	if removed[store.OAuthGrantKind] != 2 { // g2 and the revoked g-bare
		t.Fatalf("removed at 2 days %v, want two grants (the other tenant's, not rotated, and the revoked one)", removed)
	}
	if r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-2"); err != nil || !r.FromGrant {
		t.Fatalf("the successor after the janitor: %+v, %v", r, err)
	}

	// Revoking the grant's refresh tokens lets the janitor remove it.
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{Grant: grant("g3", "t2", 24*time.Hour), Create: []store.OAuthRecord{
		slim(store.OAuthRefresh, "rt-g3", "g3", "t2", 24*time.Hour)}}))
	must(t, s.ApplyOAuth(ctx(), store.OAuthBatch{
		Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: "rt-2"}, Rotation: &store.OAuthRotation{At: now, Successor: "rt-3"},
		GrantExpiry: &store.OAuthGrantExpiry{RequestID: "g1", At: now.Add(72 * time.Hour)},
		Create:      []store.OAuthRecord{slim(store.OAuthRefresh, "rt-3", "g1", "t1", 72*time.Hour)}}))
	if _, err := s.RevokeOAuthSubject(ctx(), "t1", "sub-1"); err != nil {
		t.Fatal(err)
	}
	removed, err = s.DeleteExpiredOAuth(ctx(), time.Now().Add(time.Second), 100)
	must(t, err)
	if removed[store.OAuthGrantKind] != 1 {
		t.Fatalf("removed after revocation %v, want g1", removed)
	}
	r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-2") // rotated: kept for reuse detection
	wantErr(t, err, store.ErrInactive)
	if r.FromGrant || len(r.Data) != 0 {
		t.Fatalf("a token of a removed grant reads %q", r.Data)
	}
	_, err = s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-3") // revoked by its grant's subject, removed
	wantErr(t, err, store.ErrNotFound)
	if r, err := s.GetOAuthRecord(ctx(), store.OAuthRefresh, "rt-g3"); err != nil || !r.FromGrant {
		t.Fatalf("another tenant's grant after the revocation: %+v, %v", r, err)
	}
	must(t, s.DeactivateOAuthRequest(ctx(), store.OAuthRefresh, "g3"))
	removed, err = s.DeleteExpiredOAuth(ctx(), time.Now().Add(time.Second), 100)
	must(t, err)
	if removed[store.OAuthGrantKind] != 1 || removed[store.OAuthRefresh] != 1 {
		t.Fatalf("removed after revoking g3 %v, want its grant and refresh token", removed)
	}
}
