package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/api"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// TestAPIDrift pins the answers issue 9 found differing from
// api/openapi.yaml (the contract check validates them against it as well;
// these assertions would fail without the fixes even if the spec drifted
// along): the consent API in snake_case, a PUT's 422 as a problem document
// without "line 0", and a webhook list's limit above its maximum refused.
func TestAPIDrift(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster", "support", "consent:read")
	grantDirect(t, b, "t-0001", store.ConsentSelf)

	t.Run("consents in snake_case", func(t *testing.T) {
		r := call(t, "GET", b.URL+"/api/v1/consents?person_id=t-0001", token, "", "")
		var got struct {
			State   string           `json:"state"`
			Consent map[string]any   `json:"consent"`
			History []map[string]any `json:"history"`
		}
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &got) != nil {
			t.Fatalf("consents: %d %s", r.Status, r.Body)
		}
		if got.State != "granted" || len(got.History) != 1 {
			t.Fatalf("consents: %s", r.Body)
		}
		for _, k := range []string{"id", "tenant", "person_id", "kind", "grantor_oid", "text_version", "text_hash", "status", "granted_at"} {
			if _, ok := got.Consent[k]; !ok {
				t.Errorf("consent lacks %q: %s", k, r.Body)
			}
		}
		for k := range got.History[0] {
			if k != strings.ToLower(k) {
				t.Errorf("consent member %q is not snake_case", k)
			}
		}
		if _, ok := got.Consent["expires_at"]; ok {
			t.Errorf("a consent without an end has expires_at: %s", r.Body)
		}
	})

	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		field, notIn                    string
	}{
		{"put 422", "PUT", "/api/v1/roster/persons/new-9", "application/json",
			`{"role":"pilot","last_name":"П","first_name":"О","birth_date":"1990-02-02"}`, 422, "role", "line"},
		{"put 422 date", "PUT", "/api/v1/roster/persons/new-9", "application/json",
			`{"role":"teacher","last_name":"П","first_name":"О","birth_date":"1990-02-31"}`, 422, "birth_date", "line"},
		{"limit over max", "GET", "/api/v1/support/webhooks?limit=501", "", "", 400, "limit", ""},
		{"limit zero", "GET", "/api/v1/support/webhooks?limit=0", "", "", 400, "limit", ""},
		{"limit not a number", "GET", "/api/v1/support/webhooks?limit=many", "", "", 400, "limit", ""},
		{"limit at max", "GET", "/api/v1/support/webhooks?limit=500", "", "", 200, "", ""},
		{"support unlink of no link", "DELETE", "/api/v1/support/persons/t-0002/links", "", "", 404, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, b.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+token)
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			if c.status < 400 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var p map[string]any
			if err := json.Unmarshal(body, &p); err != nil || (c.field != "" && p["field"] != c.field) || p["status"] != float64(c.status) {
				t.Errorf("problem: %s", body)
			}
			if c.notIn != "" && strings.Contains(string(body), c.notIn) {
				t.Errorf("problem mentions %q: %s", c.notIn, body)
			}
		})
	}
}

// TestAPIDocsServed: the broker serves its spec as built in, and a page
// that renders it with the vendored Swagger UI under a CSP that allows its
// own scripts only; no token is needed for either.
func TestAPIDocsServed(t *testing.T) {
	b := startBroker(t, true, nil)
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(b.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get("/api/v1/openapi.yaml")
	if resp.StatusCode != 200 || body != string(api.OpenAPI) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("spec: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = get("/api/v1/docs")
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(body, `src="/static/apidocs/swagger-ui-bundle.js"`) ||
		!strings.Contains(body, `href="/api/v1/openapi.yaml"`) || !strings.Contains(body, `lang="ru"`) {
		t.Fatalf("docs page: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
		t.Errorf("docs CSP %q", csp)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") {
		t.Errorf("inline script or style on the docs page")
	}
	for _, asset := range []string{"/static/apidocs/swagger-ui-bundle.js", "/static/apidocs/swagger-ui.css", "/static/apidocs/apidocs.js", "/static/apidocs/LICENSE"} {
		if resp, _ := get(asset); resp.StatusCode != 200 {
			t.Errorf("%s: %d", asset, resp.StatusCode)
		}
	}
	// Every other page keeps the strict policy: no script at all.
	resp, _ = get("/api/v1/roster/persons/x/links")
	if strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("API CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
}

// TestAPIDocsInChromium renders /api/v1/docs in Chromium with JavaScript
// on: the vendored Swagger UI draws the operations of the spec under the
// page's CSP, and the browser reports no violation of it.
func TestAPIDocsInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	// A DevTools script is exempt from the page's CSP: it records violations.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(b.URL+"/api/v1/docs"), chromedp.WaitVisible(chromedp.CSS(`#operations-roster-importRoster, .opblock`)))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#swagger-ui")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "/api/v1/roster/persons/{id}") || !strings.Contains(text, "ESIA account-linking broker") {
		t.Fatalf("docs page text: %.500s", text)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) > 0 {
		t.Errorf("CSP violations on /api/v1/docs: %v", violations)
	}
	screenshot(t, ctx, "api-docs")
}
