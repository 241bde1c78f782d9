package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// Apache's mod_auth_openidc, as Debian ships it (apache2,
// libapache2-mod-auth-openidc), is what many school portals on Apache run.
// The test runs it on a loopback port in front of a static page, against a
// dev-mode broker, with docs/oauth.md's settings only, and logs in (through
// the simulator and the self-consent page), reads the session's ID token and
// userinfo claims, refreshes the access token and logs out, which revokes
// the tokens — with OIDCPKCEMethod S256 for a client whose PKCE is required,
// with mod_auth_openidc's default (no PKCE) for a client registered with
// PKCE optional, and with OIDCResponseMode form_post.

const (
	apacheBinary = "/usr/sbin/apache2"
	apacheMods   = "/usr/lib/apache2/modules"
)

// apacheConf is the httpd.conf of the test: the module's settings are those
// docs/oauth.md gives, plus OIDCAuthRequestParams for the simulator's person
// and OIDCInfoHook for the test to read the session.
var apacheConf = template.Must(template.New("httpd.conf").Parse(`ServerRoot "{{.Dir}}"
ServerName 127.0.0.1
Listen {{.Addr}}
PidFile {{.Dir}}/httpd.pid
DefaultRuntimeDir {{.Dir}}
ErrorLog {{.Dir}}/error.log
LogLevel warn auth_openidc:info
Mutex posixsem
LoadModule mpm_event_module {{.Mods}}/mod_mpm_event.so
LoadModule authn_core_module {{.Mods}}/mod_authn_core.so
LoadModule authz_core_module {{.Mods}}/mod_authz_core.so
LoadModule authz_user_module {{.Mods}}/mod_authz_user.so
LoadModule auth_openidc_module {{.Mods}}/mod_auth_openidc.so
{{if .Root}}User www-data
Group www-data
{{end}}DocumentRoot {{.Dir}}/htdocs
<Directory {{.Dir}}/htdocs>
  Require all granted
</Directory>

OIDCProviderMetadataURL {{.Issuer}}/.well-known/openid-configuration
OIDCClientID {{.ClientID}}
OIDCClientSecret {{.Secret}}
OIDCRedirectURI http://{{.Addr}}/app/redirect_uri
OIDCCryptoPassphrase {{.Passphrase}}
OIDCScope "openid profile"
OIDCDefaultLoggedOutURL http://{{.Addr}}/loggedout.html
{{range .Extra}}{{.}}
{{end}}OIDCAuthRequestParams sim_person={{.Person}}
OIDCInfoHook access_token id_token userinfo refresh_token
<Location /app>
  AuthType openid-connect
  Require valid-user
</Location>
`))

// apacheRP is a running Apache with mod_auth_openidc.
type apacheRP struct {
	URL string
	dir string
}

// startApache runs Apache whose logins are the simulator's person.
func startApache(t *testing.T, issuer, clientID, secret, person string, extra []string) *apacheRP {
	t.Helper()
	for _, f := range []string{apacheBinary, filepath.Join(apacheMods, "mod_auth_openidc.so")} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing: install apache2 and libapache2-mod-auth-openidc (scripts/test.sh does)", f)
			}
			t.Skipf("%s missing (apache2, libapache2-mod-auth-openidc)", f)
		}
	}
	// Apache's workers run as www-data when the test runs as root: the
	// directory must be readable by them.
	dir, err := os.MkdirTemp("", "modauthopenidc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(dir, 0o755))
	must(os.Mkdir(filepath.Join(dir, "htdocs"), 0o755))
	must(os.Mkdir(filepath.Join(dir, "htdocs", "app"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "htdocs", "app", "index.html"), []byte("дневник: вы вошли\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "htdocs", "loggedout.html"), []byte("дневник: вы вышли\n"), 0o644))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	addr := l.Addr().String()
	l.Close()
	var conf bytes.Buffer
	must(apacheConf.Execute(&conf, map[string]any{
		"Dir": dir, "Addr": addr, "Mods": apacheMods, "Root": os.Geteuid() == 0, "Issuer": issuer,
		"ClientID": clientID, "Secret": secret, "Passphrase": rand.Text(), "Extra": extra, "Person": person,
	}))
	confFile := filepath.Join(dir, "httpd.conf")
	must(os.WriteFile(confFile, conf.Bytes(), 0o644))
	cmd := exec.Command(apacheBinary, "-f", confFile, "-DFOREGROUND")
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Apache's workers share its output pipe: a group of its own, so that
	// the cleanup can kill them all, and a WaitDelay, so that Wait returns
	// even if one outlives the parent with the pipe open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	must(cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // a worker left behind
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("apache output: %s\nerror.log:\n%s", out.String(), log)
		}
	})
	rp := &apacheRP{URL: "http://" + addr, dir: dir}
	for deadline := time.Now().Add(15 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return rp
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("apache exited: %s\n%s", out.String(), log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("apache did not listen")
		}
	}
}

