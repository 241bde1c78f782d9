package esiasim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestTokenExchange(t *testing.T) {
	e := newEnv(t)
	code := e.authorize("1000100003", scopeBasic, "online")
	status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(code, scopeBasic)))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, tj.ErrorDescription)
	}
	if tj.State != stateB || tj.TokenType != "Bearer" || tj.ExpiresIn != 3600 || tj.RefreshToken != "" {
		t.Fatalf("answer %+v", tj)
	}
	at := claims(t, tj.AccessToken)
	want := map[string]any{
		"iss": e.base + "/", "client_id": clientID, "urn:esia:sbj_id": json.Number("1000100003"),
		"scope": "openid fullname?oid=1000100003 birthdate?oid=1000100003 snils?oid=1000100003",
		"iat":   json.Number("1795503600"), "nbf": json.Number("1795503600"), "exp": json.Number("1795507200"),
	}
	for k, v := range want {
		if at[k] != v {
			t.Errorf("access token %s = %v, want %v", k, at[k], v)
		}
	}
	if at["urn:esia:sid"] == "" {
		t.Error("no urn:esia:sid")
	}
	id := claims(t, tj.IDToken)
	sbj, _ := id["urn:esia:sbj"].(map[string]any)
	if id["aud"] != clientID || id["sub"] != json.Number("1000100003") || sbj["urn:esia:sbj:lvl"] != "KD" {
		t.Errorf("id token %v", id)
	}
	if _, ok := sbj["urn:esia:sbj:is_tru"]; ok {
		t.Error("is_tru present for an unconfirmed (child) account")
	}
	confirmed := claims(t, e.login("1000100001", scopeBasic).IDToken)["urn:esia:sbj"].(map[string]any)
	if confirmed["urn:esia:sbj:is_tru"] != true || confirmed["urn:esia:sbj:lvl"] != "PR" {
		t.Errorf("confirmed sbj %v", confirmed)
	}
}

// TestTokenChecks runs v3/te's checks with GOST client secrets (what ESIA
// takes) and with RSA ones (the simulator's legacy mode).
func TestTokenChecks(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) { testTokenChecks(t, k) })
	}
}

func testTokenChecks(t *testing.T, k clientKeys) {
	tests := []struct {
		name string
		// before runs before the request (e.g. advancing the clock); form
		// mutates the valid form.
		before func(e *env, code string)
		form   func(f url.Values)
		code   string
	}{
		{name: "valid"},
		{name: "code reused", before: func(e *env, code string) {
			resp := e.postForm("/aas/oauth2/v3/te", e.teParams(code, scopeBasic))
			body(e.t, resp)
			if resp.StatusCode != http.StatusOK {
				e.t.Fatalf("first exchange %d", resp.StatusCode)
			}
		}, code: "ESIA-007011"},
		{name: "code 239 s old", before: func(e *env, _ string) { e.clock.Advance(239 * time.Second) }},
		{name: "code 241 s old", before: func(e *env, _ string) { e.clock.Advance(241 * time.Second) }, code: "ESIA-007011"},
		{name: "unknown code", form: func(f url.Values) { k.resignTE(f, "eyJ.bogus.code") }, code: "ESIA-007011"},
		{name: "missing code", form: func(f url.Values) { f.Del("code") }, code: "ESIA-007014"},
		{name: "unknown client", form: func(f url.Values) { f.Set("client_id", "NOSUCH") }, code: "ESIA-008010"},
		{name: "unsupported grant", form: func(f url.Values) { f.Set("grant_type", "password") }, code: "ESIA-007009"},
		{name: "client_credentials not allowed", form: func(f url.Values) { f.Set("grant_type", "client_credentials") }, code: "ESIA-007005"},
		{name: "missing token_type", form: func(f url.Values) { f.Del("token_type") }, code: "ESIA-007014"},
		{name: "secret without the code", form: func(f url.Values) {
			f.Set("client_secret", sign(k.client, clientID+f.Get("scope")+f.Get("timestamp")+f.Get("state")+redirect))
		}, code: "ESIA-007053"},
		{name: "SHA-1 certificate hash", form: func(f url.Values) { f.Set("client_certificate_hash", strings.Repeat("A1", 20)) }, code: "ESIA-007053"},
		{name: "stale timestamp", form: func(f url.Values) {
			f.Set("timestamp", today.Add(-6*time.Minute).Format("2006.01.02 15:04:05 -0700"))
			k.resignTE(f, f.Get("code"))
		}, code: "ESIA-007015"},
		{name: "state not a UUID", form: func(f url.Values) { f.Set("state", "123"); k.resignTE(f, f.Get("code")) }, code: "ESIA-007003"},
		{name: "other registered redirect_uri", form: func(f url.Values) { f.Set("redirect_uri", redirect2); k.resignTE(f, f.Get("code")) }, code: "ESIA-007003"},
		{name: "unregistered redirect_uri", form: func(f url.Values) { f.Set("redirect_uri", "https://evil.example/"); k.resignTE(f, f.Get("code")) }, code: "ESIA-007023"},
		{name: "other scope", form: func(f url.Values) { f.Set("scope", "openid fullname"); k.resignTE(f, f.Get("code")) }, code: "ESIA-007006"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvKeys(t, k)
			code := e.authorize("1000100001", scopeBasic, "online")
			if tc.before != nil {
				tc.before(e, code)
			}
			f := e.teParams(code, scopeBasic)
			if tc.form != nil {
				tc.form(f)
			}
			status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", f))
			if tc.code == "" {
				if status != http.StatusOK || tj.AccessToken == "" {
					t.Fatalf("status %d: %s", status, tj.ErrorDescription)
				}
				return
			}
			if status != http.StatusBadRequest || errCode(tj.ErrorDescription) != tc.code {
				t.Fatalf("status %d %q, want 400 %s", status, tj.ErrorDescription, tc.code)
			}
		})
	}
}

