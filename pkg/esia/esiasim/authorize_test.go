package esiasim_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

const scopeBasic = "openid fullname birthdate snils"

// TestAuthorizeChecks runs v2/ac's checks with GOST client secrets (what
// ESIA takes) and with RSA ones (the simulator's legacy mode).
func TestAuthorizeChecks(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) { testAuthorizeChecks(t, k) })
	}
}

func testAuthorizeChecks(t *testing.T, k clientKeys) {
	e := newEnvKeys(t, k)
	sha1Hash := func() string {
		s := sha1.Sum(k.clientCert)
		return strings.ToUpper(hex.EncodeToString(s[:]))
	}()
	tests := []struct {
		name   string
		mutate func(q url.Values)
		page   bool   // answered with a page, not redirected
		code   string // ESIA code expected; "" for success
		detail string // further text the page must show
	}{
		{name: "valid", mutate: func(url.Values) {}},
		{name: "padded secret accepted", mutate: func(q url.Values) {
			raw, _ := base64.RawURLEncoding.DecodeString(q.Get("client_secret"))
			q.Set("client_secret", base64.URLEncoding.EncodeToString(raw))
		}},
		{name: "missing client_id", page: true, code: "ESIA-007014", mutate: func(q url.Values) { q.Del("client_id") }},
		{name: "unknown client_id", page: true, code: "ESIA-008010", mutate: func(q url.Values) { q.Set("client_id", "NOSUCH") }},
		{name: "missing redirect_uri", page: true, code: "ESIA-007014", mutate: func(q url.Values) { q.Del("redirect_uri") }},
		{name: "unregistered redirect_uri", page: true, code: "ESIA-007023", detail: "got https://evil.example/cb, registered " + redirect, mutate: func(q url.Values) {
			q.Set("redirect_uri", "https://evil.example/cb")
			k.resign(q)
		}},
		{name: "redirect_uri with extra path", page: true, code: "ESIA-007023", mutate: func(q url.Values) {
			q.Set("redirect_uri", redirect+"/x")
			k.resign(q)
		}},
		{name: "response_type token", code: "ESIA-007012", mutate: func(q url.Values) { q.Set("response_type", "token") }},
		{name: "missing state", code: "ESIA-007014", mutate: func(q url.Values) { q.Del("state") }},
		{name: "state not a UUID", code: "ESIA-007003", mutate: func(q url.Values) { q.Set("state", "not-a-uuid"); k.resign(q) }},
		{name: "missing timestamp", code: "ESIA-007014", mutate: func(q url.Values) { q.Del("timestamp") }},
		{name: "stale timestamp", code: "ESIA-007015", mutate: func(q url.Values) {
			q.Set("timestamp", today.Add(-5*time.Minute-time.Second).Format(esiasim.TimestampLayout))
			k.resign(q)
		}},
		{name: "timestamp 5 minutes old accepted", mutate: func(q url.Values) {
			q.Set("timestamp", today.Add(-5*time.Minute).Format(esiasim.TimestampLayout))
			k.resign(q)
		}},
		{name: "future timestamp", code: "ESIA-007015", mutate: func(q url.Values) {
			q.Set("timestamp", today.Add(6*time.Minute).Format(esiasim.TimestampLayout))
			k.resign(q)
		}},
		{name: "timestamp in another zone", mutate: func(q url.Values) {
			q.Set("timestamp", today.UTC().Format(esiasim.TimestampLayout))
			k.resign(q)
		}},
		{name: "timestamp layout wrong", code: "ESIA-007015", mutate: func(q url.Values) {
			q.Set("timestamp", today.Format(time.RFC3339))
			k.resign(q)
		}},
		{name: "empty scope", code: "ESIA-007013", mutate: func(q url.Values) { q.Set("scope", ""); k.resign(q) }},
		{name: "unknown scope", code: "ESIA-007006", mutate: func(q url.Values) { q.Set("scope", "openid passwords"); k.resign(q) }},
		{name: "scope not allowed to client", code: "ESIA-007006", mutate: func(q url.Values) { q.Set("scope", "openid medical_doc"); k.resign(q) }},
		{name: "missing certificate hash", code: "ESIA-007014", mutate: func(q url.Values) { q.Del("client_certificate_hash") }},
		{name: "SHA-1 thumbprint as certificate hash", code: "ESIA-007053", mutate: func(q url.Values) { q.Set("client_certificate_hash", sha1Hash) }},
		{name: "hash of another certificate", code: "ESIA-007002", mutate: func(q url.Values) {
			q.Set("client_certificate_hash", strings.Repeat("AB", 32))
		}},
		{name: "lower-case hash accepted", mutate: func(q url.Values) {
			q.Set("client_certificate_hash", strings.ToLower(q.Get("client_certificate_hash")))
		}},
		{name: "missing client_secret", code: "ESIA-007014", mutate: func(q url.Values) { q.Del("client_secret") }},
		{name: "v1-ordered message", code: "ESIA-007053", mutate: func(q url.Values) {
			q.Set("client_secret", sign(k.client, q.Get("scope")+q.Get("timestamp")+q.Get("client_id")+q.Get("state")))
		}},
		{name: "signed by another key", code: "ESIA-007053", mutate: func(q url.Values) {
			q.Set("client_secret", sign(k.other, clientID+q.Get("scope")+q.Get("timestamp")+q.Get("state")+redirect))
		}},
		{name: "secret not base64url", code: "ESIA-007053", mutate: func(q url.Values) { q.Set("client_secret", "a+b/c") }},
		{name: "scope changed after signing", code: "ESIA-007053", mutate: func(q url.Values) { q.Set("scope", "openid fullname") }},
		{name: "scope_org signed after scope", mutate: func(q url.Values) { q.Set("scope_org", "org_shortname"); k.resign(q) }},
		{name: "bad access_type", code: "ESIA-007003", mutate: func(q url.Values) { q.Set("access_type", "forever") }},
		{name: "sim_error", code: "ESIA-007055", mutate: func(q url.Values) { q.Set("sim_error", "ESIA-007055") }},
		{name: "fixture flag error", code: "ESIA-007004", mutate: func(q url.Values) { q.Set("sim_person", "1000100016") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := e.acParams(scopeBasic)
			q.Set("sim_person", "1000100001")
			tc.mutate(q)
			resp := e.get("/aas/oauth2/v2/ac", q, "")
			if tc.page {
				b := body(t, resp)
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, tc.code) {
					t.Fatalf("status %d, want 400 page with %s", resp.StatusCode, tc.code)
				}
				if !strings.Contains(b, tc.detail) {
					t.Fatalf("page lacks %q:\n%s", tc.detail, b)
				}
				if resp.Header.Get("Location") != "" {
					t.Fatal("redirected to an unchecked redirect_uri")
				}
				return
			}
			cb := callback(t, resp)
			if got := errCode(cb.Get("error_description")); got != tc.code {
				t.Fatalf("error code %q (%s), want %q", got, cb.Get("error_description"), tc.code)
			}
			if tc.code == "" && cb.Get("code") == "" {
				t.Fatal("no code")
			}
			if q.Get("state") != "" && cb.Get("state") != q.Get("state") {
				t.Fatalf("state %q not echoed", cb.Get("state"))
			}
		})
	}
}

