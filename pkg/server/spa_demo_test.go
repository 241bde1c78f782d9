package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/server"
)

// spaDemoResult is what testdata/spa/app.js writes into #result.
type spaDemoResult struct {
	TokenStatus int `json:"token_status"`
	IDToken     struct {
		Sub      string `json:"sub"`
		PersonID string `json:"person_id"`
	} `json:"id_token"`
	Userinfo                map[string]any `json:"userinfo"`
	RefreshStatus           int            `json:"refresh_status"`
	RefreshedNewTokens      bool           `json:"refreshed_new_tokens"`
	RefreshedIDTokenSub     string         `json:"refreshed_id_token_sub"`
	UserinfoAfterRefresh    int            `json:"userinfo_after_refresh"`
	RevokeAccess            int            `json:"revoke_access"`
	RevokeRefresh           int            `json:"revoke_refresh"`
	UserinfoAfterRevocation int            `json:"userinfo_after_revocation"`
	WWWAuthenticate         string         `json:"www_authenticate"`
	RefreshAfterRevocation  string         `json:"refresh_after_revocation"`
}

// TestDemoSPAInChromium: a tiny static single-page app
// (testdata/spa: two pages and app.js, nothing but fetch and Web Crypto)
// on a loopback origin of its own, as dev mode's public client demo-spa,
// in Chromium with JavaScript on: «Войти» makes the PKCE S256 pair, state
// and nonce and goes to the authorization endpoint found by discovery; the
// person (the simulator's) accepts the consent page; the callback page
// exchanges the code with fetch, verifies the ID token's signature against
// the JWKS with Web Crypto, reads userinfo (a preflighted request),
// refreshes, revokes both tokens — userinfo then answers 401 and the
// refresh token is refused, which the page can read (CORS on errors too) —
// and «Выйти» logs out through the end-session endpoint back to the app.
// Every call is cross-origin: without the broker's CORS the page gets
// nothing.
func TestDemoSPAInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)
	files := http.FileServer(http.Dir("testdata/spa"))
	spa := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/config.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprintf(w, "const BROKER = %q, CLIENT = %q, EXTRA = {sim_person: %q};\n", b.URL, server.DevSPAClientID, oidTeacher)
		case "/callback":
			r.URL.Path = "/callback.html"
			files.ServeHTTP(w, r)
		default:
			files.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(spa.Close)

	// demo-spa is registered for fixed loopback ports (DevSPAOrigins); the
	// test's own port is added to it, as a vendor would add theirs.
	st := b.comp.Store
	cl, err := st.GetClient(context.Background(), server.DevSPAClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !cl.Public || len(cl.SecretHash) != 0 {
		t.Fatalf("demo-spa is not a public client: %+v", cl)
	}
	cl.RedirectURIs = append(cl.RedirectURIs, spa.URL+"/callback")
	cl.PostLogoutRedirectURIs = append(cl.PostLogoutRedirectURIs, spa.URL+"/")
	if err := st.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}

	// JavaScript on, for this test only: the broker's pages still need none.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(spa.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#login")))
	do(t, ctx, chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS(`button[value="accept"]`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.CSS("#result")))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("result").textContent !== "…"`)); err != nil {
		t.Fatalf("the SPA did not finish: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil {
		t.Fatal(err)
	}
	var r spaDemoResult
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("the SPA got: %s", text)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"code exchanged", r.TokenStatus == 200},
		{"ID token verified, of the person", r.IDToken.PersonID == "t-0001" && r.IDToken.Sub != ""},
		{"userinfo of the same subject", r.Userinfo["sub"] == r.IDToken.Sub && r.Userinfo["person_id"] == "t-0001"},
		{"refreshed: new tokens, verified ID token", r.RefreshStatus == 200 && r.RefreshedNewTokens && r.RefreshedIDTokenSub == r.IDToken.Sub},
		{"userinfo with the refreshed token", r.UserinfoAfterRefresh == 200},
		{"both tokens revoked", r.RevokeAccess == 200 && r.RevokeRefresh == 200},
		{"revoked access token: 401 the page can read", r.UserinfoAfterRevocation == 401 && strings.HasPrefix(r.WWWAuthenticate, "Bearer")},
		{"revoked refresh token refused", r.RefreshAfterRevocation == "invalid_grant"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %s", c.what, text)
		}
	}

	// «Выйти»: the end-session endpoint, ESIA's logout, back to the app.
	do(t, ctx, chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	if err != nil {
		t.Fatal(err)
	}
	if loc != spa.URL+"/?state=logged-out" || status != "Вы вышли." {
		t.Fatalf("after logout at %s: %q", loc, status)
	}
}
