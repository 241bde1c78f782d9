package oauth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

// grantOf is the grant a refresh token that names its grant (ory_rg_)
// names.
func grantOf(t *testing.T, tok string) string {
	t.Helper()
	body, _, _ := strings.Cut(strings.TrimPrefix(tok, "ory_rg_"), ".")
	raw, err := base64.URLEncoding.WithPadding(base64.NoPadding).DecodeString(body)
	must(t, err)
	var p struct {
		Grant string `json:"g"`
	}
	must(t, json.Unmarshal(raw, &p))
	return p.Grant
}

// mintRG mints a refresh token that names grant, as the provider does
// with the harness's HMAC secret (refreshtoken.go), with a random key.
func mintRG(t *testing.T, grant string) string {
	t.Helper()
	b64 := base64.URLEncoding.WithPadding(base64.NoPadding)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	raw, err := json.Marshal(map[string]string{"g": grant, "k": b64.EncodeToString(key)})
	must(t, err)
	body := b64.EncodeToString(raw)
	k := hmac.New(sha256.New, bytes.Repeat([]byte{2}, 32))
	k.Write([]byte("diarybroker grant refresh token v1"))
	m := hmac.New(sha512.New512_256, k.Sum(nil))
	m.Write([]byte(body))
	return "ory_rg_" + body + "." + b64.EncodeToString(m.Sum(nil))
}

// legacyGrant writes a grant as a broker from before grants kept their
// refresh token did — a copy of grant from's session under request id
// id, keeping no refresh token — and returns its session.
func legacyGrant(t *testing.T, h *harness, from, id string) []byte {
	t.Helper()
	ctx := context.Background()
	g, err := h.store.GetOAuthGrant(ctx, from)
	must(t, err)
	var data map[string]any
	must(t, json.Unmarshal(g.Data, &data))
	data["id"] = id
	session, err := json.Marshal(data)
	must(t, err)
	must(t, h.store.ApplyOAuth(ctx, store.OAuthBatch{Grant: &store.OAuthGrant{RequestID: id, ClientID: g.ClientID, TenantID: g.TenantID,
		Subject: g.Subject, Data: session, CreatedAt: g.CreatedAt, ExpiresAt: g.RefreshExpiresAt}}))
	return session
}

// TestSessionOncePerGrant: the tokens a code exchange and the rotations
// after it issue keep no session of their own and no row — the grant,
// written once, keeps the live refresh token's key; the access token,
// self-contained, has no row either (no token row at the end) — and
// still carry everything: the ID token at refresh, userinfo-grade
// introspection, rotation with reuse detection. On memory and PostgreSQL.
func TestSessionOncePerGrant(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			tok := h.login(t)
			check := func(tok *oauth2.Token) store.OAuthGrant {
				t.Helper()
				if !strings.HasPrefix(tok.AccessToken, "ory_ag_") {
					t.Fatalf("access token %.10s…, want a self-contained ory_ag_ token", tok.AccessToken)
				}
				if _, err := h.store.GetOAuthRecord(ctx, store.OAuthAccess, tokenSig(tok.AccessToken)); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("the access token has a row: %v", err)
				}
				if _, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(tok.RefreshToken)); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("the refresh token has a row: %v", err)
				}
				g, err := h.store.GetOAuthGrant(ctx, grantOf(t, tok.RefreshToken))
				must(t, err)
				if g.Refresh != refreshKey(tok.RefreshToken) || g.Access == "" || !g.RefreshExpiresAt.After(g.RefreshAt) {
					t.Fatalf("the grant keeps refresh token %q (want %q), access token %q, times %v %v",
						g.Refresh, refreshKey(tok.RefreshToken), g.Access, g.RefreshAt, g.RefreshExpiresAt)
				}
				if !h.introspect(t, tok.AccessToken) {
					t.Fatal("access token inactive")
				}
				return g
			}
			first := check(tok)
			tok.Expiry = time.Now().Add(-time.Minute)
			h.clock.Advance(time.Minute)
			next, err := h.config().TokenSource(ctx, tok).Token()
			must(t, err)
			if _, ok := next.Extra("id_token").(string); !ok {
				t.Fatal("refresh gave no ID token")
			}
			// (fosite sets the expiry times from the wall clock, the
			// broker its issue times from the injected one.)
			if second := check(next); second.Refresh == first.Refresh || second.RefreshExpiresAt.Before(first.RefreshExpiresAt) ||
				!second.RefreshAt.After(first.RefreshAt) {
				t.Fatalf("rotation: %v %v after %v %v", second.RefreshAt, second.RefreshExpiresAt, first.RefreshAt, first.RefreshExpiresAt)
			}
			// Past the reuse interval the rotated token revokes the grant.
			h.clock.Advance(store.DefaultRefreshReuse + time.Second)
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
				t.Fatal("a rotated refresh token was accepted")
			}
			if h.introspect(t, next.AccessToken) {
				t.Fatal("reuse did not revoke the grant")
			}
			// Row count: an exchange and a rotation wrote no token row.
			removed, err := h.store.DeleteExpiredOAuth(ctx, time.Now().AddDate(100, 0, 0), 1000)
			must(t, err)
			if removed[store.OAuthAccess] != 0 || removed[store.OAuthRefresh] != 0 || removed[store.OAuthGrantKind] != 1 {
				t.Fatalf("rows at the end %v, want 1 grant and no token row", removed)
			}
		})
	}
}

