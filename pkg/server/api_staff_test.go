package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

// TestStaffAPI: /api/v1/staff with the admin scope grants, lists and
// revokes the caller's tenant's staff grants only — another tenant's grant
// is 404 like a missing one, operator grants are refused — with
// problem+json errors, masked SNILS and an audit entry per change.
func TestStaffAPI(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	secondTenantClient(t, b, "admin", "support")
	demo := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "admin")
	other := apiToken(t, b, "other-api", "other-secret", "admin")
	supportOnly := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	u := b.URL + "/api/v1/staff"

	if r := call(t, "GET", u, supportOnly, "", ""); r.Status != 403 || !strings.Contains(r.Body, "admin") {
		t.Fatalf("without the admin scope: %d %s", r.Status, r.Body)
	}
	r := call(t, "POST", u, demo, "application/json", `{"snils":"104-527-893 44","role":"school_admin","schools":["МБОУ СОШ № 1"]}`)
	var g struct {
		ID, Tenant, Role, SNILSMasked string
		Schools                       []string
		SnilsMasked                   string `json:"snils_masked"`
	}
	r.json(t, &g)
	if r.Status != 201 || g.Tenant != "demo" || g.Role != "school_admin" || g.SnilsMasked != "***-***-893 44" || len(g.Schools) != 1 {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "104-527") {
		t.Fatalf("the answer shows the SNILS: %s", r.Body)
	}
	if r := call(t, "POST", u, other, "application/json", `{"snils":"104-527-893 44","role":"tenant_support"}`); r.Status != 201 {
		t.Fatalf("other's grant: %d %s", r.Status, r.Body)
	}
	refused := []struct {
		name, token, body string
		status            int
	}{
		{"operator", demo, `{"snils":"112-233-401 83","role":"operator"}`, 403},
		{"unknown role", demo, `{"snils":"112-233-401 83","role":"boss"}`, 400},
		{"school_admin without schools", demo, `{"snils":"112-233-401 83","role":"school_admin"}`, 400},
		{"schools of tenant_support", demo, `{"snils":"112-233-401 83","role":"tenant_support","schools":["x"]}`, 400},
		{"bad snils", demo, `{"snils":"12345","role":"tenant_support"}`, 400},
		{"another tenant named", demo, `{"snils":"112-233-401 83","role":"tenant_support","tenant":"other"}`, 400},
		{"a NUL in a school", demo, `{"snils":"112-233-401 83","role":"school_admin","schools":["a\u0000"]}`, 400},
		{"not JSON", demo, `snils=1`, 400},
	}
	for _, tc := range refused {
		r := call(t, "POST", u, tc.token, "application/json", tc.body)
		if r.Status != tc.status || !strings.Contains(r.Body, `"status":`) {
			t.Errorf("%s: %d %s, want %d problem", tc.name, r.Status, r.Body, tc.status)
		}
	}

	list := func(token string) []string {
		t.Helper()
		r := call(t, "GET", u, token, "", "")
		var out struct{ Grants []struct{ ID, Tenant string } }
		r.json(t, &out)
		var ids []string
		for _, g := range out.Grants {
			ids = append(ids, g.Tenant+"/"+g.ID)
		}
		return ids
	}
	// demo lists dev mode's two fixture grants and the new one, other's
	// grant never.
	demoIDs := list(demo)
	if len(demoIDs) != 3 || !slices.Contains(demoIDs, "demo/"+g.ID) {
		t.Fatalf("demo lists %v", demoIDs)
	}
	otherIDs := list(other)
	if len(otherIDs) != 1 || strings.HasPrefix(otherIDs[0], "demo/") {
		t.Fatalf("other lists %v", otherIDs)
	}
	// demo cannot revoke other's grant: 404, as for one that does not exist.
	otherID := strings.TrimPrefix(otherIDs[0], "other/")
	for _, id := range []string{otherID, "stf-nope"} {
		if r := call(t, "DELETE", u+"/"+id, demo, "", ""); r.Status != 404 || !strings.Contains(r.Body, `"status":404`) {
			t.Fatalf("revoke %s by demo: %d %s", id, r.Status, r.Body)
		}
	}
	if r := call(t, "DELETE", u+"/"+g.ID, demo, "", ""); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if got := list(demo); len(got) != 2 || slices.Contains(got, "demo/"+g.ID) {
		t.Fatalf("after revoke demo lists %v", got)
	}
	if got := list(other); len(got) != 1 {
		t.Fatalf("after demo's revoke other lists %v", got)
	}
	entries, err := b.comp.Store.ListAudit(ctx, "demo", 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasSuffix(e.Action, "_staff") {
			actions = append(actions, e.Action+":"+e.Actor+":"+e.Target)
		}
	}
	if len(actions) != 2 || actions[0] != "revoke_staff:demo-api:"+g.ID || actions[1] != "grant_staff:demo-api:"+g.ID {
		t.Fatalf("audit = %v", actions)
	}
	if strings.Contains(b.logs.String(), "104-527") || strings.Contains(b.logs.String(), "10452789344") {
		t.Fatal("the logs hold the SNILS")
	}
}