// apacheSession is what mod_auth_openidc's info hook tells of the session.
type apacheSession struct {
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token"`
	IDToken      map[string]any `json:"id_token"`
	Userinfo     map[string]any `json:"userinfo"`
}

func (br *browser) apacheSession(rp *apacheRP) (apacheSession, int) {
	br.t.Helper()
	o := br.get(rp.URL + "/app/redirect_uri?info=json")
	var s apacheSession
	if o.Status == http.StatusOK {
		if err := json.Unmarshal([]byte(o.Body), &s); err != nil {
			br.t.Fatalf("info hook: %v: %s", err, o.Body)
		}
	}
	return s, o.Status
}

func TestModAuthOpenIDC(t *testing.T) {
	b := startBroker(t, true, nil)
	tests := []struct {
		name   string
		pkce   string   // the client's PKCE policy at the broker
		extra  []string // mod_auth_openidc settings besides the common ones
		submit bool     // the answer is a form_post page to submit
	}{
		{"PKCE S256", store.PKCERequired, []string{"OIDCPKCEMethod S256"}, false},
		{"PKCE optional, module defaults", store.PKCEOptional, nil, false},
		{"PKCE S256, form_post", store.PKCERequired, []string{"OIDCPKCEMethod S256", "OIDCResponseMode form_post"}, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clientID, secret := fmt.Sprintf("apache-%d", i), rand.Text()
			// The client is registered for the port Apache gets, so Apache
			// starts first, with the client's id and secret.
			rp := startApache(t, b.URL, clientID, secret, oidTeacher, tc.extra)
			registerApache(t, b, rp, clientID, secret, tc.pkce)

			// Login: Apache → broker → simulator → consent → Apache.
			br := newBrowser(t)
			br.client.Transport = acceptHTML{}
			o := br.through(br.get(rp.URL + "/app/index.html"))
			if tc.submit {
				o = br.submitFormPost(o)
			}
			if o.Status != http.StatusOK || !strings.Contains(o.Body, "вы вошли") {
				t.Fatalf("login ended with %d %v: %.500s", o.Status, o.Redirect, o.Body)
			}
			s, status := br.apacheSession(rp)
			if status != http.StatusOK || s.IDToken["person_id"] != "t-0001" || s.IDToken["iss"] != b.URL || s.AccessToken == "" || s.RefreshToken == "" ||
				s.Userinfo["person_id"] != "t-0001" || s.Userinfo["sub"] != s.IDToken["sub"] {
				t.Fatalf("session %d: %+v", status, s)
			}

			// Refresh, through the module's refresh endpoint.
			o = br.get(rp.URL + "/app/redirect_uri?" + url.Values{"refresh": {rp.URL + "/app/index.html"}, "access_token": {s.AccessToken}}.Encode())
			if o.Status != http.StatusOK || !strings.Contains(o.Body, "вы вошли") {
				t.Fatalf("refresh ended with %d %v: %.300s", o.Status, o.Redirect, o.Body)
			}
			fresh, _ := br.apacheSession(rp)
			if fresh.AccessToken == "" || fresh.AccessToken == s.AccessToken || fresh.RefreshToken == s.RefreshToken {
				t.Fatalf("not refreshed: %+v", fresh)
			}
			if active := introspectActive(t, b, fresh.AccessToken); !active {
				t.Fatal("the refreshed access token is not active at the broker")
			}

			// Logout: Apache → broker's end_session_endpoint → ESIA's logout
			// → Apache's logged-out page; the session is gone.
			o = br.get(rp.URL + "/app/redirect_uri?logout=" + url.QueryEscape(rp.URL+"/loggedout.html"))
			if o.Status != http.StatusOK || !strings.Contains(o.Body, "вы вышли") {
				t.Fatalf("logout ended with %d %v: %.300s", o.Status, o.Redirect, o.Body)
			}
			br.stopAt = b.URL + "/oauth2/auth"
			if o := br.get(rp.URL + "/app/index.html"); o.Redirect == nil || !strings.HasPrefix(o.Redirect.String(), b.URL+"/oauth2/auth") {
				t.Fatalf("after logout: %d %v", o.Status, o.Redirect)
			}
			// The module revoked its tokens at the broker on the way out
			// (revocation_endpoint).
			if introspectActive(t, b, fresh.AccessToken) {
				t.Fatal("access token still active after logout")
			}
		})
	}
}

