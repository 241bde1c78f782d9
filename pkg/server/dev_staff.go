package server

import (
	"context"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// DevStaff are dev mode's staff grants on the demo tenant, for fixture
// persons of the simulator who are not in the demo roster: /support can be
// tried at once (README, docs/support.md).
var DevStaff = []struct {
	OID, SNILS string
	Role       store.StaffRole
	Schools    []string
}{
	{"1000100037", "140-321-598 13", store.StaffTenantSupport, nil},                    // Григорьева Светлана Игоревна
	{"1000100038", "151-642-709 49", store.StaffSchoolAdmin, []string{"МБОУ СОШ № 1"}}, // Романов Константин Петрович
}

// seedDevStaff grants DevStaff their roles on the demo tenant.
func (c *Components) seedDevStaff(ctx context.Context) error {
	g := &support.Grants{Store: c.Store, Index: c.PII, Now: c.Now}
	for _, s := range DevStaff {
		if _, err := g.Seed(ctx, support.GrantRequest{TenantID: DevTenant, SNILS: s.SNILS, Role: s.Role, Schools: s.Schools, By: "broker-dev"}); err != nil {
			return fmt.Errorf("dev: staff grant: %w", err)
		}
	}
	return nil
}
