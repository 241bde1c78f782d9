package main

import (
	"net/url"
	"testing"
)

// TestLoginScope: -login-scope is the scope of the authorization requests
// (Hydra needs offline_access for refresh tokens); left empty it is the
// diary's "openid profile".
func TestLoginScope(t *testing.T) {
	for _, tc := range []struct{ flag, want string }{
		{"", "openid profile"},
		{"openid profile", "openid profile"},
		{" openid  offline_access profile ", "openid offline_access profile"},
	} {
		l := newLoader(config{target: "http://127.0.0.1:1", clientID: "c", loginScope: tc.flag, concurrency: 1})
		u, err := url.Parse(l.cfg.AuthCodeURL("state"))
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("scope"); got != tc.want {
			t.Errorf("-login-scope %q: authorization request scope %q; want %q", tc.flag, got, tc.want)
		}
	}
}