// TestRotationOfATokenWithItsOwnSession: a refresh token written before
// grants were kept — its record holding the session, in fosite's ory_rt_
// format — still rotates; the rotation writes its grant, which keeps the
// successor (a token that names its grant), and the old token's reuse
// revokes the grant.
func TestRotationOfATokenWithItsOwnSession(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok := h.login(t)
	g, err := h.store.GetOAuthGrant(ctx, grantOf(t, tok.RefreshToken))
	must(t, err)
	// A refresh token of another grant, minted as fosite does (the
	// harness's HMAC secret), whose record carries the session itself.
	var data map[string]any
	must(t, json.Unmarshal(g.Data, &data))
	data["id"] = "legacy-grant"
	legacy := store.OAuthRecord{Kind: store.OAuthRefresh, RequestID: "legacy-grant", ClientID: g.ClientID, TenantID: g.TenantID,
		Subject: g.Subject, Active: true, CreatedAt: h.clock.Now().UTC(), ExpiresAt: g.RefreshExpiresAt}
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
	if grantOf(t, next.RefreshToken) != "legacy-grant" {
		t.Fatalf("successor of grant %q", grantOf(t, next.RefreshToken))
	}
	if lg, err := h.store.GetOAuthGrant(ctx, "legacy-grant"); err != nil || lg.Refresh != refreshKey(next.RefreshToken) {
		t.Fatalf("the grant the rotation wrote keeps %q, %v", lg.Refresh, err)
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
	// Within the interval the old-format token gets the same pair back.
	again, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: raw}).Token()
	must(t, err)
	if again.RefreshToken != next.RefreshToken || again.AccessToken != next.AccessToken {
		t.Fatal("the replay of the old-format token did not hand back the pair its rotation produced")
	}
	// Its next rotation is one of the grant's.
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

// TestRotationOfATokenWithASlimRow: a refresh token that names its grant
// but has a row (a grant from before grants kept their refresh token)
// rotates: its row goes, and the grant keeps the successor from then on;
// within the reuse interval it gets the same pair back, past it its reuse
// revokes the grant. On memory and PostgreSQL.
func TestRotationOfATokenWithASlimRow(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			h := be.mk(t)
			ctx := context.Background()
			tok := h.login(t)
			legacyGrant(t, h, grantOf(t, tok.RefreshToken), "legacy-rg")
			raw := mintRG(t, "legacy-rg")
			g, err := h.store.GetOAuthGrant(ctx, "legacy-rg")
			must(t, err)
			must(t, h.store.CreateOAuthRecord(ctx, store.OAuthRecord{Kind: store.OAuthRefresh, Signature: refreshKey(raw),
				RequestID: "legacy-rg", ClientID: g.ClientID, TenantID: g.TenantID, Active: true,
				CreatedAt: h.clock.Now().UTC(), ExpiresAt: g.ExpiresAt}))

			next, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: raw}).Token()
			must(t, err)
			if _, err := h.store.GetOAuthRecord(ctx, store.OAuthRefresh, refreshKey(raw)); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("the rotated slim row: %v, want removed", err)
			}
			if g, err := h.store.GetOAuthGrant(ctx, "legacy-rg"); err != nil || g.Refresh != refreshKey(next.RefreshToken) {
				t.Fatalf("the grant keeps %q after the rotation, %v", g.Refresh, err)
			}
			again, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: raw}).Token()
			must(t, err)
			if again.RefreshToken != next.RefreshToken || again.AccessToken != next.AccessToken {
				t.Fatal("the replay within the interval did not hand back the same pair")
			}
			third, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: next.RefreshToken}).Token()
			must(t, err)
			h.clock.Advance(store.DefaultRefreshReuse + time.Second)
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: raw}).Token(); err == nil {
				t.Fatal("the rotated slim-row token was accepted past the interval")
			}
			if _, err := h.config().TokenSource(ctx, &oauth2.Token{RefreshToken: third.RefreshToken}).Token(); err == nil {
				t.Fatal("the grant survived the reuse of its slim-row token")
			}
		})
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
				tok := h.login(t)
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
