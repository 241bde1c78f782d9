package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// ixSNILS is a blind index as the keyring makes one (64 hex digits).
func ixSNILS(c byte) string { return strings.Repeat(string(c), 64) }

func mkGrant(id, tenant string, role store.StaffRole, snils byte, schools ...string) store.StaffGrant {
	return store.StaffGrant{ID: id, TenantID: tenant, Role: role, Schools: schools, SNILSIndex: ixSNILS(snils),
		SNILSMasked: "***-***-893 44", GrantedBy: "cli"}
}

// testStaffGrants: grants of one person in two tenants and as an operator,
// found by the SNILS blind index; a second grant in a tenant replaces the
// first (id and binding kept); the first sign-in binds the ESIA oid and
// another account is refused; revocation is per tenant.
func testStaffGrants(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	g1, err := s.PutStaffGrant(ctx(), mkGrant("g1", "t1", store.StaffSchoolAdmin, 'a', "МБОУ СОШ № 1", " МБОУ СОШ № 1", "Лицей"))
	must(t, err)
	if g1.ID != "g1" || g1.TenantID != "t1" || len(g1.Schools) != 2 || g1.Schools[0] != "Лицей" || g1.CreatedAt.IsZero() || g1.ESIAOID != "" {
		t.Fatalf("put = %+v", g1)
	}
	_, err = s.PutStaffGrant(ctx(), mkGrant("g2", "t2", store.StaffTenantSupport, 'a'))
	must(t, err)
	_, err = s.PutStaffGrant(ctx(), mkGrant("g3", "", store.StaffOperator, 'a'))
	must(t, err)
	_, err = s.PutStaffGrant(ctx(), mkGrant("g4", "t1", store.StaffTenantSupport, 'b'))
	must(t, err)

	invalid := []store.StaffGrant{
		mkGrant("x1", "t1", "boss", 'c'),
		mkGrant("x2", "t1", store.StaffSchoolAdmin, 'c'),                   // no school
		mkGrant("x3", "", store.StaffTenantSupport, 'c'),                   // no tenant
		mkGrant("x4", "t1", store.StaffOperator, 'c'),                      // operator with a tenant
		mkGrant("x5", "t1", store.StaffTenantSupport, 'c', "МБОУ СОШ № 1"), // schools without school_admin
		mkGrant("x6", "nope", store.StaffTenantSupport, 'c'),               // unknown tenant
		mkGrant("x7", "t1", store.StaffSchoolAdmin, 'c', "школа\x00"),
		mkGrant("x8", "t1", store.StaffSchoolAdmin, 'c', "\xff\xfe"),
		mkGrant("x9", "t1", store.StaffSchoolAdmin, 'c', strings.Repeat("ш", store.MaxSchoolLength+1)),
		mkGrant("", "t1", store.StaffTenantSupport, 'c'),
		{ID: "x10", TenantID: "t1", Role: store.StaffTenantSupport, SNILSIndex: "104-527-893 44"}, // a SNILS, not an index
	}
	for _, g := range invalid {
		if _, err := s.PutStaffGrant(ctx(), g); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("put %+v: error = %v, want ErrInvalid", g, err)
		}
	}
	// Strings no store keeps are a *FieldError naming the field, never
	// quoting the value.
	for _, g := range []store.StaffGrant{invalid[6], invalid[7], invalid[8], invalid[9]} {
		_, err := s.PutStaffGrant(ctx(), g)
		var fe *store.FieldError
		if !errors.Is(err, store.ErrInvalidField) || !errors.As(err, &fe) || strings.Contains(err.Error(), "школа") {
			t.Errorf("put %q: error = %v, want a FieldError", g.Schools, err)
		}
	}
	// Keys no grant can have find nothing, without a database error.
	wantErr(t, s.DeleteStaffGrant(ctx(), "t1", "g\x00"), store.ErrNotFound)
	wantErr(t, s.DeleteStaffGrant(ctx(), "\xff", "g1"), store.ErrNotFound)
	_, err = s.BindStaffGrant(ctx(), "g\x00", "1000100001")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.BindStaffGrant(ctx(), "g1", "1000\x00")
	wantErr(t, err, store.ErrInvalidField)
	if none, err := s.StaffGrantsBySNILS(ctx(), "\x00"); err != nil || len(none) != 0 {
		t.Fatalf("by a NUL index: %+v, %v", none, err)
	}
	if none, err := s.ListStaffGrants(ctx(), "\xff\xfe"); err != nil || len(none) != 0 {
		t.Fatalf("list of an impossible tenant: %+v, %v", none, err)
	}

	got, err := s.StaffGrantsBySNILS(ctx(), ixSNILS('a'))
	must(t, err)
	if len(got) != 3 || got[0].ID != "g3" || got[1].ID != "g1" || got[2].ID != "g2" {
		t.Fatalf("by snils = %+v", got)
	}
	if none, err := s.StaffGrantsBySNILS(ctx(), ixSNILS('c')); err != nil || len(none) != 0 {
		t.Fatalf("by an unknown snils = %+v, %v", none, err)
	}
	if sc := got[1].Scope(); sc.Role != store.StaffSchoolAdmin || sc.TenantID != "t1" || len(sc.Schools) != 2 {
		t.Fatalf("scope = %+v", sc)
	}

	// Binding: the first account wins, the same account again is fine,
	// another is refused.
	b, err := s.BindStaffGrant(ctx(), "g1", "1000100001")
	must(t, err)
	if b.ESIAOID != "1000100001" {
		t.Fatalf("bound = %+v", b)
	}
	_, err = s.BindStaffGrant(ctx(), "g1", "1000100001")
	must(t, err)
	_, err = s.BindStaffGrant(ctx(), "g1", "1000100099")
	wantErr(t, err, store.ErrStaffBound)
	_, err = s.BindStaffGrant(ctx(), "nope", "1000100001")
	wantErr(t, err, store.ErrNotFound)

	// A new grant for the same person in t1 replaces the role, keeps the
	// id, the binding and the creation time.
	re, err := s.PutStaffGrant(ctx(), mkGrant("g1-new", "t1", store.StaffTenantSupport, 'a'))
	must(t, err)
	if re.ID != "g1" || re.Role != store.StaffTenantSupport || len(re.Schools) != 0 || re.ESIAOID != "1000100001" || !re.CreatedAt.Equal(g1.CreatedAt) {
		t.Fatalf("replaced = %+v (was %+v)", re, g1)
	}

	t1, err := s.ListStaffGrants(ctx(), "t1")
	must(t, err)
	if len(t1) != 2 {
		t.Fatalf("t1 grants = %+v", t1)
	}
	for _, g := range t1 {
		if g.TenantID != "t1" {
			t.Fatalf("t1 lists %+v", g)
		}
	}
	all, err := s.ListStaffGrants(ctx(), "")
	must(t, err)
	if len(all) != 4 || all[0].TenantID != "" {
		t.Fatalf("all grants = %+v", all)
	}

	// Revocation is per tenant: t2 cannot revoke t1's grant, nor a tenant
	// the operator's.
	wantErr(t, s.DeleteStaffGrant(ctx(), "t2", "g1"), store.ErrNotFound)
	wantErr(t, s.DeleteStaffGrant(ctx(), "t1", "g3"), store.ErrNotFound)
	must(t, s.DeleteStaffGrant(ctx(), "t1", "g1"))
	wantErr(t, s.DeleteStaffGrant(ctx(), "t1", "g1"), store.ErrNotFound)
	must(t, s.DeleteStaffGrant(ctx(), "", "g3"))
	got, err = s.StaffGrantsBySNILS(ctx(), ixSNILS('a'))
	must(t, err)
	if len(got) != 1 || got[0].ID != "g2" {
		t.Fatalf("after revocations = %+v", got)
	}
}

