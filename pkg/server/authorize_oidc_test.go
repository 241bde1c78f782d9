package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
)

// TestAuthorizeRefusedBeforeESIA: what the broker can tell from the
// authorization request alone — a request object, a request_uri, an
// unsupported response mode, prompt=none — goes back to the diary by
// redirect at once: no page, nobody sent to ESIA.
func TestAuthorizeRefusedBeforeESIA(t *testing.T) {
	b := startBroker(t, true, nil)
	param := oauth2.SetAuthURLParam
	for _, tc := range []struct {
		name    string
		opt     oauth2.AuthCodeOption
		wantErr string
	}{
		{"request object", param("request", "eyJhbGciOiJub25lIn0.e30."), "request_not_supported"},
		{"request_uri", param("request_uri", "https://diary.example/r/1"), "request_uri_not_supported"},
		{"response_mode fragment", param("response_mode", "fragment"), "unsupported_response_mode"},
		{"prompt none", param("prompt", "none"), "login_required"},
		{"unknown prompt", param("prompt", "create"), "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			o := newBrowser(t).get(d.authURL(tc.opt, param("sim_person", oidTeacher)))
			if o.Redirect == nil || !strings.HasPrefix(o.Redirect.String(), diaryRedirect) {
				t.Fatalf("status %d, no redirect to the diary: %.300s", o.Status, o.Body)
			}
			q := o.Redirect.Query()
			if q.Get("error") != tc.wantErr || q.Get("state") != d.state || q.Get("iss") != b.URL || q.Get("code") != "" {
				t.Fatalf("diary got %s, want error %s", o.Redirect, tc.wantErr)
			}
		})
	}
}

