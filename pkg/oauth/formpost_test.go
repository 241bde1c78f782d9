package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// formPost is a form_post page as the browser sees it.
type formPost struct {
	csp, action string
	params      url.Values
	body        string
}

var (
	formRE   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	inputRE  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	scriptRE = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
)

func getFormPost(t *testing.T, u string) formPost {
	t.Helper()
	resp, err := noRedirect.Get(u)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	fp := formPost{csp: resp.Header.Get("Content-Security-Policy"), params: url.Values{}, body: string(b)}
	m := formRE.FindStringSubmatch(fp.body)
	if m == nil {
		t.Fatalf("no form: %s", b)
	}
	fp.action = html.UnescapeString(m[1])
	for _, in := range inputRE.FindAllStringSubmatch(fp.body, -1) {
		fp.params.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return fp
}

// TestFormPostResponseMode: response_mode=form_post answers with a page
// whose form posts the code (or the error), state and iss to the redirect
// URI; its one inline script is allowed by its hash and nothing else is,
// and a «Продолжить» button works without JavaScript. The code it carries
// is exchanged as usual.
func TestFormPostResponseMode(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	fp := getFormPost(t, h.config().AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oidc.Nonce("nonce-12345678"),
		oauth2.SetAuthURLParam("response_mode", "form_post")))
	if fp.action != "http://127.0.0.1:9/cb" || fp.params.Get("code") == "" || fp.params.Get("state") != "state-12345678" ||
		fp.params.Get("iss") != h.srv.URL {
		t.Fatalf("form posts %v to %s", fp.params, fp.action)
	}
	checkFormPostPage(t, fp)
	tok, err := h.config().Exchange(ctx, fp.params.Get("code"), oauth2.VerifierOption(v))
	must(t, err)
	provider, err := oidc.NewProvider(ctx, h.srv.URL)
	must(t, err)
	if _, err := provider.Verifier(&oidc.Config{ClientID: "diary"}).Verify(ctx, tok.Extra("id_token").(string)); err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Modes []string `json:"response_modes_supported"`
	}
	must(t, provider.Claims(&meta))
	if strings.Join(meta.Modes, " ") != "query form_post" {
		t.Fatalf("response_modes_supported = %v", meta.Modes)
	}

	// Errors come back the same way.
	for _, tc := range []struct{ name, param, value, wantErr string }{
		{"prompt none", "prompt", "none", "login_required"},
		{"request object", "request", "eyJhbGciOiJub25lIn0.e30.", "request_not_supported"},
		{"short nonce", "nonce", "n", "insufficient_entropy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := getFormPost(t, h.config().AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v),
				oauth2.SetAuthURLParam("response_mode", "form_post"), oauth2.SetAuthURLParam(tc.param, tc.value)))
			if fp.action != "http://127.0.0.1:9/cb" || fp.params.Get("error") != tc.wantErr || fp.params.Get("code") != "" ||
				fp.params.Get("state") != "state-12345678" || fp.params.Get("iss") != h.srv.URL {
				t.Fatalf("form posts %v to %s", fp.params, fp.action)
			}
			checkFormPostPage(t, fp)
		})
	}
}

// checkFormPostPage: the CSP allows the page's one script by its hash,
// no inline script otherwise, and the button is there for a browser
// without JavaScript.
func checkFormPostPage(t *testing.T, fp formPost) {
	t.Helper()
	scripts := scriptRE.FindAllStringSubmatch(fp.body, -1)
	if len(scripts) != 1 {
		t.Fatalf("%d scripts", len(scripts))
	}
	sum := sha256.Sum256([]byte(scripts[0][1]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(fp.csp, "script-src "+hash+";") || strings.Contains(fp.csp, "unsafe-inline") ||
		!strings.Contains(fp.csp, "default-src 'none'") || strings.Contains(fp.body, "onload") {
		t.Fatalf("CSP %q does not allow exactly the script %q", fp.csp, scripts[0][1])
	}
	if !strings.Contains(fp.body, `<button type="submit">Продолжить</button>`) || !strings.Contains(fp.body, `lang="ru"`) {
		t.Fatalf("no «Продолжить» button: %s", fp.body)
	}
}
