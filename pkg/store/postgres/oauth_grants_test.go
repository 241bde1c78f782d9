package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// TestTokenRowsAreSlim: a token written beside its grant — signatures and
// request ids as long as fosite's and the broker's — is a row of at most
// 160 bytes, 200 once rotated (it names its successor), where it was about
// 1.5 KB: the session, sealed, lives once in oauth_grants, and names no
// claim in plaintext. A slim row's subject is its grant's.
func TestTokenRowsAreSlim(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	sig := func(c string) string { return strings.Repeat(c, 43) } // base64 of a SHA-512/256
	req := "0b7e5c1a-3f2d-4c8e-9a6b-1d2e3f4a5b6c"
	slim := func(kind store.OAuthKind, sg string) store.OAuthRecord {
		return store.OAuthRecord{Kind: kind, Signature: sg, RequestID: req, ClientID: "diary", TenantID: "demo",
			Active: true, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	session := []byte(`{"claims":{"family_name":"Иванова"},` + strings.Repeat(`"x":1,`, 200) + `"y":1}`)
	if err := s.ApplyOAuth(ctx, store.OAuthBatch{
		Grant:  &store.OAuthGrant{RequestID: req, ClientID: "diary", TenantID: "demo", Subject: sig("s"), Data: session, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		Create: []store.OAuthRecord{slim(store.OAuthAccess, sig("a")), slim(store.OAuthRefresh, sig("r"))},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyOAuth(ctx, store.OAuthBatch{
		Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: sig("r")}, Rotation: &store.OAuthRotation{At: now, Successor: sig("n")},
		Create: []store.OAuthRecord{slim(store.OAuthRefresh, sig("n"))},
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Pool().Query(ctx, `SELECT kind, signature, pg_column_size(r.*), successor <> '' FROM oauth_records r`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var kind, sg string
		var size int
		var rotated bool
		if err := rows.Scan(&kind, &sg, &size, &rotated); err != nil {
			t.Fatal(err)
		}
		n++
		t.Logf("%s %.1s… (rotated %v): %d bytes", kind, sg, rotated, size)
		// A rotated refresh token also names its successor (the reuse
		// interval): 43 more bytes and a time.
		if limit := map[bool]int{false: 160, true: 200}[rotated]; size > limit {
			t.Fatalf("%s row of %d bytes, want at most %d", kind, size, limit)
		}
	}
	if n != 3 {
		t.Fatalf("%d token rows, want 3", n)
	}
	var sealed []byte
	if err := s.Pool().QueryRow(ctx, `SELECT data FROM oauth_grants WHERE request_id = $1`, req).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "Иванова") {
		t.Fatal("the grant's session is stored in plaintext")
	}
	r, err := s.GetOAuthRecord(ctx, store.OAuthRefresh, sig("n"))
	if err != nil || string(r.Data) != string(session) || r.Subject != sig("s") {
		t.Fatalf("successor reads %q, %v", r.Data, err)
	}
}
