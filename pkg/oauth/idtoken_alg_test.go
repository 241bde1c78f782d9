package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// TestIDTokenAlgorithmPerClient: a client registered with RS256 gets ID
// tokens signed with the RSA key, at the code exchange and at a refresh,
// which go-oidc verifies through the JWKS with RS256 alone; a client
// without a choice keeps ES256; discovery offers both. On memory and
// PostgreSQL: the choice is a stored field, the keys are stored keys.
func TestIDTokenAlgorithmPerClient(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testIDTokenAlg(t, be.mk(t)) })
	}
}

func testIDTokenAlg(t *testing.T, h *harness) {
	ctx := context.Background()
	must(t, h.store.CreateClient(ctx, store.Client{ID: "spring", TenantID: "demo", SecretHash: oauth.HashSecret("s3cret"),
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile"}, IDTokenAlg: store.AlgRS256}))
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	var meta struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	must(t, provider.Claims(&meta))
	if !slices.Equal(meta.Algs, []string{"ES256", "RS256"}) {
		t.Fatalf("id_token_signing_alg_values_supported = %v", meta.Algs)
	}
	for _, tc := range []struct{ client, alg string }{{"spring", "RS256"}, {"diary", "ES256"}} {
		t.Run(tc.client, func(t *testing.T) {
			cfg := h.config()
			cfg.ClientID = tc.client
			v := oauth2.GenerateVerifier()
			q := h.authorize(t, cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oidc.Nonce("nonce-12345678")))
			tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			must(t, err)
			// Only this algorithm: a token of the other one is refused.
			verifier := provider.Verifier(&oidc.Config{ClientID: tc.client, SupportedSigningAlgs: []string{tc.alg}})
			raw := tok.Extra("id_token").(string)
			if alg := headerAlg(t, raw); alg != tc.alg {
				t.Fatalf("alg %s, want %s", alg, tc.alg)
			}
			idt, err := verifier.Verify(ctx, raw)
			must(t, err)
			if idt.Subject != "pairwise-sub" || idt.Nonce != "nonce-12345678" {
				t.Fatalf("id token %+v", idt)
			}
			// The refreshed ID token is signed the same way.
			tok.Expiry = tok.Expiry.Add(-2 * tok.Expiry.Sub(h.clock.Now()))
			fresh, err := cfg.TokenSource(ctx, tok).Token()
			must(t, err)
			raw, _ = fresh.Extra("id_token").(string)
			if raw == "" || headerAlg(t, raw) != tc.alg {
				t.Fatalf("refreshed id token %q", raw)
			}
			_, err = verifier.Verify(ctx, raw)
			must(t, err)
		})
	}
}

func headerAlg(t *testing.T, jwt string) string {
	t.Helper()
	head, _, _ := strings.Cut(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	must(t, err)
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	must(t, json.Unmarshal(b, &h))
	if h.Kid == "" {
		t.Fatal("no kid")
	}
	return h.Alg
}
