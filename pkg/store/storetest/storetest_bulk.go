package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// RunBulk runs the conformance tests of the bulk roster write paths
// (store.KnownRelations, which every store has, and store.PersonCopier,
// when the store has it) against stores made by newStore.
func RunBulk(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"KnownRelations", testKnownRelations},
		{"KnownRelationsInTx", testKnownRelationsInTx},
		{"CopyPersons", testCopyPersons},
		{"CopyPersonsIsAtomic", testCopyPersonsIsAtomic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

var errRollback = errors.New("roll back")

func knownRelations(t *testing.T, s store.Store) store.KnownRelations {
	t.Helper()
	kr, ok := s.(store.KnownRelations)
	if !ok {
		t.Fatalf("%T does not implement store.KnownRelations", s)
	}
	return kr
}

func testKnownRelations(t *testing.T, s store.Store) {
	kr := knownRelations(t, s)
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{
		mkPerson("s-1", store.RoleStudent, ""), mkPerson("s-2", store.RoleStudent, ""), mkPerson("p-1", store.RoleParent, ""),
	}))
	must(t, s.UpsertPersons(ctx(), "t2", []store.Person{mkPerson("p-2", store.RoleParent, "")}))
	must(t, s.UpsertRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: "s-2", Kind: "mother"}}))

	missing, err := kr.UpsertKnownRelations(ctx(), "t1", []store.Relation{
		{Parent: "p-1", Student: "s-1", Kind: "mother"},
		{Parent: "p-1", Student: "ghost", Kind: "mother"}, // unknown student
		{Parent: "p-2", Student: "s-1", Kind: "father"},   // parent of another tenant
		{Parent: "p-1", Student: "s-2", Kind: "other"},    // replaces the existing kind
		{Parent: "p-1", Student: "s-1", Kind: "guardian"}, // the last occurrence wins
		{Parent: "p-2", Student: "s-1", Kind: "father"},   // every occurrence of a missing pair is reported
	})
	must(t, err)
	if !reflect.DeepEqual(missing, []int{1, 2, 5}) {
		t.Fatalf("missing = %v, want [1 2 5]", missing)
	}
	rels, err := s.RelationsOf(ctx(), "t1", "p-1")
	must(t, err)
	want := []store.Relation{
		{TenantID: "t1", Parent: "p-1", Student: "s-1", Kind: "guardian"},
		{TenantID: "t1", Parent: "p-1", Student: "s-2", Kind: "other"},
	}
	if !reflect.DeepEqual(rels, want) {
		t.Fatalf("RelationsOf(p-1) = %+v", rels)
	}
	// Nothing known: nothing written, every position returned.
	missing, err = kr.UpsertKnownRelations(ctx(), "t1", []store.Relation{{Parent: "x", Student: "s-1"}, {Parent: "p-1", Student: "y"}})
	must(t, err)
	if !slices.Equal(missing, []int{0, 1}) {
		t.Fatalf("missing = %v, want [0 1]", missing)
	}
	missing, err = kr.UpsertKnownRelations(ctx(), "t1", nil)
	if err != nil || len(missing) != 0 {
		t.Fatalf("empty batch: %v %v", missing, err)
	}
	rels, err = s.RelationsOf(ctx(), "t1", "s-1")
	must(t, err)
	if len(rels) != 1 {
		t.Fatalf("RelationsOf(s-1) = %+v", rels)
	}
}

// testKnownRelationsInTx checks that the relations take part in a
// transaction and roll back with it.
func testKnownRelationsInTx(t *testing.T, s store.Store) {
	kr := knownRelations(t, s)
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("s-1", store.RoleStudent, ""), mkPerson("p-1", store.RoleParent, "")}))
	err := s.InTx(ctx(), func(c context.Context) error {
		missing, err := kr.UpsertKnownRelations(c, "t1", []store.Relation{{Parent: "p-1", Student: "s-1", Kind: "father"}, {Parent: "p-1", Student: "ghost"}})
		if err != nil {
			return err
		}
		if !slices.Equal(missing, []int{1}) {
			t.Errorf("missing = %v, want [1]", missing)
		}
		return errRollback
	})
	wantErr(t, err, errRollback)
	rels, err := s.RelationsOf(ctx(), "t1", "p-1")
	must(t, err)
	if len(rels) != 0 {
		t.Fatalf("rolled-back relations remain: %+v", rels)
	}
}

