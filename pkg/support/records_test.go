package support_test

import (
	"context"
	"errors"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/support"
)

// TestUnmaskRecord: showing a record's field in full needs a reason and a
// field of the record page, finds the record only in the scope — another
// school's record is ErrNotFound like a missing one — and is audited
// (grant, record, field, reason) only when it is allowed.
func TestUnmaskRecord(t *testing.T) {
	ctx := context.Background()
	st := memory.New(nil)
	if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", DisplayName: "Дневник", TimeZone: "Europe/Moscow"}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpsertPersons(ctx, "t1", []store.Person{
		{ExternalID: "a", Role: store.RoleStudent, LastName: "Иванова", FirstName: "Ася", School: "Школа А"},
		{ExternalID: "b", Role: store.RoleStudent, LastName: "Петров", FirstName: "Иван", School: "Школа Б"},
	}); err != nil {
		t.Fatal(err)
	}
	r := &support.Records{Store: st}
	schoolA := store.Scope{Role: store.StaffSchoolAdmin, TenantID: "t1", Schools: []string{"Школа А"}}
	tests := []struct {
		name, id, field, reason string
		want                    error
	}{
		{"allowed", "a", "snils", "сверяю с мамой", nil},
		{"no reason", "a", "snils", "  ", support.ErrNoReason},
		{"a field the page has not", "a", "password", "сверяю", support.ErrBadQuery},
		{"another school's record", "b", "snils", "сверяю", support.ErrNotFound},
		{"no such record", "zz", "snils", "сверяю", support.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.UnmaskRecord(ctx, schoolA, "g1", "t1", tc.id, tc.field, tc.reason)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
		})
	}
	entries, err := st.ListAudit(ctx, "t1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Action != support.ActionUnmask || entries[0].Target != "a" || entries[0].Actor != "staff:g1" {
		t.Fatalf("audit = %+v", entries)
	}
}
