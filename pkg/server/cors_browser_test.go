package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// spaScript is the browser app's code at its redirect URI: it exchanges the
// code (POST /oauth2/token), reads /userinfo with the access token (a
// preflighted request: Authorization) and revokes the refresh token, all
// cross-origin with fetch, and writes what it got into #result.
const spaScript = `(async () => {
  const out = document.getElementById("result");
  try {
    const q = new URLSearchParams(location.search);
    const form = (o) => ({ method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(o) });
    const tok = await (await fetch(BROKER + "/oauth2/token", form({ grant_type: "authorization_code", code: q.get("code"),
      redirect_uri: location.origin + "/callback", client_id: CLIENT, code_verifier: VERIFIER }))).json();
    const info = await (await fetch(BROKER + "/userinfo", { headers: { Authorization: "Bearer " + tok.access_token } })).json();
    const rev = await fetch(BROKER + "/oauth2/revoke", form({ token: tok.refresh_token, client_id: CLIENT }));
    const jwks = await (await fetch(BROKER + "/.well-known/jwks.json")).json();
    out.textContent = "person_id=" + info.person_id + " revoke=" + rev.status + " keys=" + jwks.keys.length;
  } catch (e) {
    out.textContent = "failed: " + e;
  }
})();`

// TestSPAInChromium: a single-page app on an origin of its own signs in
// through the broker in Chromium and then calls the token, userinfo,
// revocation and JWKS endpoints with fetch — which the browser allows only
// because the broker answers with CORS for the public client's origin.
func TestSPAInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)
	verifier := oauth2.GenerateVerifier()
	spa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/callback":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html lang="ru"><body><main><p id="result">…</p></main><script src="/app.js"></script></body></html>`)
		case "/app.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprintf(w, "const BROKER = %q, CLIENT = %q, VERIFIER = %q;\n%s", b.URL, "spa-test", verifier, spaScript)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(spa.Close)
	if err := b.comp.Store.CreateClient(context.Background(), store.Client{ID: "spa-test", TenantID: server.DevTenant, Name: "SPA", Public: true,
		RedirectURIs: []string{spa.URL + "/callback"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeOfflineAccess}}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	cfg := &oauth2.Config{ClientID: "spa-test", RedirectURL: spa.URL + "/callback", Scopes: []string{"openid", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/auth"}}
	auth := cfg.AuthCodeURL("state-spa-test", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nonce-spa-"+oauth2.GenerateVerifier()[:8]),
		oauth2.SetAuthURLParam("sim_person", oidTeacher))
	// The teacher's first login shows the consent page: accept it.
	do(t, ctx, chromedp.Navigate(auth), chromedp.WaitVisible(chromedp.CSS(`button[value="accept"]`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.CSS("#result")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("result") !== null && document.getElementById("result").textContent !== "…"`)); err != nil {
		t.Fatalf("the SPA did not finish: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "person_id=t-0001") || !strings.Contains(text, "revoke=200") || strings.Contains(text, "keys=0") {
		t.Fatalf("the SPA got: %s", text)
	}
	loc, _ := url.Parse(spa.URL)
	t.Logf("SPA on %s: %s", loc.Host, text)
}
