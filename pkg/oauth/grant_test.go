package oauth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/store"
)

// tokenSig is the signature fosite keys an HMAC token by (after the dot).
func tokenSig(tok string) string {
	_, sig, _ := strings.Cut(tok, ".")
	return sig
}

// refreshKey is the key of a refresh token's row: for a token that names
// its grant (ory_rg_), HMAC-SHA512/256 of the token's body under fosite's
// key (the harness's HMAC secret); for fosite's, its signature.
func refreshKey(tok string) string {
	body, ok := strings.CutPrefix(tok, "ory_rg_")
	if !ok {
		return tokenSig(tok)
	}
	m := hmac.New(sha512.New512_256, bytes.Repeat([]byte{2}, 32))
	m.Write([]byte(body))
	return base64.URLEncoding.WithPadding(base64.NoPadding).EncodeToString(m.Sum(nil))
}

// TestSessionOncePerGrant: the tokens a code exchange and the rotations
// after it issue keep no session of their own — the refresh token reads
// its grant's, written once; the access token, self-contained, has no row
// at all (the rows left at the end: no access token among them) — and
// still carry everything: the ID token at refresh, userinfo-grade
// introspection, rotation with reuse detection. On memory and PostgreSQL.
func TestSessionOncePerGrant(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			v := oauth2.GenerateVerifier()
			tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
			must(t, err)
			check := func(tok *oauth2.Token) store.OAuthRecord {
				t.Helper()
				if !strings.HasPrefix(tok.AccessToken, "ory_ag_") {
					t.Fatalf("access token %.10s…, want a self-contained ory_ag_ token", tok.AccessToken)
				}
				if _, err := h.store.GetOAuthRecord(ctx, store.OAuthAccess, tokenSig(tok.AccessToken)); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("the access token has a row: %v", err)
				}
				rt, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(tok.RefreshToken))
				must(t, err)
				g, err := h.store.GetOAuthGrant(ctx, rt.RequestID)
				must(t, err)
				if !rt.FromGrant || !bytes.Equal(g.Data, rt.Data) || g.Access == "" {
					t.Fatalf("the refresh token keeps a session of its own (%v), or the grant names no access token (%q)", !rt.FromGrant, g.Access)
				}
				if !h.introspect(t, tok.AccessToken) {
					t.Fatal("access token inactive")
				}
				return rt
			}
			first := check(tok)
			tok.Expiry = time.Now().Add(-time.Minute)
			next, err := h.config().TokenSource(ctx, tok).Token()
			must(t, err)
			if _, ok := next.Extra("id_token").(string); !ok {
				t.Fatal("refresh gave no ID token")
			}
			if second := check(next); second.RequestID != first.RequestID || !second.ExpiresAt.After(first.CreatedAt) {
				t.Fatalf("rotation: %+v", second)
			}
			// Past the reuse interval the rotated token revokes the grant.
			h.clock.Advance(store.DefaultRefreshReuse + time.Second)
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
				t.Fatal("a rotated refresh token was accepted")
			}
			if h.introspect(t, next.AccessToken) {
				t.Fatal("reuse did not revoke the grant")
			}
			// Row count: an exchange and a rotation wrote no access token.
			removed, err := h.store.DeleteExpiredOAuth(ctx, time.Now().AddDate(100, 0, 0), 1000)
			must(t, err)
			if removed[store.OAuthAccess] != 0 || removed[store.OAuthRefresh] == 0 || removed[store.OAuthGrantKind] != 1 {
				t.Fatalf("rows at the end %v, want refresh tokens, 1 grant and no access token", removed)
			}
		})
	}
}