// registerApache registers Apache's client at the broker, for the port
// Apache got.
func registerApache(t *testing.T, b *broker, rp *apacheRP, clientID, secret, pkce string) {
	t.Helper()
	err := b.comp.Store.CreateClient(context.Background(), store.Client{ID: clientID, TenantID: server.DevTenant, Name: "Apache",
		SecretHash: oauth.HashSecret(secret), RedirectURIs: []string{rp.URL + "/app/redirect_uri"},
		PostLogoutRedirectURIs: []string{rp.URL + "/loggedout.html"},
		GrantTypes:             []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		Scopes: []string{"openid", "profile", "offline_access"}, PKCE: pkce})
	if err != nil {
		t.Fatal(err)
	}
}

// TestModAuthOpenIDCLoginRefused: with OIDCResponseMode form_post, a login
// the broker refuses after ESIA (a person not in the roster) ends on the
// broker's page whose «Вернуться в дневник» posts access_denied to Apache,
// which shows the provider's error — as a link, mod_auth_openidc took it
// for a new login and answered «Invalid Request».
func TestModAuthOpenIDCLoginRefused(t *testing.T) {
	b := startBroker(t, true, nil)
	secret := rand.Text()
	rp := startApache(t, b.URL, "apache-refused", secret, oidNotInRoster, []string{"OIDCPKCEMethod S256", "OIDCResponseMode form_post"})
	registerApache(t, b, rp, "apache-refused", secret, store.PKCERequired)
	br := newBrowser(t)
	br.client.Transport = acceptHTML{}
	page := br.through(br.get(rp.URL + "/app/index.html"))
	if strings.Contains(page.Body, `href="`+rp.URL) {
		t.Fatalf("a link back for a form_post client: %.500s", page.Body)
	}
	o := br.submitFormPost(page)
	if !strings.Contains(o.Body, "OpenID Connect Provider error: access_denied") || !strings.Contains(o.Body, "not_found") {
		t.Fatalf("Apache answered %d: %.500s", o.Status, o.Body)
	}
}

// submitFormPost submits the form of page o that posts to another site —
// the form_post page's «Продолжить», an error page's «Вернуться в
// дневник» — as a browser without JavaScript does.
func (br *browser) submitFormPost(o outcome) outcome {
	br.t.Helper()
	action, form := crossSiteForm(br.t, o)
	resp, err := br.client.PostForm(action, form)
	if err != nil {
		br.t.Fatal(err)
	}
	return br.outcome(resp)
}

// crossSiteForm is the action and fields of page o's form that posts to an
// absolute URL.
func crossSiteForm(t testing.TB, o outcome) (string, url.Values) {
	t.Helper()
	for _, loc := range formPostAction.FindAllStringSubmatchIndex(o.Body, -1) {
		action := htmlUnescape(o.Body[loc[2]:loc[3]])
		if !strings.HasPrefix(action, "http") {
			continue
		}
		body := o.Body[loc[1]:]
		body = body[:strings.Index(body, "</form>")]
		form := url.Values{}
		for _, in := range formPostInput.FindAllStringSubmatch(body, -1) {
			form.Add(htmlUnescape(in[1]), htmlUnescape(in[2]))
		}
		return action, form
	}
	t.Fatalf("no form posting to the diary: %d %.500s", o.Status, o.Body)
	return "", nil
}

// introspectActive asks the broker whether an access token is active, as
// the dev tenant's API client.
func introspectActive(t *testing.T, b *broker, token string) bool {
	t.Helper()
	secret := rand.Text()
	id := "introspect-" + strings.ToLower(rand.Text()[:8])
	if err := b.comp.Store.CreateClient(context.Background(), store.Client{ID: id, TenantID: server.DevTenant,
		SecretHash: oauth.HashSecret(secret), GrantTypes: []string{"client_credentials"}, Scopes: []string{"roster"}}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r.Active
}

// acceptHTML sends what a browser's navigation sends: mod_auth_openidc
// answers 401 instead of redirecting to the provider when a request does
// not accept HTML.
type acceptHTML struct{}

func (acceptHTML) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	r.Header.Set("User-Agent", "Mozilla/5.0 (broker test)")
	return http.DefaultTransport.RoundTrip(r)
}