func personCopier(t *testing.T, s store.Store) store.PersonCopier {
	t.Helper()
	pc, ok := s.(store.PersonCopier)
	if !ok {
		t.Skipf("%T has no bulk person write path", s)
	}
	return pc
}

// testCopyPersons checks that CopyPersons stores what UpsertPersons stores:
// new records, updated records (with their indexes replaced) in one batch.
func testCopyPersons(t *testing.T, s store.Store) {
	pc := personCopier(t, s)
	mkTenant(t, s, "t1")
	p1 := mkPerson("s-1", store.RoleStudent, "11223344595")
	p2 := mkPerson("s-2", store.RoleStudent, "11223344596")
	p3 := mkPerson("p-1", store.RoleParent, "")
	p3.BirthCert, p3.Contacts, p3.Flags, p3.MiddleName = nil, nil, nil, ""
	must(t, pc.CopyPersons(ctx(), "t1", []store.Person{p1, p2}))
	p2.SNILS, p2.Index.SNILS, p2.Class = "99988877766", "ix-snils-new", "9А"
	must(t, pc.CopyPersons(ctx(), "t1", []store.Person{p3, p2}))
	for _, want := range []store.Person{p1, p2, p3} {
		got, err := s.GetPerson(ctx(), "t1", want.ExternalID)
		must(t, err)
		samePerson(t, got, want)
		if got.UpdatedAt.IsZero() {
			t.Fatalf("%s: updated_at not set", want.ExternalID)
		}
	}
	found, err := s.FindPersons(ctx(), "t1", store.IndexSNILS, "ix-snils-11223344596", 0)
	must(t, err)
	if len(found) != 0 {
		t.Fatalf("old index still finds %v", personIDs(found))
	}
	found, err = s.FindPersons(ctx(), "t1", store.IndexSNILS, "ix-snils-new", 0)
	must(t, err)
	if len(found) != 1 || found[0].ExternalID != "s-2" {
		t.Fatalf("new index finds %v", personIDs(found))
	}
	n, err := s.CountPersons(ctx(), "t1")
	must(t, err)
	if n != 3 {
		t.Fatalf("CountPersons = %d", n)
	}
	must(t, pc.CopyPersons(ctx(), "t1", nil))
}

func testCopyPersonsIsAtomic(t *testing.T, s store.Store) {
	pc := personCopier(t, s)
	mkTenant(t, s, "t1")
	good := mkPerson("s-1", store.RoleStudent, "11223344595")
	must(t, pc.CopyPersons(ctx(), "t1", []store.Person{good}))
	changed := good
	changed.Class = "11Б"
	wantErr(t, pc.CopyPersons(ctx(), "t1", []store.Person{changed, mkPerson("s-2", "pilot", "")}), store.ErrInvalid)
	dup := mkPerson("s-3", store.RoleStudent, "")
	wantErr(t, pc.CopyPersons(ctx(), "t1", []store.Person{dup, dup}), store.ErrInvalid)
	wantErr(t, pc.CopyPersons(ctx(), "t1", []store.Person{{Role: store.RoleStudent}}), store.ErrInvalid)
	wantErr(t, pc.CopyPersons(ctx(), "missing-tenant", []store.Person{mkPerson("s-4", store.RoleStudent, "")}), store.ErrInvalid)
	got, err := s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	if got.Class != good.Class {
		t.Fatalf("failed batch changed the record: class %q", got.Class)
	}
	for _, id := range []string{"s-2", "s-3", "s-4"} {
		_, err = s.GetPerson(ctx(), "t1", id)
		wantErr(t, err, store.ErrNotFound)
	}
	// A batch rolled back with its transaction leaves nothing.
	err = s.InTx(ctx(), func(c context.Context) error {
		if err := pc.CopyPersons(c, "t1", []store.Person{changed, mkPerson("s-5", store.RoleStudent, "")}); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, err, errRollback)
	got, err = s.GetPerson(ctx(), "t1", "s-1")
	must(t, err)
	if got.Class != good.Class {
		t.Fatal("rolled-back batch changed the record")
	}
	_, err = s.GetPerson(ctx(), "t1", "s-5")
	wantErr(t, err, store.ErrNotFound)
}
