package main_test

import (
	"strings"
	"testing"
)

// TestClientsCreateRefusesAPIScopesOnLoginClients: the API scopes go to API
// (client_credentials) clients only; a login client asking for one is
// refused and nothing is stored.
func TestClientsCreateRefusesAPIScopesOnLoginClients(t *testing.T) {
	_, run := pgCLI(t)
	login := []string{"clients", "create", "--tenant", "msk", "--redirect-uri", "https://diary.example/cb"}
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"login client, login scopes", append(login, "--id", "login-ok", "--scope", "openid", "--scope", "profile"), true},
		{"login client with roster", append(login, "--id", "login-roster", "--scope", "openid", "--scope", "roster"), false},
		{"login client with consent:read", append(login, "--id", "login-consent", "--scope", "openid", "--scope", "consent:read"), false},
		{"login client with support", append(login, "--id", "login-support", "--scope", "support"), false},
		{"login client with admin", append(login, "--id", "login-admin", "--scope", "openid", "--scope", "admin"), false},
		{"login and client_credentials with roster", append(login, "--id", "mixed-roster", "--grant", "authorization_code",
			"--grant", "client_credentials", "--scope", "roster"), false},
		{"API client", []string{"clients", "create", "--tenant", "msk", "--id", "api-ok", "--grant", "client_credentials",
			"--scope", "roster", "--scope", "consent:read", "--scope", "support", "--scope", "admin"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := run(tc.args...)
			if tc.ok != (code == 0) {
				t.Fatalf("exit %d: %s", code, out)
			}
			if !tc.ok && (code != 2 || !strings.Contains(out, "API scopes are for client_credentials clients") || !strings.Contains(out, "--grant client_credentials")) {
				t.Fatalf("exit %d, message: %s", code, out)
			}
		})
	}
	list, code := run("clients", "list", "--tenant", "msk")
	if code != 0 || !strings.Contains(list, "login-ok") || !strings.Contains(list, "api-ok") {
		t.Fatalf("clients list: %s", list)
	}
	for _, refused := range []string{"login-roster", "login-consent", "login-support", "login-admin", "mixed-roster"} {
		if strings.Contains(list, refused) {
			t.Fatalf("refused client %s stored: %s", refused, list)
		}
	}
}

// TestClientsCreateRefusesUnusableRedirectURIs: a redirect URI the
// authorization endpoint would never accept (userinfo, a fragment, a
// relative one) is refused when the client is registered, with the reason,
// before the database is touched.
func TestClientsCreateRefusesUnusableRedirectURIs(t *testing.T) {
	for _, tc := range []struct{ uri, why string }{
		{"http://evil@127.0.0.1:8089/callback", "userinfo"},
		{"https://user:pw@diary.example/cb", "userinfo"},
		{"https://diary.example/cb#top", "fragment"},
		{"/cb", "absolute"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			_, errOut, code := broker(t, []string{"BROKER_DATABASE_URL=postgres://127.0.0.1:1/none", "BROKER_KEK=" + testKEK}, "",
				"clients", "create", "--tenant", "msk", "--redirect-uri", "https://diary.example/ok", "--redirect-uri", tc.uri)
			if code == 0 || !strings.Contains(errOut, tc.why) || !strings.Contains(errOut, tc.uri) {
				t.Fatalf("exit %d: %s", code, errOut)
			}
		})
	}
}
