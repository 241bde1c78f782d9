package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestRPInitiatedLogoutThroughESIA(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	otherDevice, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
	idToken := tok.Extra("id_token").(string)
	back := b.URL + "/demo"
	var hops []string
	client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.URL.Path)
		if req.URL.Path == "/demo" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {back}, "state": {"logout-state-1"}}
	resp, err := client.Get(b.URL + "/oauth2/logout?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Path != "/demo" || loc.Query().Get("state") != "logout-state-1" {
		t.Fatalf("logout ended at %q (hops %v)", resp.Header.Get("Location"), hops)
	}
	if strings.Join(hops, ",") != "/esia-sim/idp/ext/Logout,/esia/logout,/demo" {
		t.Fatalf("logout did not pass through ESIA: %v", hops)
	}
	// The hint's login ended: its refresh token is invalid_grant. The
	// person's login on another device goes on.
	ctx := context.Background()
	_, err = d.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if re := (*oauth2.RetrieveError)(nil); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh of the logged-out login: %v, want invalid_grant", err)
	}
	if _, err := d.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: otherDevice.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh of the person's other login: %v", err)
	}

	// The registered post_logout_redirect_uri is a loopback URI: it is
	// matched exactly, with no RFC 8252 port leeway and no userinfo.
	u, _ := url.Parse(back)
	for _, target := range []string{"https://evil.example/", "http://evil@" + u.Host + "/demo",
		"http://" + u.Hostname() + ":1/demo", "http://" + u.Hostname() + "/demo"} {
		t.Run("unregistered post_logout_redirect_uri is not followed: "+target, func(t *testing.T) {
			q := url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {target}}
			o := newBrowser(t).get(b.URL + "/oauth2/logout?" + q.Encode())
			if o.Status != 200 || !strings.Contains(o.Body, "Вы вышли") {
				t.Fatalf("status %d: %.200s", o.Status, o.Body)
			}
		})
	}
	t.Run("state that is not clean text: not sent back, the login ends all the same", func(t *testing.T) {
		tok, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))
		q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {back}, "state": {"a\x01b"}}
		o := newBrowser(t).get(b.URL + "/oauth2/logout?" + q.Encode())
		if o.Status != 200 || !strings.Contains(o.Body, "Вы вышли") {
			t.Fatalf("status %d: %.200s", o.Status, o.Body)
		}
		_, err := d.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if re := (*oauth2.RetrieveError)(nil); !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("refresh of the logged-out login: %v, want invalid_grant", err)
		}
	})
	t.Run("forged hint", func(t *testing.T) {
		q := url.Values{"id_token_hint": {"eyJhbGciOiJub25lIn0.e30."}, "post_logout_redirect_uri": {back}}
		o := newBrowser(t).get(b.URL + "/oauth2/logout?" + q.Encode())
		if o.Status != 200 || !strings.Contains(o.Body, "Вы вышли") {
			t.Fatalf("status %d: %.200s", o.Status, o.Body)
		}
	})
}

// TestParentLogoutEndsTheESIASession: «Выйти» on the parent's page ends the
// page session and, through ESIA's logout, the parent's Госуслуги session;
// the page then asks to log in again.
func TestParentLogoutEndsTheESIASession(t *testing.T) {
	b := startBroker(t, true, nil)
	br, page := parentPage(t, b, oidParent)
	var hops []string
	follow := br.client.CheckRedirect
	br.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.URL.Path)
		return follow(req, via)
	}
	o := br.submit(page, "/parent/logout", url.Values{"tenant": {"demo"}})
	if o.Status != http.StatusOK || !strings.Contains(o.Body, "Вы вышли") {
		t.Fatalf("after logout: %d %.300s", o.Status, o.Body)
	}
	if strings.Join(hops, ",") != "/esia-sim/idp/ext/Logout,/esia/logout" {
		t.Fatalf("the parent's logout did not pass through ESIA: %v", hops)
	}
	br.client.CheckRedirect = follow
	u, _ := url.Parse(b.URL + "/parent")
	for _, c := range br.client.Jar.Cookies(u) {
		if c.Name == "broker_parent" {
			t.Fatalf("the parent's cookie survived the logout")
		}
	}
}
