package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

// getJSON fetches u (with header h) and decodes its JSON object.
func getJSON(t *testing.T, method, u string, h http.Header, form url.Values) map[string]any {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	for k, v := range h {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("%s %s: %d", method, u, resp.StatusCode)
	}
	return m
}

// TestClaimsSupportedComplete: every claim the ID tokens, userinfo and
// introspection carry — for a teacher and for a parent (children), with
// the profile scope — is listed in claims_supported, and nothing listed
// is never carried.
func TestClaimsSupportedComplete(t *testing.T) {
	b := startBroker(t, true, nil)
	meta := getJSON(t, "GET", b.URL+"/.well-known/openid-configuration", nil, nil)
	var supported []string
	for _, c := range meta["claims_supported"].([]any) {
		supported = append(supported, c.(string))
	}
	// RFC 7662 §2.2's members of an introspection answer are about the
	// token, not claims about the person.
	introspectionMeta := map[string]bool{"active": true, "scope": true, "client_id": true, "token_type": true, "username": true}
	carried := map[string]string{}
	for _, oid := range []string{oidTeacher, oidParent} {
		d := newDiary(b)
		tok, idClaims := tokens(t, b, d, loginAs(t, b, d, oid))
		for k := range idClaims {
			carried[k] = "ID token"
		}
		for k := range getJSON(t, "GET", b.URL+"/userinfo", http.Header{"Authorization": {"Bearer " + tok.AccessToken}}, nil) {
			carried[k] = "userinfo"
		}
		intro := getJSON(t, "POST", b.URL+"/oauth2/introspect", nil, url.Values{"token": {tok.AccessToken},
			"client_id": {server.DevClientID}, "client_secret": {server.DevClientSecret}})
		if intro["active"] != true {
			t.Fatalf("introspection: %v", intro)
		}
		for k := range intro {
			if !introspectionMeta[k] {
				carried[k] = "introspection"
			}
		}
	}
	for claim, where := range carried {
		if !slices.Contains(supported, claim) {
			t.Errorf("the %s carries %q, which claims_supported does not list", where, claim)
		}
	}
	for _, claim := range supported {
		if _, ok := carried[claim]; !ok {
			t.Errorf("claims_supported lists %q, which no token carries", claim)
		}
	}
	for _, m := range []string{"introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		if list, _ := meta[m].([]any); !slices.Contains(list, any("client_secret_basic")) || !slices.Contains(list, any("client_secret_post")) {
			t.Errorf("%s = %v", m, meta[m])
		}
	}
}

// TestServiceDocumentationAndPolicy: discovery names the integration guide
// (served by the broker unless a URL is set) and the policy pages; each
// tenant's page is Russian and built from that tenant's settings only.
func TestServiceDocumentationAndPolicy(t *testing.T) {
	b := startBroker(t, true, nil)
	meta := getJSON(t, "GET", b.URL+"/.well-known/openid-configuration", nil, nil)
	get := func(u string) (int, string, http.Header) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	if meta["service_documentation"] != b.URL+"/docs/oauth.md" {
		t.Fatalf("service_documentation %v", meta["service_documentation"])
	}
	status, body, h := get(b.URL + "/docs/oauth.md")
	if status != 200 || !strings.HasPrefix(body, "# Integrating a diary") || !strings.HasPrefix(h.Get("Content-Type"), "text/markdown") {
		t.Fatalf("guide: %d %s %.80s", status, h.Get("Content-Type"), body)
	}
	for _, bad := range []string{"/docs/docs.go", "/docs/..%2Fgo.mod", "/docs/nope.md"} {
		if status, _, _ := get(b.URL + bad); status != 404 {
			t.Errorf("%s: %d", bad, status)
		}
	}

	// A second tenant, with an operator of its own.
	ctx := context.Background()
	other := server.DemoTenant()
	other.ID, other.DisplayName, other.OperatorName, other.OperatorAddress = "spb", "Дневник Петербурга", "СПб ГБУ «Оператор-2»", "Санкт-Петербург, Невский пр., 2"
	other.Consent.Purpose = "учёта успеваемости"
	other.Retention.AttemptDays = 200
	if err := b.comp.Store.CreateTenant(ctx, other); err != nil {
		t.Fatal(err)
	}
	demo, err := b.comp.Store.GetTenant(ctx, server.DevTenant)
	if err != nil {
		t.Fatal(err)
	}

	if meta["op_policy_uri"] != b.URL+"/policy" {
		t.Fatalf("op_policy_uri %v", meta["op_policy_uri"])
	}
	status, body, _ = get(b.URL + "/policy")
	if status != 200 || !strings.Contains(body, `href="/policy/demo"`) || !strings.Contains(body, `href="/policy/spb"`) || !strings.Contains(body, `lang="ru"`) {
		t.Fatalf("policy index: %d %s", status, body)
	}
	status, body, _ = get(b.URL + "/policy/spb")
	for _, want := range []string{"СПб ГБУ «Оператор-2»", "Невский пр., 2", "в целях учёта успеваемости", "200 дней", "152-ФЗ", "СНИЛС", `lang="ru"`} {
		if status != 200 || !strings.Contains(htmlUnescape(body), want) {
			t.Errorf("policy/spb lacks %q (%d)", want, status)
		}
	}
	if strings.Contains(htmlUnescape(body), demo.OperatorName) {
		t.Errorf("policy/spb shows the demo tenant's operator")
	}
	if status, body, _ = get(b.URL + "/policy/demo"); status != 200 || !strings.Contains(htmlUnescape(body), demo.OperatorName) ||
		strings.Contains(htmlUnescape(body), "Оператор-2") {
		t.Errorf("policy/demo: %d", status)
	}
	if status, _, _ = get(b.URL + "/policy/nobody"); status != 404 {
		t.Errorf("unknown tenant: %d", status)
	}

	// A URL setting replaces the built-in guide.
	b2 := startBroker(t, true, func(s *server.Settings) { s.ServiceDocumentation = "https://docs.diary.example/broker" })
	if m := getJSON(t, "GET", b2.URL+"/.well-known/openid-configuration", nil, nil); m["service_documentation"] != "https://docs.diary.example/broker" {
		t.Errorf("service_documentation %v", m["service_documentation"])
	}
}