func TestLoginPage(t *testing.T) {
	e := newEnv(t)
	resp := e.get("/aas/oauth2/v2/ac", e.acParams(scopeBasic), "")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`lang="ru"`, "Кузнецова Алиса Андреевна", "10 лет", "детская учётная запись",
		`name="person" value="1000100003"`, `action="` + e.base + `/aas/oauth2/v2/ac"`, "СНИЛС", `value="refuse"`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("login page must work without JavaScript")
	}
	reqID := between(page, `name="request" value="`, `"`)

	t.Run("choose a person", func(t *testing.T) {
		cb := callback(t, e.postForm("/aas/oauth2/v2/ac", url.Values{"request": {reqID}, "person": {"1000100003"}}))
		if cb.Get("code") == "" || cb.Get("state") != stateA {
			t.Fatalf("callback %v", cb)
		}
	})
	t.Run("request is single-use", func(t *testing.T) {
		resp := e.postForm("/aas/oauth2/v2/ac", url.Values{"request": {reqID}, "person": {"1000100003"}})
		if b := body(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "устарел") {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("refuse", func(t *testing.T) {
		page := body(t, e.get("/aas/oauth2/v2/ac", e.acParams(scopeBasic), ""))
		id := between(page, `name="request" value="`, `"`)
		cb := callback(t, e.postForm("/aas/oauth2/v2/ac", url.Values{"request": {id}, "decision": {"refuse"}}))
		if errCode(cb.Get("error_description")) != "ESIA-007004" || cb.Get("error") != "access_denied" || cb.Get("state") != stateA {
			t.Fatalf("callback %v", cb)
		}
	})
	t.Run("page request expires", func(t *testing.T) {
		page := body(t, e.get("/aas/oauth2/v2/ac", e.acParams(scopeBasic), ""))
		id := between(page, `name="request" value="`, `"`)
		e.clock.Advance(16 * time.Minute)
		resp := e.postForm("/aas/oauth2/v2/ac", url.Values{"request": {id}, "person": {"1000100001"}})
		body(t, resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
}

func TestSimPersonUnknown(t *testing.T) {
	e := newEnv(t)
	q := e.acParams(scopeBasic)
	q.Set("sim_person", "999")
	resp := e.get("/aas/oauth2/v2/ac", q, "")
	body(t, resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		q      url.Values
		status int
	}{
		{"back to the client", url.Values{"client_id": {clientID}, "redirect_url": {"https://diary.example/"}}, http.StatusFound},
		{"foreign redirect", url.Values{"client_id": {clientID}, "redirect_url": {"https://evil.example/"}}, http.StatusBadRequest},
		{"unknown client", url.Values{"client_id": {"X"}, "redirect_url": {"https://diary.example/"}}, http.StatusBadRequest},
		{"no redirect", url.Values{"client_id": {clientID}}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.get("/idp/ext/Logout", tc.q, "")
			body(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}
