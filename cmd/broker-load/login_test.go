package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
)

// devBroker serves `broker dev` (memory store, the simulator inside, the
// demo roster) on 127.0.0.1 and returns its base URL.
func devBroker(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := server.DefaultSettings()
	s.Dev, s.Addr, s.Issuer, s.RateLimit = true, ln.Addr().String(), "http://"+ln.Addr().String(), 0
	comp, err := server.Build(context.Background(), s, server.BuildOptions{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(comp)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close(); _ = comp.Close() })
	return s.Issuer
}

// TestLoginAnswersEveryPage logs in people whose first login shows the
// broker's pages — the consent page, for a teacher who is also a parent
// consent for each record and the role picker — and checks that a whole
// login completes with a code the token endpoint exchanges, the first time
// and again (no pages then, or only the role picker).
func TestLoginAnswersEveryPage(t *testing.T) {
	base := devBroker(t)
	for _, tc := range []struct {
		name, person, role string
		first, again       []string // the forms submitted
	}{
		{"teacher: consent", "1000100001", "", []string{"/consent"}, nil},
		{"parent of two: consent", "1000100002", "", []string{"/consent"}, nil},
		{"teacher and parent: role picker, consent", "1000100011", "", []string{"/login/role", "/consent"}, []string{"/login/role"}},
		{"teacher and parent choosing parent", "1000100031", "parent", []string{"/login/role", "/consent"}, []string{"/login/role"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config{target: base, clientID: server.DevClientID, secret: server.DevClientSecret,
				redirect: server.DevExternalRedirect, person: tc.person, role: tc.role, concurrency: 1}
			l := newLoader(c)
			var forms []string
			l.trace = func(action string) { forms = append(forms, strings.TrimPrefix(action, base)) }
			for _, pass := range []struct {
				name  string
				forms []string
			}{{"first login", tc.first}, {"second login", tc.again}} {
				forms = nil
				code, verifier, err := l.code(tc.person)
				if err != nil {
					t.Fatalf("%s: %v", pass.name, err)
				}
				tok, err := l.cfg.Exchange(l.ctx, code, oauth2.VerifierOption(verifier))
				if err != nil || tok.RefreshToken == "" {
					t.Fatalf("%s: exchange: %v (refresh token %q)", pass.name, err, tok.RefreshToken)
				}
				if strings.Join(forms, " ") != strings.Join(pass.forms, " ") {
					t.Fatalf("%s submitted %q, want %q", pass.name, forms, pass.forms)
				}
			}
		})
	}
}

// TestLoginReportsWhatItSaw: a login that cannot go on names the page the
// person was left on.
func TestLoginReportsWhatItSaw(t *testing.T) {
	base := devBroker(t)
	c := config{target: base, clientID: server.DevClientID, secret: server.DevClientSecret,
		redirect: server.DevExternalRedirect, concurrency: 1}
	l := newLoader(c)
	// 1000100015 is in no roster: the broker's failure page.
	_, _, err := l.code("1000100015")
	if err == nil || err.Error() != "page 403 not_found" {
		t.Fatalf("got %v, want the failure page's reason (page 403 not_found)", err)
	}
}

// TestClassify: what the campaign's table says a failure was.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"the broker refuses the connection",
			&url.Error{Op: "Get", URL: "http://127.0.0.1:8080/oauth2/auth?x=1", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}},
			"connection: connection refused"},
		{"ESIA refuses it",
			&url.Error{Op: "Get", URL: "http://127.0.0.1:8090/aas/oauth2/v2/ac", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}},
			"ESIA's connection: connection refused"},
		{"the token endpoint refuses a refresh", &tokenError{400, "invalid_grant"}, "token 400 invalid_grant"},
		{"a failure page", seen(503, []byte(`<a href="https://d/cb?error=access_denied&amp;error_description=esia_unavailable">`)), "page 503 esia_unavailable"},
		{"a page without a reason", seen(500, []byte(`<h1>Вход не удался</h1>`)), "page 500 «Вход не удался»"},
		{"a long heading, whole letters", seen(503, []byte(`<h1>Сервис временно недоступен</h1>`)), "page 503 «Сервис временно недоступен»"},
	} {
		if got := classify(tc.err, "127.0.0.1:8080"); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestClientCredentialsMode: the client-credentials mode gets API tokens
// from the dev API client, and reports a wrong secret as an error.
func TestClientCredentialsMode(t *testing.T) {
	base := devBroker(t)
	for _, tc := range []struct {
		name, secret string
		ok           bool
	}{{"dev API client", "", true}, {"wrong secret", "nope", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := config{target: base, mode: "client-credentials", concurrency: 1, scope: "support"}
			if tc.secret != "" {
				c.clientID, c.secret = "demo-api", tc.secret
			}
			c.defaults()
			l := newLoader(c)
			err := l.clientToken(&http.Client{Transport: l.tr, Timeout: 10 * time.Second})
			if (err == nil) != tc.ok {
				t.Fatalf("clientToken: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
