package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/testenv"
)

// The npm openid-client (v6), what Node diaries log in with, run by Node
// from scripts/node (npm ci there; scripts/test.sh does it) with its
// defaults and docs/oauth.md's settings: scripts/node/openid-client-rp.mjs.

// openIDClientResult is what openid-client-rp.mjs reports at the end.
type openIDClientResult struct {
	IDTokenClaims map[string]any `json:"id_token_claims"`
	TokenType     string         `json:"token_type"`
	Userinfo      map[string]any `json:"userinfo"`
	Refreshed     struct {
		AccessTokenChanged  bool           `json:"access_token_changed"`
		RefreshTokenChanged bool           `json:"refresh_token_changed"`
		IDTokenClaims       map[string]any `json:"id_token_claims"`
	} `json:"refreshed"`
	Introspection                map[string]any `json:"introspection"`
	IntrospectionAfterRevocation map[string]any `json:"introspection_after_revocation"`
	RefreshAfterRevocation       string         `json:"refresh_after_revocation"`
	EndSessionURL                string         `json:"end_session_url"`
	State                        string         `json:"state"`
}

// nodeTool is the path of a script of scripts/node and of node, or the
// test is unavailable (a failure under CI=true) when node or the npm
// package pkg is missing.
func nodeTool(t *testing.T, script, pkg string) (node, path string) {
	t.Helper()
	node = testenv.LookPath(t, "node")
	tools, err := filepath.Abs(filepath.Join("..", "..", "scripts", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(tools, "node_modules", pkg)); err != nil {
		testenv.Unavailable(t, pkg+" (npm ci in scripts/node)", err)
	}
	return node, filepath.Join(tools, script)
}

// TestOpenIDClient: a Node diary with openid-client discovers the broker,
// sends the person to log in with PKCE S256, state and nonce (the test's
// browser follows the redirects as the simulator's person and accepts the
// consent page), exchanges the code and has the library validate the ID
// token, reads userinfo, refreshes (the library validates the new ID
// token too), introspects with client_secret_post — its default —
// revokes the access and refresh tokens (introspection then says inactive
// and the refresh token is refused), and logs the person out through the
// broker's end_session_endpoint, which ends the ESIA session on the way
// back to the diary's post_logout_redirect_uri.
func TestOpenIDClient(t *testing.T) {
	node, script := nodeTool(t, "openid-client-rp.mjs", "openid-client")
	b := startBroker(t, true, nil)
	const (
		clientID    = "node-openid-client"
		redirectURI = "http://127.0.0.1:1/auth/callback"
		loggedOut   = "http://127.0.0.1:1/logged-out"
	)
	secret := registerRP(t, b, clientID, "Node openid-client", redirectURI, loggedOut, "")
	cmd := exec.Command(node, script, b.URL, clientID, secret, redirectURI, loggedOut, `{"sim_person":"`+oidTeacher+`"}`)
	var r openIDClientResult
	br := driveRP(t, b, cmd, redirectURI, &r)

	checks := []struct {
		what string
		ok   bool
	}{
		{"ID token from the broker for the client", r.IDTokenClaims["iss"] == b.URL && audience(r.IDTokenClaims) == clientID},
		{"ID token of the person", r.IDTokenClaims["person_id"] == "t-0001" && r.IDTokenClaims["sub"] != nil},
		{"ID token carries at_hash", r.IDTokenClaims["at_hash"] != nil},
		{"bearer token", strings.EqualFold(r.TokenType, "bearer")},
		{"userinfo of the same subject", r.Userinfo["sub"] == r.IDTokenClaims["sub"] && r.Userinfo["person_id"] == "t-0001"},
		{"refresh gives a new access token", r.Refreshed.AccessTokenChanged},
		{"refresh rotates the refresh token", r.Refreshed.RefreshTokenChanged},
		{"refreshed ID token of the same subject", r.Refreshed.IDTokenClaims == nil || r.Refreshed.IDTokenClaims["sub"] == r.IDTokenClaims["sub"]},
		{"introspection with client_secret_post: active", r.Introspection["active"] == true && r.Introspection["client_id"] == clientID},
		{"introspection after revocation: inactive", r.IntrospectionAfterRevocation["active"] == false},
		{"revoked refresh token refused", r.RefreshAfterRevocation == "invalid_grant"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.what, r)
		}
	}

	// RP-initiated logout: the library's end-session URL, followed by the
	// browser, ends the ESIA session and comes back to the diary.
	es, err := url.Parse(r.EndSessionURL)
	if err != nil || es.Query().Get("id_token_hint") == "" || es.Query().Get("post_logout_redirect_uri") != loggedOut {
		t.Fatalf("end session URL %q: %v", r.EndSessionURL, err)
	}
	var hops []string
	follow := br.client.CheckRedirect
	br.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.URL.Path)
		if strings.HasPrefix(req.URL.String(), loggedOut) {
			return http.ErrUseLastResponse
		}
		return follow(req, via)
	}
	o := br.get(r.EndSessionURL)
	if o.Redirect == nil || !strings.HasPrefix(o.Redirect.String(), loggedOut) || o.Redirect.Query().Get("state") != r.State {
		t.Fatalf("logout ended with %d %v (hops %v): %.300s", o.Status, o.Redirect, hops, o.Body)
	}
	if !strings.Contains(strings.Join(hops, ","), "/esia/logout") {
		t.Fatalf("logout did not pass through ESIA: %v", hops)
	}
}

