package oauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// TestPKCEPolicyPerClient: PKCE stays required by default; a confidential
// client registered with PKCE optional may log in without it when it sends
// a nonce (RFC 9700 §2.1.1), never with neither, never with plain, and a
// code issued with a challenge still needs its verifier. On memory and
// PostgreSQL, since the policy is a stored field of the client.
func TestPKCEPolicyPerClient(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testPKCEPolicy(t, be.mk(t)) })
	}
}

func testPKCEPolicy(t *testing.T, h *harness) {
	ctx := context.Background()
	must(t, h.store.CreateClient(ctx, store.Client{ID: "apache", TenantID: "demo", SecretHash: oauth.HashSecret("s3cret"),
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile"}, PKCE: store.PKCEOptional}))
	optional := h.config()
	optional.ClientID = "apache"
	required := h.config()
	v := oauth2.GenerateVerifier()
	nonce := oidc.Nonce("nonce-12345678")
	plain := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", v[:43]), oauth2.SetAuthURLParam("code_challenge_method", "plain")}
	tests := []struct {
		name    string
		cfg     *oauth2.Config
		opts    []oauth2.AuthCodeOption
		wantErr string // error of the redirect; "" for a code
	}{
		{"optional: nonce instead of PKCE", optional, []oauth2.AuthCodeOption{nonce}, ""},
		{"optional: PKCE without nonce", optional, []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}, ""},
		{"optional: neither PKCE nor nonce", optional, nil, "invalid_request"},
		{"optional: plain", optional, append([]oauth2.AuthCodeOption{nonce}, plain...), "invalid_request"},
		{"required: nonce only", required, []oauth2.AuthCodeOption{nonce}, "invalid_request"},
		{"required: plain", required, append([]oauth2.AuthCodeOption{nonce}, plain...), "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := h.authorize(t, tc.cfg.AuthCodeURL("state-12345678", tc.opts...))
			if q.Get("error") != tc.wantErr || (tc.wantErr == "") != (q.Get("code") != "") {
				t.Fatalf("redirect %v, want error %q", q, tc.wantErr)
			}
		})
	}

	// Without PKCE: the code is redeemed without a verifier, and the ID
	// token carries the nonce the client checks.
	q := h.authorize(t, optional.AuthCodeURL("state-12345678", nonce))
	tok, err := optional.Exchange(ctx, q.Get("code"))
	must(t, err)
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "apache"}).Verify(ctx, tok.Extra("id_token").(string))
	must(t, err)
	if idt.Nonce != "nonce-12345678" {
		t.Fatalf("nonce %q", idt.Nonce)
	}

	// With PKCE: the verifier is still checked.
	q = h.authorize(t, optional.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)))
	_, err = optional.Exchange(ctx, q.Get("code"))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("code issued with a challenge, redeemed without its verifier: %v", err)
	}
}