// TestRotationOfATokenWithItsOwnSession: a refresh token written before
// grants were kept — its record holding the session, in fosite's ory_rt_
// format — still rotates; the rotation writes its grant, the successor (a
// token that names its grant) reads it, and the old token's reuse revokes
// the grant.
func TestRotationOfATokenWithItsOwnSession(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
	must(t, err)
	rec, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(tok.RefreshToken))
	must(t, err)
	// A refresh token of another grant, minted as fosite does (the
	// harness's HMAC secret), whose record carries the session itself.
	var data map[string]any
	must(t, json.Unmarshal(rec.Data, &data))
	data["id"] = "legacy-grant"
	legacy := rec
	legacy.RequestID, legacy.FromGrant = "legacy-grant", false
	legacy.Data, err = json.Marshal(data)
	must(t, err)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	m := hmac.New(sha512.New512_256, bytes.Repeat([]byte{2}, 32))
	m.Write(key)
	b64 := base64.URLEncoding.WithPadding(base64.NoPadding)
	legacy.Signature = b64.EncodeToString(m.Sum(nil))
	must(t, h.store.CreateOAuthRecord(ctx, legacy))
	raw := "ory_rt_" + b64.EncodeToString(key) + "." + legacy.Signature

	next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: raw, Expiry: time.Now().Add(-time.Minute)}).Token()
	must(t, err)
	succ, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(next.RefreshToken))
	must(t, err)
	if !succ.FromGrant || succ.RequestID != "legacy-grant" {
		t.Fatalf("successor: grant %q, from grant %v", succ.RequestID, succ.FromGrant)
	}
	if !h.introspect(t, next.AccessToken) {
		t.Fatal("the successor's access token is inactive")
	}
	// It rotated into a token that names its grant; its own row, which
	// nothing else could recognise it by, is kept as rotated.
	if !strings.HasPrefix(next.RefreshToken, "ory_rg_") {
		t.Fatalf("successor %.10s…, want ory_rg_", next.RefreshToken)
	}
	if old, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, legacy.Signature); !errors.Is(err, store.ErrInactive) ||
		old.Successor != refreshKey(next.RefreshToken) {
		t.Fatalf("the old-format token's row after its rotation: %v, successor %q", err, old.Successor)
	}
	// Its next rotation extends the grant written by the first.
	next.Expiry = time.Now().Add(-time.Minute)
	third, err := h.config().TokenSource(ctx, next).Token()
	if err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	// The old-format token reused past the interval revokes the grant.
	h.clock.Advance(store.DefaultRefreshReuse + time.Second)
	if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: raw}).Token(); err == nil {
		t.Fatal("the rotated old-format token was accepted again")
	}
	if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: third.RefreshToken}).Token(); err == nil {
		t.Fatal("the grant survived the reuse of its old-format token")
	}
}

// TestReuseDetectionBeatsConcurrentRotation: a thief rotates a stolen
// refresh token over and over while the diary presents the one the thief
// rotated first: reuse detection revokes the grant, and the refresh token
// the thief's rotation was making at that moment dies with it — on
// PostgreSQL the grant's row lock orders the two (before, the revocation
// missed a token a rotation under way was inserting, and the next rotation
// moved the grant's expiry on again). Twenty trials, each must hold.
func TestReuseDetectionBeatsConcurrentRotation(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			zero := 0
			h.setReuseInterval(t, &zero)
			ctx := context.Background()
			refresh := func(rt string) (*oauth2.Token, error) {
				return h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)}).Token()
			}
			for trial := 0; trial < 20; trial++ {
				v := oauth2.GenerateVerifier()
				tok, err := h.config().Exchange(ctx, h.code(t, v), oauth2.VerifierOption(v))
				must(t, err)
				stolen := tok.RefreshToken
				first, err := refresh(stolen)
				must(t, err)
				rotated := make(chan struct{}, 1)
				stop := make(chan struct{})
				last := make(chan string, 1)
				go func() {
					cur := first.RefreshToken
					for {
						select {
						case <-stop:
							last <- cur
							return
						default:
						}
						n, err := refresh(cur)
						if err != nil {
							last <- ""
							return
						}
						cur = n.RefreshToken
						select {
						case rotated <- struct{}{}:
						default:
						}
					}
				}()
				<-rotated // the thief is rotating
				if _, err := refresh(stolen); err == nil {
					t.Fatal("the rotated refresh token was accepted again")
				}
				close(stop)
				if cur := <-last; cur != "" {
					if _, err := refresh(cur); err == nil {
						t.Fatalf("trial %d: the thief's refresh token outlived reuse detection", trial)
					}
				}
			}
		})
	}
}