// audience is the only audience of JWT claims, an array or a string.
func audience(claims map[string]any) string {
	switch aud := claims["aud"].(type) {
	case string:
		return aud
	case []any:
		if len(aud) == 1 {
			s, _ := aud[0].(string)
			return s
		}
	}
	return ""
}

// registerRP registers a confidential login client of the dev tenant with
// PKCE required (the default) and ID token algorithm alg ("" for the
// broker's default) and returns its secret.
func registerRP(t *testing.T, b *broker, clientID, name, redirectURI, loggedOut, alg string) string {
	t.Helper()
	secret := rand.Text()
	if err := b.comp.Store.CreateClient(context.Background(), store.Client{ID: clientID, TenantID: server.DevTenant, Name: name,
		SecretHash: oauth.HashSecret(secret), RedirectURIs: []string{redirectURI}, PostLogoutRedirectURIs: []string{loggedOut},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "offline_access"}, PKCE: store.PKCERequired, IDTokenAlg: alg}); err != nil {
		t.Fatal(err)
	}
	return secret
}

// driveRP runs a relying party's script cmd, which prints its
// authorization URL as {"authorization_url": …} on one line, reads the
// callback URL from stdin and prints its result as its last line (decoded
// into result). The person's browser follows the authorization URL
// through the broker, the simulator and the consent page to redirectURI;
// it is returned for what follows (logout).
func driveRP(t *testing.T, b *broker, cmd *exec.Cmd, redirectURI string, result any) *browser {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second // a child of the script's holding stderr cannot block Wait
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	readLine := func(v any) {
		t.Helper()
		if !lines.Scan() {
			_ = cmd.Wait()
			close(done)
			t.Fatalf("%s ended: %v\n%s", filepath.Base(cmd.Args[1]), lines.Err(), stderr.String())
		}
		if err := json.Unmarshal(lines.Bytes(), v); err != nil {
			t.Fatalf("%s said %q: %v", filepath.Base(cmd.Args[1]), lines.Text(), err)
		}
	}

	// The library's authorization URL: S256 PKCE, state and nonce.
	var start struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	readLine(&start)
	au, err := url.Parse(start.AuthorizationURL)
	if err != nil || !strings.HasPrefix(start.AuthorizationURL, b.URL+"/oauth2/auth?") {
		t.Fatalf("authorization URL %q: %v", start.AuthorizationURL, err)
	}
	if q := au.Query(); q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization URL %s", au)
	}

	// The person's browser: broker → simulator → consent → the diary's
	// callback, handed to the library.
	br := newBrowser(t)
	br.stopAt = redirectURI
	o := br.through(br.get(start.AuthorizationURL))
	if o.Redirect == nil || !strings.HasPrefix(o.Redirect.String(), redirectURI+"?") || o.Redirect.Query().Get("code") == "" {
		t.Fatalf("login ended with %d %v: %.300s", o.Status, o.Redirect, o.Body)
	}
	if _, err := io.WriteString(stdin, o.Redirect.String()+"\n"); err != nil {
		t.Fatal(err)
	}
	readLine(result)
	err = cmd.Wait()
	close(done)
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(cmd.Args[1]), err, stderr.String())
	}
	return br
}
