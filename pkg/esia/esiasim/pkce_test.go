package esiasim_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestPKCE(t *testing.T) {
	if challengeOf(verifier) != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatal("RFC 7636 appendix B example")
	}
	tests := []struct {
		name      string
		ac        func(q url.Values) // PKCE parameters of the authorization request
		acCode    string             // error at v2/ac
		verifier  func(f url.Values) // code_verifier at v3/te
		teCode    string             // error at v3/te
		reusedBad bool               // after a failed verifier the code is burnt
	}{
		{name: "no PKCE at all"},
		{name: "S256", ac: withChallenge(challengeOf(verifier), "S256"), verifier: withVerifier(verifier)},
		{name: "S256 without method", ac: withChallenge(challengeOf(verifier), ""), verifier: withVerifier(verifier)},
		{name: "plain refused", ac: withChallenge(verifier, "plain"), acCode: "ESIA-007039"},
		{name: "unknown method", ac: withChallenge(challengeOf(verifier), "S512"), acCode: "ESIA-007039"},
		{name: "challenge not a SHA-256", ac: withChallenge("abc", "S256"), acCode: "ESIA-007039"},
		{name: "challenge padded", ac: withChallenge(challengeOf(verifier)+"=", "S256"), acCode: "ESIA-007039"},
		{name: "method without challenge", ac: withChallenge("", "S256"), acCode: "ESIA-007039"},
		{name: "verifier missing", ac: withChallenge(challengeOf(verifier), "S256"), teCode: "ESIA-007040"},
		{name: "verifier wrong", ac: withChallenge(challengeOf(verifier), "S256"),
			verifier: withVerifier(strings.Repeat("a", 43)), teCode: "ESIA-007040", reusedBad: true},
		{name: "verifier too short", ac: withChallenge(challengeOf("short"), "S256"), verifier: withVerifier("short"), teCode: "ESIA-007040"},
		{name: "verifier with a bad character", ac: withChallenge(challengeOf(verifier[:42]+"+"), "S256"),
			verifier: withVerifier(verifier[:42] + "+"), teCode: "ESIA-007040"},
		{name: "verifier without challenge", verifier: withVerifier(verifier), teCode: "ESIA-007040"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			q := e.acParams(scopeBasic)
			q.Set("sim_person", "1000100001")
			if tc.ac != nil {
				tc.ac(q)
			}
			cb := callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
			if got := errCode(cb.Get("error_description")); got != tc.acCode {
				t.Fatalf("v2/ac: code %q (%s), want %q", got, cb.Get("error_description"), tc.acCode)
			}
			if tc.acCode != "" {
				if cb.Get("error") != "invalid_request" {
					t.Errorf("error %q", cb.Get("error"))
				}
				return
			}
			f := e.teParams(cb.Get("code"), scopeBasic)
			if tc.verifier != nil {
				tc.verifier(f)
			}
			status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", f))
			if tc.teCode == "" {
				if status != http.StatusOK {
					t.Fatalf("v3/te: %d %s", status, tj.ErrorDescription)
				}
				return
			}
			if status != http.StatusBadRequest || errCode(tj.ErrorDescription) != tc.teCode || tj.Error != "invalid_grant" {
				t.Fatalf("v3/te: %d %s %s, want %s", status, tj.Error, tj.ErrorDescription, tc.teCode)
			}
			if tc.reusedBad {
				f.Set("code_verifier", verifier)
				if _, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", f)); errCode(tj.ErrorDescription) != "ESIA-007011" {
					t.Fatalf("code reused after a wrong verifier: %s", tj.ErrorDescription)
				}
			}
		})
	}
}

func withChallenge(cc, method string) func(url.Values) {
	return func(q url.Values) {
		if cc != "" {
			q.Set("code_challenge", cc)
		}
		if method != "" {
			q.Set("code_challenge_method", method)
		}
	}
}

func withVerifier(v string) func(url.Values) { return func(f url.Values) { f.Set("code_verifier", v) } }

// A refresh grant carries no PKCE.
func TestPKCERefresh(t *testing.T) {
	e := newEnv(t)
	q := e.acParams(scopeBasic)
	q.Set("sim_person", "1000100001")
	q.Set("access_type", "offline")
	withChallenge(challengeOf(verifier), "S256")(q)
	cb := callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
	f := e.teParams(cb.Get("code"), scopeBasic)
	f.Set("code_verifier", verifier)
	_, first := decodeToken(t, e.postForm("/aas/oauth2/v3/te", f))
	if first.RefreshToken == "" {
		t.Fatalf("no refresh token: %s", first.ErrorDescription)
	}
	ts := e.clock.Now().Format("2006.01.02 15:04:05 -0700")
	r := url.Values{
		"client_id": {clientID}, "refresh_token": {first.RefreshToken}, "grant_type": {"refresh_token"},
		"client_certificate_hash": {e.hash}, "state": {stateA}, "redirect_uri": {redirect},
		"scope": {scopeBasic}, "timestamp": {ts}, "token_type": {"Bearer"},
		"client_secret": {sign(keys().client, clientID+scopeBasic+ts+stateA+redirect)},
	}
	if status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", r)); status != http.StatusOK {
		t.Fatalf("refresh: %d %s", status, tj.ErrorDescription)
	}
}
