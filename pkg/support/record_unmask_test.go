package support_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// TestRecordUnmask: showing a record's field in full needs a reason and a
// field name, is refused as ErrNotFound outside the scope (another
// school, another tenant, no such record) and, when allowed, is an audit
// entry naming the grant, the record, the field and the reason.
func TestRecordUnmask(t *testing.T) {
	ctx := context.Background()
	d := newDesk(t) // "st-1" of МБОУ СОШ № 1 in msk, another "st-1" in spb
	u := &support.RecordUnmask{Store: d.st, Now: func() time.Time { return now }}
	own := store.Scope{Role: store.StaffSchoolAdmin, TenantID: "msk", Schools: []string{"МБОУ СОШ № 1"}}
	tests := []struct {
		name                  string
		sc                    store.Scope
		tenant, record, field string
		reason                string
		want                  error
	}{
		{"no reason", own, "msk", "st-1", "snils", "  ", support.ErrNoReason},
		{"no field", own, "msk", "st-1", "", "звонок", support.ErrBadQuery},
		{"a field name that is not one", own, "msk", "st-1", "snils;drop", "звонок", support.ErrBadQuery},
		{"another school", store.Scope{Role: store.StaffSchoolAdmin, TenantID: "msk", Schools: []string{"Лицей"}}, "msk", "st-1", "snils", "звонок", support.ErrNotFound},
		{"another tenant", own, "spb", "st-1", "snils", "звонок", support.ErrNotFound},
		{"no such record", own, "msk", "st-9", "snils", "звонок", support.ErrNotFound},
		{"its own school", own, "msk", "st-1", "snils", "звонок мамы", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := u.Unmask(ctx, tc.sc, "g1", tc.tenant, tc.record, tc.field, tc.reason)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	entries, err := d.st.ListAudit(ctx, "msk", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []store.AuditEntry
	for _, e := range entries {
		if e.Action == support.ActionUnmask {
			got = append(got, e)
		}
	}
	if len(got) != 1 || got[0].Target != "st-1" || got[0].Actor != "staff:g1" || !got[0].At.Equal(now) ||
		!strings.Contains(string(got[0].Detail), `"kind":"record"`) || !strings.Contains(string(got[0].Detail), `"field":"snils"`) ||
		!strings.Contains(string(got[0].Detail), `"reason":"звонок мамы"`) {
		t.Fatalf("unmask entries %+v", got)
	}
}