var (
	formPostAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formPostInput  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// TestFormPostThroughESIA: a whole login with response_mode=form_post ends
// on the broker's form_post page — its CSP allowing the one submitting
// script by hash instead of the broker's usual policy — whose code the
// diary exchanges; a login refused after ESIA (prompt=login, ESIA's
// authentication older than the request) posts its error the same way.
func TestFormPostThroughESIA(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	formPost := oauth2.SetAuthURLParam("response_mode", "form_post")
	o := loginAs(t, b, d, oidTeacher, formPost)
	posted := postedForm(t, o)
	redirect, _ := url.Parse(diaryRedirect + "?" + posted.Encode())
	tok, claims := tokens(t, b, d, outcome{Redirect: redirect})
	if tok.AccessToken == "" || claims["person_id"] != "t-0001" || posted.Get("iss") != b.URL {
		t.Fatalf("posted %v, claims %v", posted, claims)
	}

	d = newDiary(b)
	br := newBrowser(t)
	br.stopAt = b.URL + "/esia-sim/"
	o = br.get(d.authURL(formPost, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("sim_person", oidTeacher)))
	b.clock.Advance(-time.Minute)
	defer b.clock.Advance(time.Minute)
	br.stopAt = ""
	posted = postedForm(t, br.through(br.get(o.Redirect.String())))
	if posted.Get("error") != "login_required" || posted.Get("code") != "" || posted.Get("state") != d.state || posted.Get("iss") != b.URL {
		t.Fatalf("posted %v", posted)
	}
}

// postedForm is what the form_post page o posts to the diary, after
// checking the page: the diary's redirect URI, the CSP of the form_post
// page, a «Продолжить» button.
func postedForm(t *testing.T, o outcome) url.Values {
	t.Helper()
	if o.Status != http.StatusOK || o.Redirect != nil {
		t.Fatalf("status %d redirect %v: %.300s", o.Status, o.Redirect, o.Body)
	}
	if csp := o.Header.Get("Content-Security-Policy"); csp != oauth.FormPostCSP || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
	act := formPostAction.FindStringSubmatch(o.Body)
	if act == nil || htmlUnescape(act[1]) != diaryRedirect || !strings.Contains(o.Body, "Продолжить") {
		t.Fatalf("form: %.500s", o.Body)
	}
	posted := url.Values{}
	for _, in := range formPostInput.FindAllStringSubmatch(o.Body, -1) {
		posted.Set(htmlUnescape(in[1]), htmlUnescape(in[2]))
	}
	return posted
}

// TestPromptLoginThroughESIA: prompt=login and max_age=0 send the person
// through ESIA's logout first, which ends ESIA's session and so forces a
// new authentication; and prompt=login and max_age are held against the
// auth_time of ESIA's ID token and the time the broker got the request.
// The simulator authenticates afresh, so the diary gets its code and
// auth_time; when ESIA's authentication predates the request (the clock is
// moved back while the person is at ESIA, as when ESIA reuses its session)
// the diary gets login_required by redirect.
func TestPromptLoginThroughESIA(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		param   string
		value   string
		back    time.Duration // how far ESIA's auth_time predates the request
		wantErr string
		logout  bool // through ESIA's logout first
	}{
		{"prompt=login, fresh", "prompt", "login", 0, "", true},
		{"prompt=login, earlier ESIA session", "prompt", "login", 5 * time.Minute, "login_required", true},
		{"max_age=0, fresh", "max_age", "0", 0, "", true},
		{"max_age=600, five minutes", "max_age", "600", 5 * time.Minute, "", false},
		{"max_age=60, five minutes", "max_age", "60", 5 * time.Minute, "login_required", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDiary(b)
			br := newBrowser(t)
			br.stopAt = b.URL + "/esia-sim/"
			requested := b.clock.Now()
			o := br.get(d.authURL(oauth2.SetAuthURLParam(tc.param, tc.value), oauth2.SetAuthURLParam("sim_person", oidTeacher)))
			if o.Redirect == nil || !strings.HasPrefix(o.Redirect.String(), b.URL+"/esia-sim/") {
				t.Fatalf("not sent to ESIA: %d %v", o.Status, o.Redirect)
			}
			if viaLogout := strings.HasPrefix(o.Redirect.Path, "/esia-sim/idp/ext/Logout"); viaLogout != tc.logout {
				t.Fatalf("sent to %s, want through ESIA's logout %v", o.Redirect, tc.logout)
			}
			b.clock.Advance(-tc.back)
			defer b.clock.Advance(tc.back)
			br.stopAt = ""
			o = br.through(br.get(o.Redirect.String()))
			if tc.wantErr != "" {
				if o.Redirect == nil || o.Redirect.Query().Get("error") != tc.wantErr || o.Redirect.Query().Get("code") != "" ||
					o.Redirect.Query().Get("state") != d.state {
					t.Fatalf("status %d, diary got %v: %.300s", o.Status, o.Redirect, o.Body)
				}
				// The attempt ends as the diary was told, not at "linked".
				recent, err := b.comp.Store.AttemptsByOID(ctx, server.DevTenant, oidTeacher, 1)
				if err != nil || len(recent) != 1 || recent[0].Outcome != tc.wantErr || recent[0].Reason != tc.wantErr {
					t.Fatalf("the attempt: %+v %v", recent, err)
				}
				return
			}
			tok, _ := tokens(t, b, d, o)
			p, err := oidc.NewProvider(ctx, b.URL)
			if err != nil {
				t.Fatal(err)
			}
			idt, err := p.Verifier(&oidc.Config{ClientID: server.DevClientID}).Verify(ctx, tok.Extra("id_token").(string))
			if err != nil {
				t.Fatal(err)
			}
			var c struct {
				AuthTime int64 `json:"auth_time"`
			}
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			if want := requested.Add(-tc.back).Unix(); c.AuthTime < want-2 || c.AuthTime > want+2 {
				t.Fatalf("auth_time %d, want ESIA's %d", c.AuthTime, want)
			}
		})
	}
}

// TestFormPostErrorsAfterESIA: for a diary that asked for
// response_mode=form_post, the broker's own refusals after ESIA come back
// posted too: a declined consent as the form_post page, a person not in
// the roster as the error page whose «Вернуться в дневник» is a form
// posting access_denied (a link would send it in the query, which such a
// diary does not read).
func TestFormPostErrorsAfterESIA(t *testing.T) {
	b := startBroker(t, true, nil)
	formPost := oauth2.SetAuthURLParam("response_mode", "form_post")

	d := newDiary(b)
	br := newBrowser(t)
	page := br.get(d.authURL(formPost, oauth2.SetAuthURLParam("sim_person", oidTeacher)))
	posted := postedForm(t, br.submit(page, "/consent", url.Values{"decision": {"decline"}}))
	if posted.Get("error") != "access_denied" || posted.Get("state") != d.state || posted.Get("iss") != b.URL || posted.Get("ref") == "" {
		t.Fatalf("declined consent posted %v", posted)
	}

	d = newDiary(b)
	o := loginAs(t, b, d, oidNotInRoster, formPost)
	if strings.Contains(o.Body, `href="`+diaryRedirect) {
		t.Fatalf("a link back: %.500s", o.Body)
	}
	action, form := crossSiteForm(t, o)
	if action != diaryRedirect || form.Get("error") != "access_denied" || form.Get("error_description") != "not_found" ||
		form.Get("state") != d.state || form.Get("iss") != b.URL || form.Get("ref") == "" || !strings.Contains(o.Body, "Вернуться в дневник") {
		t.Fatalf("back form to %s: %v", action, form)
	}
}
