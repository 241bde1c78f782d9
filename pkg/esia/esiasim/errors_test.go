package esiasim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// onDemand are the codes every error test asks for: each known one, a
// Digital Profile consent error and a code the simulator has no name for.
func onDemand() []string {
	return append(esiasim.Codes(), "ESIA-036701", "ESIA-007099")
}

// TestErrorsOnDemand: every ESIA error code can be produced at the
// authorization endpoint (sim_error) and at the token endpoint
// (sim_token_error), with ESIA's error shape.
func TestErrorsOnDemand(t *testing.T) {
	if n := len(esiasim.Codes()); n < 21 {
		t.Fatalf("%d named codes", n)
	}
	e := newEnv(t)
	for _, code := range onDemand() {
		t.Run(code, func(t *testing.T) {
			q := e.acParams(scopeBasic)
			q.Set("sim_person", "1000100001")
			q.Set("sim_error", code)
			cb := callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
			desc := cb.Get("error_description")
			if errCode(desc) != code || cb.Get("error") == "" || cb.Get("state") != stateA || len(desc) <= len(code)+2 {
				t.Fatalf("ac: %v", cb)
			}

			q = e.acParams(scopeBasic)
			q.Set("sim_person", "1000100001")
			q.Set("sim_token_error", code)
			cb = callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
			if cb.Get("code") == "" {
				t.Fatalf("sim_token_error must not stop the authorization: %v", cb)
			}
			status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(cb.Get("code"), scopeBasic)))
			if status != http.StatusBadRequest || errCode(tj.ErrorDescription) != code || tj.Error == "" || tj.AccessToken != "" {
				t.Fatalf("te: %d %+v", status, tj)
			}
		})
	}
	t.Run("OAuth error names", func(t *testing.T) {
		for code, want := range map[string]string{"ESIA-007004": "access_denied", "ESIA-007008": "temporarily_unavailable",
			"ESIA-007039": "invalid_request", "ESIA-007040": "invalid_grant", "ESIA-007053": "invalid_client", "ESIA-036701": "invalid_request"} {
			q := e.acParams(scopeBasic)
			q.Set("sim_error", code)
			if got := callback(t, e.get("/aas/oauth2/v2/ac", q, "")).Get("error"); got != want {
				t.Errorf("%s: error %q, want %q", code, got, want)
			}
		}
	})
	t.Run("Digital Profile description", func(t *testing.T) {
		q := e.acParams(scopeBasic)
		q.Set("sim_error", "ESIA-036701")
		if d := callback(t, e.get("/aas/oauth2/v2/ac", q, "")).Get("error_description"); !strings.Contains(d, "Digital Profile") {
			t.Errorf("description %q", d)
		}
	})
	for _, param := range []string{"sim_error", "sim_token_error"} {
		t.Run("malformed "+param, func(t *testing.T) {
			q := e.acParams(scopeBasic)
			q.Set(param, "oops")
			if got := errCode(callback(t, e.get("/aas/oauth2/v2/ac", q, "")).Get("error_description")); got != "ESIA-007003" {
				t.Fatalf("code %q", got)
			}
		})
	}
}

// TestFixtureErrorFlags: the persons flagged with sim.error end in that
// error at once; the one with sim.tokenError passes the page and fails at
// the exchange; the legacy endpoints honour both.
func TestFixtureErrorFlags(t *testing.T) {
	e := newEnv(t)
	for oid, code := range map[string]string{"1000100016": "ESIA-007004", "1000100034": "ESIA-007055", "1000100035": "ESIA-007008"} {
		q := e.acParams(scopeBasic)
		q.Set("sim_person", oid)
		if got := errCode(callback(t, e.get("/aas/oauth2/v2/ac", q, "")).Get("error_description")); got != code {
			t.Errorf("%s: %q, want %s", oid, got, code)
		}
	}
	// Chosen on the login page, as a tester would.
	page := body(t, e.get("/aas/oauth2/v2/ac", e.acParams(scopeBasic), ""))
	id := between(page, `name="request" value="`, `"`)
	cb := callback(t, e.postForm("/aas/oauth2/v2/ac", url.Values{"request": {id}, "person": {"1000100036"}}))
	if cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}
	status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(cb.Get("code"), scopeBasic)))
	if status != http.StatusBadRequest || errCode(tj.ErrorDescription) != "ESIA-007007" || tj.Error != "server_error" {
		t.Fatalf("te: %d %+v", status, tj)
	}
	// sim_token_error on the URL wins over the person's flag.
	q := e.acParams(scopeBasic)
	q.Set("sim_person", "1000100036")
	q.Set("sim_token_error", "ESIA-007011")
	cb = callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
	if _, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(cb.Get("code"), scopeBasic))); errCode(tj.ErrorDescription) != "ESIA-007011" {
		t.Fatalf("te: %+v", tj)
	}

	cl := v1Clients()[0]
	e1 := newEnv(t, withCert(cl.cert))
	q = e1.v1AC(scopeBasic, cl.good[0])
	q.Set("sim_person", "1000100036")
	q.Set("client_secret", cl.good[0](t, v1Message(q)))
	cb = callback(t, e1.get("/aas/oauth2/ac", q, ""))
	if _, tj := decodeToken(t, e1.postForm("/aas/oauth2/te", e1.v1TE(cb.Get("code"), scopeBasic, cl.good[0]))); errCode(tj.ErrorDescription) != "ESIA-007007" {
		t.Fatalf("v1 te: %+v", tj)
	}
}

func TestLoadPersonsTokenError(t *testing.T) {
	if _, err := esiasim.LoadPersons(strings.NewReader(`[{"oid":"1","lvl":"PR","sim":{"tokenError":"oops"}}]`)); err == nil {
		t.Fatal("malformed sim.tokenError accepted")
	}
}
