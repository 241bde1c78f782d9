package esia_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
)

// TestLoginAlgorithms runs a whole login the way ESIA wants it today: GOST
// client secrets (64 bytes, 86 base64url characters, or 88 padded), the
// Streebog certificate hash and GOST3410_2012_256 tokens; and once in the
// simulator's legacy RSA mode (256-byte signatures, RS256 tokens).
func TestLoginAlgorithms(t *testing.T) {
	tests := []struct {
		name       string
		keys       testKeys
		padded     bool
		secretSize int
	}{
		{"GOST", keys(), false, 86},
		{"GOST padded", keys(), true, 88},
		{"RSA", rsaKeys(), false, 342},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorldKeys(t, tc.keys)
			w.cfg.SecretPadding = tc.padded
			u, err := w.cfg.AuthURL(context.Background(), state, nil)
			if err != nil {
				t.Fatal(err)
			}
			parsed, _ := url.Parse(u)
			if n := len(parsed.Query().Get("client_secret")); n != tc.secretSize {
				t.Errorf("padded=%v: client_secret of %d characters, want %d", tc.padded, n, tc.secretSize)
			}
			tok := w.login("1000100002")
			if tok.Identity.OID != "1000100002" || !tok.Identity.Trusted {
				t.Fatalf("identity %+v", tok.Identity)
			}
			if kids, err := w.cfg.Kids(context.Background(), tok); err != nil || len(kids) != 2 {
				t.Fatalf("kids %v %v", kids, err)
			}
		})
	}
}

// TestWrongClientKey: a client_secret made with another key than the
// registered certificate's is ESIA-007053 at the authorization endpoint.
func TestWrongClientKey(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) {
			w := newWorldKeys(t, k)
			w.cfg.Signer = k.stranger
			cb := w.authorize(url.Values{"sim_person": {"1000100001"}})
			if err := esia.ParseCallbackError(cb); !errors.Is(err, esia.ErrClientSecretWrong) {
				t.Fatalf("err %v, want ErrClientSecretWrong", err)
			}
		})
	}
}
