package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/store"
)

var codeKinds = []store.OAuthKind{store.OAuthCode, store.OAuthPKCE, store.OAuthOIDC}

// codeSig is a code's signature, the key of its rows (fosite's HMAC
// strategy: the part after the dot).
func codeSig(t *testing.T, code string) string {
	t.Helper()
	_, sig, ok := strings.Cut(code, ".")
	if !ok {
		t.Fatalf("code %q", code)
	}
	return sig
}

// unfold rewrites a code's single record as the three rows a code issued
// before the sessions were folded has: the code's without the forms, and
// a PKCE and an OpenID row with the code's request and their own form.
func unfold(t *testing.T, st store.Store, sig string) {
	t.Helper()
	ctx := context.Background()
	rec, err := st.GetOAuthRecord(ctx, store.OAuthCode, sig)
	must(t, err)
	var m map[string]json.RawMessage
	must(t, json.Unmarshal(rec.Data, &m))
	var forms map[string]json.RawMessage
	must(t, json.Unmarshal(m["forms"], &forms))
	if forms["pkce"] == nil || forms["oidc"] == nil {
		t.Fatalf("forms %s", m["forms"])
	}
	delete(m, "forms")
	for _, kind := range []store.OAuthKind{store.OAuthPKCE, store.OAuthOIDC, store.OAuthCode} {
		r := rec
		r.Kind = kind
		part := map[string]json.RawMessage{}
		for k, v := range m {
			part[k] = v
		}
		if kind != store.OAuthCode {
			part["form"] = forms[string(kind)]
		}
		r.Data, err = json.Marshal(part)
		must(t, err)
		if kind == store.OAuthCode {
			must(t, st.DeleteOAuthRecord(ctx, store.OAuthCode, sig))
		}
		must(t, st.CreateOAuthRecord(ctx, r))
	}
}

// TestCodeKeepsItsSessions: a login writes one record for its code, which
// carries the PKCE challenge and the OpenID nonce — a wrong verifier is
// refused, the right one gets an ID token with the nonce, a replay of the
// code is refused and revokes the tokens it gave — and a code issued
// before, with three rows, is exchanged the same way and leaves none. On
// memory and PostgreSQL.
func TestCodeKeepsItsSessions(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, legacy := range []bool{false, true} {
				h := be.mk(t)
				ctx := context.Background()
				provider, err := oidc.NewProvider(ctx, h.srv.URL)
				must(t, err)
				v := oauth2.GenerateVerifier()
				code := h.code(t, v)
				sig := codeSig(t, code)
				set, err := h.store.GetOAuthRecordSet(ctx, sig, codeKinds)
				must(t, err)
				if len(set) != 1 || !set[store.OAuthCode].Active {
					t.Fatalf("legacy %v: a code's records %v, want the code's alone", legacy, set)
				}
				if legacy {
					unfold(t, h.store, sig)
					if set, err = h.store.GetOAuthRecordSet(ctx, sig, codeKinds); err != nil || len(set) != 3 {
						t.Fatalf("unfolded: %v %v", set, err)
					}
				}
				_, err = h.config().Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Fatalf("legacy %v: a wrong verifier: %v", legacy, err)
				}
				tok, err := h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
				must(t, err)
				idt, err := provider.Verifier(&oidc.Config{ClientID: "diary"}).Verify(ctx, tok.Extra("id_token").(string))
				must(t, err)
				if idt.Nonce != "nonce-12345678" || idt.Subject != "pairwise-sub" {
					t.Fatalf("legacy %v: id token %+v", legacy, idt)
				}
				set, err = h.store.GetOAuthRecordSet(ctx, sig, codeKinds)
				must(t, err)
				if len(set) != 1 || set[store.OAuthCode].Active {
					t.Fatalf("legacy %v: after the exchange %v, want the used code alone", legacy, set)
				}
				_, err = h.config().Exchange(ctx, code, oauth2.VerifierOption(v))
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
					t.Fatalf("legacy %v: replayed code: %v", legacy, err)
				}
				if h.introspect(t, tok.AccessToken) {
					t.Fatalf("legacy %v: the access token is active after the code was replayed", legacy)
				}
				if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
					t.Fatalf("legacy %v: the refresh token works after the code was replayed", legacy)
				}
			}
		})
	}
}
