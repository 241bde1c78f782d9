package server

import (
	"context"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// tenantReads counts the store's GetTenant calls.
type tenantReads struct {
	store.Store
	n int
}

func (s *tenantReads) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	s.n++
	return s.Store.GetTenant(ctx, id)
}

// TestTenantOfReusesTheCallbacksRead: the consent step takes the tenant
// the login's callback read in the same request (one read a login, not
// two), and reads it when the result has none or another tenant's.
func TestTenantOfReusesTheCallbacksRead(t *testing.T) {
	ctx := context.Background()
	mem := memory.New(time.Now)
	for _, id := range []string{"t-a", "t-b"} {
		if err := mem.CreateTenant(ctx, store.Tenant{ID: id, DisplayName: id, TimeZone: "Europe/Moscow"}); err != nil {
			t.Fatal(err)
		}
	}
	read := store.Tenant{ID: "t-a", DisplayName: "as the callback read it"}
	tests := []struct {
		name     string
		tenant   *store.Tenant
		pending  string
		wantName string
		reads    int
	}{
		{"the callback's read", &read, "t-a", "as the callback read it", 0},
		{"none read", nil, "t-a", "t-a", 1},
		{"another tenant's", &read, "t-b", "t-b", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &tenantReads{Store: mem}
			s := &Server{c: &Components{Store: st}}
			res := &login.Result{Tenant: tt.tenant}
			res.Pending.Request.TenantID = tt.pending
			got, err := s.tenantOf(ctx, res)
			if err != nil || got.ID != tt.pending || got.DisplayName != tt.wantName || st.n != tt.reads {
				t.Fatalf("tenantOf = %+v, %v after %d reads; want %s (%q) after %d", got, err, st.n, tt.pending, tt.wantName, tt.reads)
			}
		})
	}
}