// testConsoleScopes: every console query is scoped in the store — another
// school's record or attempt, another tenant's, is ErrNotFound exactly like
// one that does not exist.
func testConsoleScopes(t *testing.T, s store.Store) {
	for _, tn := range []string{"t1", "t2"} {
		mkTenant(t, s, tn)
		a, b := mkPerson("p-a", store.RoleStudent, "11111111111"), mkPerson("p-b", store.RoleStudent, "22222222222")
		a.School, b.School = "Школа А", "Школа Б"
		must(t, s.UpsertPersons(ctx(), tn, []store.Person{a, b}))
	}
	cands := func(ids ...string) json.RawMessage {
		var list []map[string]string
		for _, id := range ids {
			list = append(list, map[string]string{"record": id})
		}
		b, _ := json.Marshal(map[string]any{"candidates": list})
		return b
	}
	attempts := []struct {
		ref, tenant string
		detail      json.RawMessage
	}{
		{"AAAAAAAAA1", "t1", cands("p-a")},        // a candidate of school А
		{"AAAAAAAAA2", "t1", cands("p-b")},        // of school Б
		{"AAAAAAAAA3", "t1", cands("p-a", "p-b")}, // both
		{"AAAAAAAAA4", "t1", nil},                 // none
		{"AAAAAAAAA5", "t2", cands("p-a")},        // school А of another tenant
		{"AAAAAAAAA6", "t1", cands("gone")},       // a record not in the roster
	}
	for _, a := range attempts {
		must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: a.ref, TenantID: a.tenant, Outcome: "not_found"},
			store.AttemptEvent{Step: "link", At: base, Detail: a.detail}))
	}
	schoolA := store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа А"}}
	tenant1 := store.Scope{Role: store.StaffTenantSupport, TenantID: "t1"}
	operator := store.Scope{Role: store.StaffOperator}
	scopes := []struct {
		name     string
		sc       store.Scope
		attempts map[string]bool // the refs in scope
		persons  map[string]bool // tenant/id in scope
	}{
		{"school_admin of Школа А in t1", schoolA,
			map[string]bool{"AAAAAAAAA1": true, "AAAAAAAAA3": true},
			map[string]bool{"t1/p-a": true}},
		{"tenant_support of t1", tenant1,
			map[string]bool{"AAAAAAAAA1": true, "AAAAAAAAA2": true, "AAAAAAAAA3": true, "AAAAAAAAA4": true, "AAAAAAAAA6": true},
			map[string]bool{"t1/p-a": true, "t1/p-b": true}},
		{"operator", operator,
			map[string]bool{"AAAAAAAAA1": true, "AAAAAAAAA2": true, "AAAAAAAAA3": true, "AAAAAAAAA4": true, "AAAAAAAAA5": true, "AAAAAAAAA6": true},
			map[string]bool{"t1/p-a": true, "t1/p-b": true, "t2/p-a": true, "t2/p-b": true}},
		{"a school_admin without schools sees nothing", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1"}, nil, nil},
		{"an unknown role sees nothing", store.Scope{Role: "boss", TenantID: "t1"}, nil, nil},
		{"tenant_support without a tenant sees nothing", store.Scope{Role: store.StaffTenantSupport}, nil, nil},
	}
	// Keys and scopes no store keeps find nothing, without a database error.
	_, err := s.AttemptInScope(ctx(), operator, "AAAAA\x00AAAA")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AttemptInScope(ctx(), store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"\xff"}}, "AAAAAAAAA1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.PersonInScope(ctx(), operator, "t1", "p-a\x00")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.PersonInScope(ctx(), store.Scope{Role: store.StaffTenantSupport, TenantID: "t1\x00"}, "t1", "p-a")
	wantErr(t, err, store.ErrNotFound)
	for _, tc := range scopes {
		t.Run(tc.name, func(t *testing.T) {
			for _, a := range append(attempts, struct {
				ref, tenant string
				detail      json.RawMessage
			}{"ZZZZZZZZZZ", "t1", nil}) {
				got, err := s.AttemptInScope(ctx(), tc.sc, a.ref)
				if tc.attempts[a.ref] {
					if err != nil || got.Ref != a.ref || len(got.Events) != 1 {
						t.Errorf("attempt %s: %+v, %v; want it", a.ref, got, err)
					}
				} else if !errors.Is(err, store.ErrNotFound) || got.Ref != "" {
					t.Errorf("attempt %s: %+v, %v; want ErrNotFound", a.ref, got, err)
				}
			}
			for _, key := range []string{"t1/p-a", "t1/p-b", "t2/p-a", "t2/p-b", "t1/nope", "t3/p-a"} {
				tenant, id, _ := strings.Cut(key, "/")
				got, err := s.PersonInScope(ctx(), tc.sc, tenant, id)
				if tc.persons[key] {
					if err != nil || got.ExternalID != id || got.TenantID != tenant || got.LastName != "Иванов" {
						t.Errorf("person %s: %+v, %v; want it", key, got, err)
					}
				} else if !errors.Is(err, store.ErrNotFound) || got.ExternalID != "" {
					t.Errorf("person %s: %+v, %v; want ErrNotFound", key, got, err)
				}
			}
		})
	}
}
