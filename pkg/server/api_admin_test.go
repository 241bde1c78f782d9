package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// adminClients gives the broker an operator-level API client "ops"
// (secret "ops-secret") and tenant "other" with its admin API client
// "other-api" ("other-secret"); the dev tenant's API client has the admin
// scope already. It answers the three admin tokens: the dev tenant's, the
// other tenant's and the operator's.
func adminClients(t *testing.T, b *broker) (a, other, ops string) {
	t.Helper()
	secondTenantClient(t, b, "admin", "roster")
	if err := b.comp.Store.CreateClient(context.Background(), store.Client{ID: "ops", SecretHash: oauth.HashSecret("ops-secret"),
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"admin"}}); err != nil {
		t.Fatal(err)
	}
	return apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "admin"),
		apiToken(t, b, "other-api", "other-secret", "admin"), apiToken(t, b, "ops", "ops-secret", "admin")
}

// adminCall is call with a JSON body.
func adminCall(t *testing.T, b *broker, method, path, token, body string) apiResp {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return call(t, method, b.URL+"/api/v1/admin"+path, token, ct, body)
}

// TestAdminAPIIsolation: a tenant's admin client reads, changes, disables
// and deletes nothing of another tenant — every such call is the 404 of
// a tenant or client that does not exist — and the tenants' lifecycle,
// operator-level clients and keys are the operator's alone (403).
func TestAdminAPIIsolation(t *testing.T) {
	eachBroker(t, func(t *testing.T, b *broker) {
		tokA, _, _ := adminClients(t, b)
		patch := `{"name":"Чужой дневник"}`
		for _, tc := range []struct {
			method, path, body string
			status             int
		}{
			{"GET", "/tenants/other", "", 404},
			{"PATCH", "/tenants/other", patch, 404},
			{"POST", "/tenants/other/disable", "", 404},
			{"POST", "/tenants/other/enable", "", 404},
			{"DELETE", "/tenants/other", "", 404},
			{"GET", "/clients?tenant=other", "", 404},
			{"GET", "/clients/other-api", "", 404},
			{"GET", "/clients/ops", "", 404},
			{"PATCH", "/clients/other-api", `{"scopes":["roster"]}`, 404},
			{"POST", "/clients/other-api/rotate-secret", "", 404},
			{"POST", "/clients/other-api/disable", "", 404},
			{"DELETE", "/clients/other-api", "", 404},
			{"POST", "/clients", `{"tenant_id":"other","grant_types":["client_credentials"],"scopes":["admin"]}`, 404},
			{"POST", "/tenants", `{"id":"third","name":"x","operator":"x","operator_address":"x"}`, 403},
			{"POST", "/tenants/" + server.DevTenant + "/disable", "", 403},
			{"DELETE", "/tenants/" + server.DevTenant, "", 403},
			{"POST", "/clients", `{"operator":true,"grant_types":["client_credentials"],"scopes":["admin"]}`, 403},
			{"POST", "/keys/rotate", `{"kind":"signing"}`, 403},
		} {
			if r := adminCall(t, b, tc.method, tc.path, tokA, tc.body); r.Status != tc.status || !strings.Contains(r.Body, `"status":`) {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, r.Status, r.Body, tc.status)
			}
		}
		var tenants struct{ Tenants []map[string]any }
		adminCall(t, b, "GET", "/tenants", tokA, "").json(t, &tenants)
		if len(tenants.Tenants) != 1 || tenants.Tenants[0]["id"] != server.DevTenant {
			t.Fatalf("a tenant's client lists %+v", tenants)
		}
		var clients struct{ Clients []map[string]any }
		adminCall(t, b, "GET", "/clients", tokA, "").json(t, &clients)
		for _, c := range clients.Clients {
			if c["tenant_id"] != server.DevTenant {
				t.Fatalf("a tenant's client lists %+v", c)
			}
		}
		// Nothing of the other tenant changed, and no audit entry of it.
		other, err := b.comp.Store.GetTenant(context.Background(), "other")
		if err != nil || other.Disabled() || other.DisplayName == "Чужой дневник" {
			t.Fatalf("other tenant: %+v %v", other, err)
		}
		if c, _ := b.comp.Store.GetClient(context.Background(), "other-api"); c.Disabled() || len(c.Scopes) != 2 {
			t.Fatalf("other tenant's client: %+v", c)
		}
		if audit, _ := b.comp.Store.ListAudit(context.Background(), "other", 10); len(audit) != 0 {
			t.Fatalf("audit of the other tenant: %+v", audit)
		}
		// An operator-level client reaches no tenant's other APIs.
		ops := apiToken(t, b, "ops", "ops-secret", "admin")
		if r := call(t, "GET", b.URL+"/api/v1/staff", ops, "", ""); r.Status != http.StatusForbidden {
			t.Fatalf("operator client on /api/v1/staff: %d %s", r.Status, r.Body)
		}
	})
}

