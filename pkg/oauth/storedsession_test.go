package oauth_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// perToken are the ID token claims that differ from one token of a grant
// to the next.
var perToken = map[string]bool{"iat": true, "exp": true, "jti": true, "at_hash": true, "c_hash": true, "nonce": true, "rat": true}

// TestStoredGrantLeavesOutDerivedClaims: the grant a login writes keeps
// the broker's claims once — its session's ID token claims carry no
// "ext" (Session.storedForm) — and every ID token a rotation issues from
// it still carries the same claims as the exchange's (the broker's
// claims, names under the profile scope). On memory and PostgreSQL.
func TestStoredGrantLeavesOutDerivedClaims(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			provider, err := oidc.NewProvider(ctx, h.srv.URL)
			must(t, err)
			verifier := provider.Verifier(&oidc.Config{ClientID: "diary"})
			claimsOf := func(tok *oauth2.Token) map[string]any {
				t.Helper()
				raw, _ := tok.Extra("id_token").(string)
				idt, err := verifier.Verify(ctx, raw)
				must(t, err)
				var c map[string]any
				must(t, idt.Claims(&c))
				for k := range perToken {
					delete(c, k)
				}
				return c
			}
			tok := h.login(t)
			want := claimsOf(tok)
			// The exchange's ID token comes from a code stored without
			// ext too: hold it to the person's claims themselves.
			for k, v := range h.claims.Map(true) {
				if k == "sub" {
					continue
				}
				w, err := json.Marshal(v)
				must(t, err)
				g, err := json.Marshal(want[k])
				must(t, err)
				if string(g) != string(w) {
					t.Errorf("the exchange's ID token: %s = %s, want %s", k, g, w)
				}
			}
			if want["family_name"] != "Иванова" || want["sub"] == nil {
				t.Fatalf("the exchange's ID token lacks the profile claims: %v", want)
			}

			g, err := h.store.GetOAuthGrant(ctx, grantOf(t, tok.RefreshToken))
			must(t, err)
			var stored struct {
				Session struct {
					IDTokenClaims map[string]json.RawMessage `json:"id_token_claims"`
					Broker        map[string]any             `json:"broker_claims"`
				} `json:"session"`
			}
			must(t, json.Unmarshal(g.Data, &stored))
			if ext := string(stored.Session.IDTokenClaims["ext"]); ext != "null" {
				t.Fatalf("the grant's session repeats its broker claims as ext: %s", ext)
			}
			if stored.Session.Broker["person_id"] != "t-0001" {
				t.Fatalf("the grant's session lost its broker claims: %v", stored.Session.Broker)
			}

			for i := range 2 {
				tok.Expiry = time.Now().Add(-time.Minute)
				h.clock.Advance(time.Minute)
				next, err := h.config().TokenSource(ctx, tok).Token()
				must(t, err)
				if got := claimsOf(next); !reflect.DeepEqual(got, want) {
					t.Fatalf("rotation %d: ID token claims\n%v\nwant (the exchange's)\n%v", i+1, got, want)
				}
				tok = next
			}
		})
	}
}
