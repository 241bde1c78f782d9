package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

var secretLine = regexp.MustCompile(`client_secret: (\S+)`)

// TestClientsManage: show prints every setting and never a secret's hash;
// update changes only what is given, refuses what the provider could not
// serve and is audited; rotate-secret keeps the old secret for --grace
// (24 h by default) beside the new one; disable and enable; delete.
func TestClientsManage(t *testing.T) {
	db, run := pgCLI(t)
	st := pgStore(t, db)
	ctx := context.Background()
	out, code := run("clients", "create", "--tenant", "msk", "--id", "diary", "--redirect-uri", "https://diary.example/cb")
	m := secretLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("create: %s", out)
	}
	first := m[1]

	out, code = run("clients", "show", "diary")
	for _, want := range []string{"id:", "diary", "tenant_id:", "msk", "redirect_uris:", "https://diary.example/cb", "pkce:", "required",
		"id_token_alg:", "secret_rotated_at:", "previous_secret_until:", "disabled:", "false", "has_secret:", "true", "created_at:"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("show lacks %q: %s", want, out)
		}
	}
	if strings.Contains(out, "secret_hash") {
		t.Fatalf("show prints a hash: %s", out)
	}

	steps := []struct {
		args []string
		ok   bool
		want string
	}{
		{[]string{"clients", "update", "diary", "--redirect-uri", "https://diary.example/cb2", "--redirect-uri", "https://diary.example/cb3",
			"--scope", "openid", "--pkce", "optional", "--id-token-alg", "RS256", "--name", "Дневник"}, true, "client diary updated"},
		{[]string{"clients", "update", "diary"}, false, "nothing to update"},
		{[]string{"clients", "update", "diary", "--scope", "openid", "--scope", "roster"}, false, "--grant client_credentials"},
		{[]string{"clients", "update", "diary", "--redirect-uri", "https://diary.example/cb#x"}, false, "fragment"},
		{[]string{"clients", "update", "diary", "--grant", "password"}, false, "--grant"},
		{[]string{"clients", "update", "diary", "--id-token-alg", "HS256"}, false, "--id-token-alg"},
		{[]string{"clients", "update", "nobody", "--name", "x"}, false, "nobody"},
	}
	for _, s := range steps {
		if out, code := run(s.args...); (code == 0) != s.ok || !strings.Contains(out, s.want) {
			t.Fatalf("%v: exit %d: %s", s.args, code, out)
		}
	}
	c, err := st.GetClient(ctx, "diary")
	if err != nil || strings.Join(c.RedirectURIs, " ") != "https://diary.example/cb2 https://diary.example/cb3" || strings.Join(c.Scopes, " ") != "openid" ||
		c.PKCE != store.PKCEOptional || c.IDTokenAlg != store.AlgRS256 || c.Name != "Дневник" || strings.Join(c.GrantTypes, ",") != "authorization_code,refresh_token" {
		t.Fatalf("after update: %+v %v", c, err)
	}

	out, code = run("clients", "rotate-secret", "diary")
	m = secretLine.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] == first || !strings.Contains(out, "the old secret keeps working until") {
		t.Fatalf("rotate-secret: %s", out)
	}
	c, _ = st.GetClient(ctx, "diary")
	if !bytes.Equal(c.SecretHash, oauth.HashSecret(m[1])) || !bytes.Equal(c.PreviousSecretHash, oauth.HashSecret(first)) ||
		c.PreviousSecretUntil.Sub(c.SecretRotatedAt) != 24*time.Hour || time.Since(c.SecretRotatedAt) > time.Minute {
		t.Fatalf("after rotation: %+v", c)
	}
	show, _ := run("clients", "show", "diary", "--json")
	var v map[string]any
	if err := json.Unmarshal([]byte(show), &v); err != nil || v["previous_secret_until"] == nil || v["secret_rotated_at"] == nil {
		t.Fatalf("show --json after rotation: %v %s", err, show)
	}
	for _, secret := range []string{first, m[1]} {
		if strings.Contains(show, secret) {
			t.Fatal("show prints a secret")
		}
	}
	if out, code := run("clients", "rotate-secret", "diary", "--grace", "0"); code != 0 || !strings.Contains(out, "the old secret no longer works") {
		t.Fatalf("rotate-secret --grace 0: %s", out)
	}
	if c, _ = st.GetClient(ctx, "diary"); c.PreviousSecretHash != nil || !c.PreviousSecretUntil.IsZero() {
		t.Fatalf("after rotation without grace: %+v", c)
	}
	if out, code := run("clients", "rotate-secret", "diary", "--grace", "1000h"); code == 0 || !strings.Contains(out, "--grace") {
		t.Fatalf("grace over 30 days: %s", out)
	}

	if out, code := run("clients", "disable", "diary"); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %s", out)
	}
	if c, _ = st.GetClient(ctx, "diary"); !c.Disabled() {
		t.Fatal("not disabled")
	}
	if out, _ := run("clients", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("list: %s", out)
	}
	if out, code := run("clients", "enable", "diary"); code != 0 {
		t.Fatalf("enable: %s", out)
	}
	if c, _ = st.GetClient(ctx, "diary"); c.Disabled() {
		t.Fatal("still disabled")
	}
	entries, _ := st.ListAudit(ctx, "msk", 20)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		for _, secret := range []string{first, m[1]} {
			if strings.Contains(string(e.Detail), secret) {
				t.Fatalf("a secret in the audit log: %s", e.Detail)
			}
		}
	}
	if got := strings.Join(actions, " "); got != "enable_client disable_client rotate_client_secret rotate_client_secret update_client create_client create_tenant" {
		t.Fatalf("audit actions: %s", got)
	}
	if out, code := run("clients", "delete", "diary"); code != 0 {
		t.Fatalf("delete: %s", out)
	}
	if _, err := st.GetClient(ctx, "diary"); err == nil {
		t.Fatal("not deleted")
	}
}

// TestClientsCreateOperator: an operator-level API client belongs to no
// tenant and takes client_credentials only.
func TestClientsCreateOperator(t *testing.T) {
	db, run := pgCLI(t)
	out, code := run("clients", "create", "--operator", "--id", "ops", "--grant", "client_credentials", "--scope", "admin")
	if code != 0 || !secretLine.MatchString(out) {
		t.Fatalf("create --operator: %s", out)
	}
	c, err := pgStore(t, db).GetClient(context.Background(), "ops")
	if err != nil || !c.Operator() || c.TenantID != "" {
		t.Fatalf("operator client stored as %+v, %v", c, err)
	}
	for _, args := range [][]string{
		{"clients", "create", "--operator", "--id", "ops2", "--redirect-uri", "https://x.example/cb"},
		{"clients", "create", "--operator", "--tenant", "msk", "--id", "ops3", "--grant", "client_credentials", "--scope", "admin"},
		{"clients", "create", "--id", "ops4", "--grant", "client_credentials", "--scope", "admin"},
	} {
		if out, code := run(args...); code == 0 {
			t.Fatalf("%v accepted: %s", args, out)
		}
	}
	if out, _ := run("clients", "list"); !strings.Contains(out, "(operator)") || strings.Contains(out, "ops2") {
		t.Fatalf("list: %s", out)
	}
}
