package main_test

import (
	"context"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// TestClientsCreateOIDCOptions: --pkce optional and --id-token-alg RS256
// are stored with a confidential client; PKCE optional for a public
// client, plain PKCE or an unknown algorithm are refused and nothing is
// stored.
func TestClientsCreateOIDCOptions(t *testing.T) {
	db, run := pgCLI(t)
	login := []string{"clients", "create", "--tenant", "msk", "--redirect-uri", "https://diary.example/cb"}
	tests := []struct {
		id, why string
		args    []string
		pkce    string
		alg     string
	}{
		{id: "apache", args: []string{"--pkce", "optional", "--id-token-alg", "RS256"}, pkce: store.PKCEOptional, alg: store.AlgRS256},
		{id: "plain", args: nil, pkce: store.PKCERequired},
		{id: "spa", args: []string{"--public", "--pkce", "optional"}, why: "--pkce is required for a public client"},
		{id: "weak", args: []string{"--pkce", "plain"}, why: "--pkce must be required or optional"},
		{id: "hs", args: []string{"--id-token-alg", "HS256"}, why: "--id-token-alg must be ES256 or RS256"},
	}
	st := pgStore(t, db)
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			out, code := run(append(append(login, "--id", tc.id), tc.args...)...)
			got, err := st.GetClient(context.Background(), tc.id)
			if tc.why != "" {
				if code == 0 || !strings.Contains(out, tc.why) || err == nil {
					t.Fatalf("exit %d, stored %v: %s", code, err == nil, out)
				}
				return
			}
			if code != 0 || err != nil || got.PKCE != tc.pkce || got.IDTokenAlg != tc.alg {
				t.Fatalf("exit %d: %s; stored %+v, %v", code, out, got, err)
			}
		})
	}
}
