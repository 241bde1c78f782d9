package oauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestPromptLoginAndMaxAge: prompt=login and max_age are held against
// ESIA's auth_time and the time the broker received the request — not the
// time the request is rebuilt after the person's minutes at ESIA. A fresh
// ESIA authentication gets the code, with auth_time as ESIA said; one
// older than they allow (ESIA reused its session) gets login_required by
// redirect, and no code.
func TestPromptLoginAndMaxAge(t *testing.T) {
	const atESIA = 2 * time.Minute
	tests := []struct {
		name     string
		params   map[string]string
		authTime func(done time.Time) time.Time // ESIA's auth_time given when the login completes
		wantErr  string
	}{
		{"prompt=login, fresh", map[string]string{"prompt": "login"}, func(done time.Time) time.Time { return done.Add(-time.Minute) }, ""},
		{"prompt=login, ESIA's earlier session", map[string]string{"prompt": "login"}, func(done time.Time) time.Time { return done.Add(-atESIA - time.Minute) }, "login_required"},
		{"max_age=600, ten-minute-old session", map[string]string{"max_age": "600"}, func(done time.Time) time.Time { return done.Add(-atESIA - 9*time.Minute) }, ""},
		{"max_age=60, ten-minute-old session", map[string]string{"max_age": "60"}, func(done time.Time) time.Time { return done.Add(-atESIA - 9*time.Minute) }, "login_required"},
		{"max_age=0, fresh", map[string]string{"max_age": "0"}, func(done time.Time) time.Time { return done.Add(-time.Minute) }, ""},
		{"max_age=0, ESIA's earlier session", map[string]string{"max_age": "0"}, func(done time.Time) time.Time { return done.Add(-atESIA - time.Second) }, "login_required"},
		{"no prompt, hour-old session", nil, func(done time.Time) time.Time { return done.Add(-time.Hour) }, ""},
		{"prompt=consent select_account", map[string]string{"prompt": "consent select_account"}, func(done time.Time) time.Time { return done.Add(-time.Hour) }, ""},
	}
	h := newHarness(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	verifier := provider.Verifier(&oidc.Config{ClientID: "diary"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The request is received atESIA ago; the login completes now.
			h.clock.Advance(-atESIA)
			h.atESIA = atESIA
			var esiaAuth time.Time
			h.authTime = func(done time.Time) time.Time { esiaAuth = tc.authTime(done); return esiaAuth }
			v := oauth2.GenerateVerifier()
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v), oidc.Nonce("nonce-12345678")}
			for k, val := range tc.params {
				opts = append(opts, oauth2.SetAuthURLParam(k, val))
			}
			q := h.authorize(t, h.config().AuthCodeURL("state-12345678", opts...))
			if q.Get("error") != tc.wantErr {
				t.Fatalf("redirect %v, want error %q", q, tc.wantErr)
			}
			if tc.wantErr != "" {
				if q.Get("code") != "" || q.Get("state") != "state-12345678" {
					t.Fatalf("redirect %v", q)
				}
				return
			}
			tok, err := h.config().Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			must(t, err)
			idt, err := verifier.Verify(ctx, tok.Extra("id_token").(string))
			must(t, err)
			var claims struct {
				AuthTime int64 `json:"auth_time"`
				RAT      int64 `json:"rat"`
			}
			must(t, idt.Claims(&claims))
			if claims.AuthTime != esiaAuth.Unix() {
				t.Fatalf("auth_time %d, want ESIA's %d", claims.AuthTime, esiaAuth.Unix())
			}
			if want := h.clock.Now().Add(-atESIA).Unix(); claims.RAT < want-1 || claims.RAT > want+1 {
				t.Fatalf("rat %d, want the request's time %d", claims.RAT, want)
			}
		})
	}
}
