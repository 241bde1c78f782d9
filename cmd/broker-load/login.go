package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// maxPages bounds the pages one login may show (the simulator's login
// page, consent for each record, the role picker, a notice): a login that
// keeps answering pages is a failure, not a loop.
const maxPages = 8

var (
	formTag    = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	fieldValue = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`name="` + name + `" value="([^"]*)"`)
	}
	requestField = fieldValue("request")
	csrfField    = fieldValue("csrf")
	loginField   = fieldValue("login")
	roleButton   = fieldValue("role")
	heading      = regexp.MustCompile(`<h1[^>]*>([^<]*)</h1>`)
	// backReason is the reason on a failure page's link back to the diary.
	backReason = regexp.MustCompile(`error_description=([a-z_]+)`)
)

// pageAnswer is what a person submits on one page of a login: the form's
// action (absolute) and its fields.
type pageAnswer struct {
	action string
	form   url.Values
}

// answer decides what a person logging in as person (an ESIA oid) submits on
// the page body, served at page: the simulator's login page (the person),
// the broker's consent page (accept), its role picker (the first role, or
// role when the page offers it) and its notice that a parent must consent
// (continue). Any other page — a failure page — is an error saying what the
// person saw.
func answer(page *url.URL, status int, body []byte, person, role string) (pageAnswer, error) {
	act := formTag.FindSubmatch(body)
	field := func(re *regexp.Regexp) string {
		if m := re.FindSubmatch(body); m != nil {
			return html.UnescapeString(string(m[1]))
		}
		return ""
	}
	if status == http.StatusOK && act != nil {
		action, err := page.Parse(html.UnescapeString(string(act[1])))
		if err != nil {
			return pageAnswer{}, fmt.Errorf("page %s: bad form action: %w", page.Path, err)
		}
		switch {
		case bytes.Contains(body, []byte(`name="request"`)): // the simulator's login page
			return pageAnswer{action.String(), url.Values{"request": {field(requestField)}, "person": {person}}}, nil
		case action.Path == "/consent":
			return pageAnswer{action.String(), url.Values{"csrf": {field(csrfField)}, "login": {field(loginField)}, "decision": {"accept"}}}, nil
		case action.Path == "/login/role":
			chosen := field(roleButton)
			for _, m := range roleButton.FindAllSubmatch(body, -1) {
				if role != "" && string(m[1]) == role {
					chosen = role
				}
			}
			return pageAnswer{action.String(), url.Values{"csrf": {field(csrfField)}, "login": {field(loginField)}, "role": {chosen}}}, nil
		case action.Path == "/login/continue":
			return pageAnswer{action.String(), url.Values{"csrf": {field(csrfField)}, "login": {field(loginField)}}}, nil
		}
	}
	return pageAnswer{}, seen(status, body)
}

// seen describes a page the login cannot go on from, for the error tally:
// the status and the failure's reason (from the link back to the diary) or
// the page's heading.
func seen(status int, body []byte) error {
	if m := backReason.FindSubmatch(body); m != nil {
		return fmt.Errorf("page %d %s", status, m[1])
	}
	if m := heading.FindSubmatch(body); m != nil {
		return fmt.Errorf("page %d «%s»", status, strings.TrimSpace(html.UnescapeString(string(m[1]))))
	}
	return fmt.Errorf("page %d", status)
}

// walk follows a login from resp, the answer to the diary's authorization
// request, page by page until the broker sends the person back to the
// diary (its redirect URI, which client does not follow), and returns the
// code.
func (l *loader) walk(client *http.Client, resp *http.Response, person string) (string, error) {
	for pages := 0; ; pages++ {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("read %s: %w", resp.Request.URL.Path, err)
		}
		if loc := resp.Header.Get("Location"); loc != "" && strings.HasPrefix(loc, l.c.redirect) {
			u, err := url.Parse(loc)
			if err != nil {
				return "", err
			}
			if code := u.Query().Get("code"); code != "" {
				return code, nil
			}
			return "", fmt.Errorf("diary got error=%s %s", u.Query().Get("error"), u.Query().Get("error_description"))
		}
		if pages == maxPages {
			return "", fmt.Errorf("login showed more than %d pages", maxPages)
		}
		next, err := answer(resp.Request.URL, resp.StatusCode, body, person, l.c.role)
		if err != nil {
			if t, perr := url.Parse(l.c.target); perr == nil && resp.Request.URL.Host != t.Host {
				return "", fmt.Errorf("ESIA's %w", err) // the person never got back to the broker
			}
			return "", err
		}
		if l.trace != nil {
			l.trace(next.action)
		}
		if resp, err = client.PostForm(next.action, next.form); err != nil {
			return "", err
		}
	}
}