// TestAdminAPITenantOwnSettings: a tenant's admin client corrects its own
// tenant's settings (audited with before and after under its client id);
// a refused setting names its field and changes nothing.
func TestAdminAPITenantOwnSettings(t *testing.T) {
	eachBroker(t, func(t *testing.T, b *broker) {
		tokA, _, _ := adminClients(t, b)
		r := adminCall(t, b, "PATCH", "/tenants/"+server.DevTenant, tokA, `{"operator_address":"Москва, ул. Новая, 5","consent_term_days":365,"rotate_webhook_secret":true}`)
		var changed struct {
			Tenant        map[string]any
			WebhookSecret string `json:"webhook_secret"`
		}
		r.json(t, &changed)
		if r.Status != 200 || changed.Tenant["operator_address"] != "Москва, ул. Новая, 5" || changed.Tenant["consent_term_days"] != float64(365) || changed.WebhookSecret == "" {
			t.Fatalf("PATCH: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct{ body, field string }{
			{`{"operator_address":""}`, "operator_address"}, {`{"time_zone":"Mars/Olympus"}`, "time_zone"},
			{`{"adult_age":500}`, "adult_age"}, {`{"refresh_reuse_seconds":3600}`, "refresh_reuse_seconds"},
		} {
			r := adminCall(t, b, "PATCH", "/tenants/"+server.DevTenant, tokA, tc.body)
			if r.Status != 400 || !strings.Contains(r.Body, `"field":"`+tc.field+`"`) {
				t.Fatalf("%s: %d %s", tc.body, r.Status, r.Body)
			}
		}
		for _, body := range []string{`{}`, `{"bogus":1}`, `[1]`} {
			if r := adminCall(t, b, "PATCH", "/tenants/"+server.DevTenant, tokA, body); r.Status != 400 {
				t.Fatalf("%s: %d %s", body, r.Status, r.Body)
			}
		}
		tn, _ := b.comp.Store.GetTenant(context.Background(), server.DevTenant)
		if tn.OperatorAddress != "Москва, ул. Новая, 5" || tn.WebhookSecret != changed.WebhookSecret {
			t.Fatalf("stored: %+v", tn)
		}
		audit, _ := b.comp.Store.ListAudit(context.Background(), server.DevTenant, 10)
		var actions []string
		for _, e := range audit {
			if e.Actor != server.DevAPIClientID {
				continue
			}
			actions = append(actions, e.Action)
			if strings.Contains(string(e.Detail), changed.WebhookSecret) {
				t.Fatal("the webhook secret in the audit log")
			}
		}
		if strings.Join(actions, " ") != "rotate_webhook_secret update_consent_policy update_tenant" {
			t.Fatalf("audit actions of the client: %v", actions)
		}
		var shown map[string]any
		adminCall(t, b, "GET", "/tenants/"+server.DevTenant, tokA, "").json(t, &shown)
		if shown["operator_address"] != "Москва, ул. Новая, 5" || shown["webhook_secret_set"] != true {
			t.Fatalf("GET: %+v", shown)
		}
	})
}

// TestAdminAPIClients: a tenant's admin client registers an API client of
// its tenant, rotates its secret (both secrets work during the grace
// period, only the new one after a rotation without grace), disables it
// (its token stops working at the API), enables and deletes it.
func TestAdminAPIClients(t *testing.T) {
	eachBroker(t, func(t *testing.T, b *broker) {
		tokA, _, _ := adminClients(t, b)
		r := adminCall(t, b, "POST", "/clients", tokA, `{"id":"sync","grant_types":["client_credentials"],"scopes":["roster"]}`)
		var created struct {
			Client map[string]any
			Secret string `json:"client_secret"`
		}
		r.json(t, &created)
		if r.Status != 201 || created.Client["tenant_id"] != server.DevTenant || created.Secret == "" || created.Client["operator"] != false {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		works := func(secret string) bool {
			cc := &clientcredentials.Config{ClientID: "sync", ClientSecret: secret, TokenURL: b.URL + "/oauth2/token", Scopes: []string{"roster"}}
			_, err := cc.Token(context.Background())
			return err == nil
		}
		first := created.Secret
		r = adminCall(t, b, "POST", "/clients/sync/rotate-secret", tokA, `{"grace_seconds":3600}`)
		var rotated struct {
			Client map[string]any
			Secret string `json:"client_secret"`
		}
		r.json(t, &rotated)
		if r.Status != 200 || rotated.Secret == first || rotated.Client["previous_secret_until"] == nil || rotated.Client["secret_rotated_at"] == nil {
			t.Fatalf("rotate: %d %s", r.Status, r.Body)
		}
		if !works(first) || !works(rotated.Secret) {
			t.Fatal("during the grace period both secrets must work")
		}
		r = adminCall(t, b, "POST", "/clients/sync/rotate-secret", tokA, `{"grace_seconds":0}`)
		var again struct {
			Secret string `json:"client_secret"`
		}
		r.json(t, &again)
		if works(rotated.Secret) || !works(again.Secret) {
			t.Fatal("after a rotation without grace only the new secret works")
		}
		if r := adminCall(t, b, "POST", "/clients/sync/rotate-secret", tokA, `{"grace_seconds":-1}`); r.Status != 400 || !strings.Contains(r.Body, `"field":"grace_seconds"`) {
			t.Fatalf("negative grace: %d %s", r.Status, r.Body)
		}
		token := apiToken(t, b, "sync", again.Secret, "roster")
		links := func() int { return call(t, "GET", b.URL+"/api/v1/roster/persons/t-0001/links", token, "", "").Status }
		if links() != 200 {
			t.Fatal("the new client's token does not work")
		}
		if r := adminCall(t, b, "POST", "/clients/sync/disable", tokA, ""); r.Status != 200 || !strings.Contains(r.Body, `"disabled":true`) {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if links() != 401 {
			t.Fatal("a disabled client's token still works")
		}
		adminCall(t, b, "POST", "/clients/sync/enable", tokA, "")
		if links() != 200 {
			t.Fatal("an enabled client's token does not work")
		}
		if r := adminCall(t, b, "PATCH", "/clients/sync", tokA, `{"scopes":["roster","support"],"name":"Синхронизация"}`); r.Status != 200 ||
			!strings.Contains(r.Body, `"scopes":["roster","support"]`) {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "PATCH", "/clients/sync", tokA, `{"grant_types":["authorization_code"]}`); r.Status != 400 {
			t.Fatalf("a login client with API scopes: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "DELETE", "/clients/sync", tokA, ""); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if links() != 401 || adminCall(t, b, "GET", "/clients/sync", tokA, "").Status != 404 {
			t.Fatal("a deleted client's token still works, or it is still there")
		}
		audit, _ := b.comp.Store.ListAudit(context.Background(), server.DevTenant, 20)
		var actions []string
		for _, e := range audit {
			if e.Target == "sync" {
				actions = append(actions, e.Action)
			}
			for _, secret := range []string{first, rotated.Secret, again.Secret} {
				if strings.Contains(string(e.Detail), secret) {
					t.Fatal("a client secret in the audit log")
				}
			}
		}
		want := "delete_client update_client enable_client disable_client rotate_client_secret rotate_client_secret create_client"
		if strings.Join(actions, " ") != want {
			t.Fatalf("audit: %v", actions)
		}
	})
}

// TestAdminAPIOperator: the operator-level client creates a tenant (not
// without the operator's address), sees every tenant, disables one (its
// clients' tokens stop working), refuses to delete an enabled one, deletes
// the disabled one with its data and leaves the others as they were, and
// rotates the keys.
func TestAdminAPIOperator(t *testing.T) {
	eachBroker(t, func(t *testing.T, b *broker) {
		tokA, tokOther, ops := adminClients(t, b)
		if r := adminCall(t, b, "POST", "/tenants", ops, `{"id":"third","name":"Третий","operator":"ГБУ"}`); r.Status != 400 ||
			!strings.Contains(r.Body, `"field":"operator_address"`) {
			t.Fatalf("create without the address: %d %s", r.Status, r.Body)
		}
		r := adminCall(t, b, "POST", "/tenants", ops, `{"id":"third","name":"Третий","operator":"ГБУ","operator_address":"Казань","consent_term_days":30}`)
		if r.Status != 201 || !strings.Contains(r.Body, `"webhook_secret":"`) || !strings.Contains(r.Body, `"consent_term_days":30`) {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "POST", "/tenants", ops, `{"id":"third","name":"x","operator":"x","operator_address":"x"}`); r.Status != 409 {
			t.Fatalf("create twice: %d %s", r.Status, r.Body)
		}
		var tenants struct{ Tenants []map[string]any }
		adminCall(t, b, "GET", "/tenants", ops, "").json(t, &tenants)
		if len(tenants.Tenants) != 3 {
			t.Fatalf("operator lists %d tenants", len(tenants.Tenants))
		}
		r = adminCall(t, b, "POST", "/clients", ops, `{"tenant_id":"third","id":"third-api","grant_types":["client_credentials"],"scopes":["admin"]}`)
		var third struct {
			Secret string `json:"client_secret"`
		}
		r.json(t, &third)
		thirdSecret := third.Secret
		if r.Status != 201 || thirdSecret == "" {
			t.Fatalf("client of another tenant: %d %s", r.Status, r.Body)
		}
		for _, step := range []struct{ path, want string }{
			{"/tenants/third/disable", `"disabled":true`}, {"/tenants/third/disable", `"disabled":true`},
			{"/tenants/third/enable", `"disabled":false`},
		} {
			if r := adminCall(t, b, "POST", step.path, ops, ""); r.Status != 200 || !strings.Contains(r.Body, step.want) {
				t.Fatalf("%s: %d %s", step.path, r.Status, r.Body)
			}
		}
		if r := adminCall(t, b, "GET", "/tenants/third", apiToken(t, b, "third-api", thirdSecret, "admin"), ""); r.Status != 200 {
			t.Fatalf("an enabled tenant's client: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "DELETE", "/tenants/other", ops, ""); r.Status != 409 {
			t.Fatalf("delete an enabled tenant: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "POST", "/tenants/other/disable", ops, ""); r.Status != 200 || !strings.Contains(r.Body, `"disabled":true`) {
			t.Fatalf("disable: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "GET", "/tenants", tokOther, ""); r.Status != 401 {
			t.Fatalf("a disabled tenant's token: %d", r.Status)
		}
		r = adminCall(t, b, "DELETE", "/tenants/other", ops, "")
		var d store.TenantDeletion
		r.json(t, &d)
		if r.Status != 200 || d.TenantID != "other" || d.By != "ops" || d.Counts["clients"] != 1 || d.Counts["tenants"] != 1 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if adminCall(t, b, "GET", "/tenants/other", ops, "").Status != 404 {
			t.Fatal("the deleted tenant is still there")
		}
		if r := adminCall(t, b, "GET", "/tenants/"+server.DevTenant, tokA, ""); r.Status != 200 {
			t.Fatalf("the dev tenant after another's deletion: %d %s", r.Status, r.Body)
		}
		if n, _ := b.comp.Store.CountPersons(context.Background(), server.DevTenant); n == 0 {
			t.Fatal("the dev tenant's roster is gone")
		}
		var keys struct {
			KeyIDs []string `json:"key_ids"`
		}
		r = adminCall(t, b, "POST", "/keys/rotate", ops, `{"kind":"signing"}`)
		r.json(t, &keys)
		if r.Status != 200 || len(keys.KeyIDs) == 0 {
			t.Fatalf("rotate signing: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "POST", "/keys/rotate", ops, `{"kind":"pii"}`); r.Status != 200 {
			t.Fatalf("rotate pii: %d %s", r.Status, r.Body)
		}
		if r := adminCall(t, b, "POST", "/keys/rotate", ops, `{"kind":"wrong"}`); r.Status != 400 {
			t.Fatalf("rotate wrong: %d %s", r.Status, r.Body)
		}
		audit, _ := b.comp.Store.ListAudit(context.Background(), "operator", 10)
		if len(audit) != 2 || audit[0].Action != "rotate_key" || audit[0].Actor != "ops" {
			t.Fatalf("operator audit: %+v", audit)
		}
		var detail struct{ Kind string }
		if err := json.Unmarshal(audit[0].Detail, &detail); err != nil || detail.Kind != "pii" {
			t.Fatalf("rotate_key detail: %s", audit[0].Detail)
		}
	})
}