// resignTE recomputes the code-grant client_secret after a change.
func (k clientKeys) resignTE(f url.Values, code string) {
	f.Set("code", code)
	f.Set("client_secret", sign(k.client, f.Get("client_id")+f.Get("scope")+f.Get("timestamp")+f.Get("state")+f.Get("redirect_uri")+code))
}

func TestFailedClientAuthKeepsCode(t *testing.T) {
	e := newEnv(t)
	code := e.authorize("1000100001", scopeBasic, "online")
	bad := e.teParams(code, scopeBasic)
	bad.Set("client_secret", sign(keys().other, "x"))
	if status, _ := decodeToken(t, e.postForm("/aas/oauth2/v3/te", bad)); status != http.StatusBadRequest {
		t.Fatalf("status %d", status)
	}
	if status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(code, scopeBasic))); status != http.StatusOK {
		t.Fatalf("status %d %s", status, tj.ErrorDescription)
	}
}

func TestTokenEndpointUnreadable(t *testing.T) {
	e := newEnv(t)
	resp, err := e.http.Post(e.base+"/aas/oauth2/v3/te", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if status, tj := decodeToken(t, resp); status != http.StatusBadRequest || errCode(tj.ErrorDescription) != "ESIA-007038" {
		t.Fatalf("status %d %q", status, tj.ErrorDescription)
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	code := e.authorize("1000100002", scopeBasic, "offline")
	_, first := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(code, scopeBasic)))
	if first.RefreshToken == "" {
		t.Fatal("no refresh token for offline access")
	}
	refresh := func(rt string) (int, tokenJSON) {
		ts := e.clock.Now().Format("2006.01.02 15:04:05 -0700")
		f := url.Values{
			"client_id": {clientID}, "refresh_token": {rt}, "grant_type": {"refresh_token"},
			"client_certificate_hash": {e.hash}, "state": {stateA}, "redirect_uri": {redirect},
			"scope": {scopeBasic}, "timestamp": {ts}, "token_type": {"Bearer"},
			"client_secret": {sign(keys().client, clientID+scopeBasic+ts+stateA+redirect)},
		}
		return decodeToken(t, e.postForm("/aas/oauth2/v3/te", f))
	}
	e.clock.Advance(2 * time.Hour)
	status, second := refresh(first.RefreshToken)
	if status != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.State != stateA {
		t.Fatalf("refresh: %d %+v", status, second)
	}
	if status, tj := refresh(first.RefreshToken); status != http.StatusBadRequest || errCode(tj.ErrorDescription) != "ESIA-007011" {
		t.Fatalf("reused refresh token: %d %q", status, tj.ErrorDescription)
	}
	online := e.login("1000100001", scopeBasic)
	if online.RefreshToken != "" {
		t.Fatal("refresh token issued for online access")
	}
}
