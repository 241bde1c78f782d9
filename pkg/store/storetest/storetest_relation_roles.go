package storetest

import (
	"reflect"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// testRelationRoles: a relation ties a parent record to a student record;
// one naming a record of another role is refused like one naming a record
// that does not exist, by UpsertRelations (the whole batch) and by
// UpsertKnownRelations (that relation).
func testRelationRoles(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{
		mkPerson("s-1", store.RoleStudent, ""), mkPerson("s-2", store.RoleStudent, ""), mkPerson("p-1", store.RoleParent, ""),
		mkPerson("t-1", store.RoleTeacher, ""),
	}))
	for _, bad := range []store.Relation{
		{Parent: "t-1", Student: "s-1"}, // a teacher as parent
		{Parent: "s-2", Student: "s-1"}, // a student as parent
		{Parent: "p-1", Student: "t-1"}, // a teacher as student
		{Parent: "s-1", Student: "p-1"}, // the wrong way round
	} {
		wantErr(t, s.UpsertRelations(ctx(), "t1", []store.Relation{{Parent: "p-1", Student: "s-2", Kind: "mother"}, bad}), store.ErrInvalid)
	}
	rels, err := s.RelationsOf(ctx(), "t1", "s-2")
	must(t, err)
	if len(rels) != 0 {
		t.Fatalf("a refused batch stored %+v", rels)
	}
	kr, ok := s.(store.KnownRelations)
	if !ok {
		return
	}
	missing, err := kr.UpsertKnownRelations(ctx(), "t1", []store.Relation{
		{Parent: "t-1", Student: "s-1"}, {Parent: "p-1", Student: "s-2", Kind: "mother"}, {Parent: "p-1", Student: "t-1"},
	})
	must(t, err)
	if !reflect.DeepEqual(missing, []int{0, 2}) {
		t.Fatalf("missing = %v, want [0 2]", missing)
	}
	rels, err = s.RelationsOf(ctx(), "t1", "p-1")
	must(t, err)
	if want := []store.Relation{{TenantID: "t1", Parent: "p-1", Student: "s-2", Kind: "mother"}}; !reflect.DeepEqual(rels, want) {
		t.Fatalf("RelationsOf(p-1) = %+v", rels)
	}
}
