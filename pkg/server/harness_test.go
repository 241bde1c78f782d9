package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// clock is the injected clock of a test broker. It starts at the real time
// (fosite checks auth_time against the real clock) and only moves forward.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// broker is a running test broker.
type broker struct {
	URL   string
	comp  *server.Components
	clock *clock
	logs  *bytes.Buffer
}

// startBroker builds and serves a broker on 127.0.0.1:0 with settings
// adjusted by edit (called after the address and issuer are known).
func startBroker(t testing.TB, dev bool, edit func(*server.Settings)) *broker {
	t.Helper()
	return startBrokerWith(t, dev, edit, server.BuildOptions{})
}

// startBrokerWith is startBroker with build options (the clock and the
// logger are the harness's own).
func startBrokerWith(t testing.TB, dev bool, edit func(*server.Settings), opts server.BuildOptions) *broker {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := server.DefaultSettings()
	s.Dev = dev
	s.Addr = l.Addr().String()
	s.Issuer = "http://" + l.Addr().String()
	s.RateLimit = 0
	if edit != nil {
		edit(&s)
	}
	b := &broker{URL: s.Issuer, clock: &clock{}, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: b.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	opts.Now, opts.Logger = b.clock.Now, logger
	comp, err := server.Build(ctx, s, opts)
	if err != nil {
		cancel()
		t.Fatalf("build: %v", err)
	}
	b.comp = comp
	srv, err := server.New(comp)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-done
		comp.Close()
		// Every answer of /api/v1 as api/openapi.yaml describes it.
		for _, f := range server.ContractFailures(srv) {
			t.Errorf("api/openapi.yaml: %s", f)
		}
	})
	return b
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// diary is a diary vendor's login integration: x/oauth2 and go-oidc.
type diary struct {
	cfg      *oauth2.Config
	verifier string
	nonce    string
	state    string
}

const diaryRedirect = server.DevExternalRedirect

func newDiary(b *broker) *diary {
	return &diary{
		cfg: &oauth2.Config{ClientID: server.DevClientID, ClientSecret: server.DevClientSecret, RedirectURL: diaryRedirect,
			Scopes:   []string{oidc.ScopeOpenID, "profile"},
			Endpoint: oauth2.Endpoint{AuthURL: b.URL + "/oauth2/auth", TokenURL: b.URL + "/oauth2/token"}},
		verifier: oauth2.GenerateVerifier(), nonce: "nonce-" + randomSuffix(), state: "state-" + randomSuffix(),
	}
}

func randomSuffix() string { return rand.Text() }

func (d *diary) authURL(extra ...oauth2.AuthCodeOption) string {
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(d.verifier), oidc.Nonce(d.nonce)}, extra...)
	return d.cfg.AuthCodeURL(d.state, opts...)
}

// browser is a person's browser: a cookie jar, following redirects inside
// the broker and the simulator, stopping at the diary's redirect URI.
type browser struct {
	t      testing.TB
	client *http.Client
	// stopAt, when set, also stops following redirects at this URL prefix.
	stopAt string
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t}
	b.client = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), diaryRedirect) || (b.stopAt != "" && strings.HasPrefix(req.URL.String(), b.stopAt)) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	return b
}

// outcome is where a login ended: at the diary (Redirect set) or on a page.
type outcome struct {
	Redirect *url.URL
	Status   int
	Body     string
	// URL is the scheme and host that answered.
	URL string
	// Header is the answer's header.
	Header http.Header
}

func (b *browser) get(u string) outcome {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return b.outcome(resp)
}

func (b *browser) outcome(resp *http.Response) outcome {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	o := outcome{Status: resp.StatusCode, Body: string(body), URL: resp.Request.URL.Scheme + "://" + resp.Request.URL.Host, Header: resp.Header}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		o.Redirect, _ = url.Parse(loc)
	}
	return o
}

var (
	requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)
	formAction   = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// chooseOnSimulator submits the simulator's login page for a person (what a
// tester clicks when sim_person is not passed through).
func (b *browser) chooseOnSimulator(page outcome, oid string) outcome {
	b.t.Helper()
	req := requestField.FindStringSubmatch(page.Body)
	act := formAction.FindStringSubmatch(page.Body)
	if req == nil || act == nil {
		b.t.Fatalf("no simulator login form in: %.300s", page.Body)
	}
	resp, err := b.client.PostForm(htmlUnescape(act[1]), url.Values{"request": {htmlUnescape(req[1])}, "person": {oid}})
	if err != nil {
		b.t.Fatal(err)
	}
	return b.through(b.outcome(resp))
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// loginAs runs a diary login as an ESIA fixture person (dev mode passes
// sim_person through to the simulator), agreeing on the way as a person
// would: it accepts the self-consent page and passes a parent's notice.
func loginAs(t testing.TB, b *broker, d *diary, oid string, extra ...oauth2.AuthCodeOption) outcome {
	t.Helper()
	if oid != "" {
		extra = append(extra, oauth2.SetAuthURLParam("sim_person", oid))
	}
	br := newBrowser(t)
	return br.through(br.get(d.authURL(extra...)))
}

// through answers the broker's pages between ESIA and the diary: the
// self-consent page (accept) and a parent's notice (continue).
func (b *browser) through(o outcome) outcome {
	b.t.Helper()
	for i := 0; i < 3 && o.Redirect == nil && o.Status == http.StatusOK; i++ {
		switch {
		case strings.Contains(o.Body, `action="/consent"`):
			o = b.submit(o, "/consent", url.Values{"decision": {"accept"}})
		case strings.Contains(o.Body, `action="/login/continue"`):
			o = b.submit(o, "/login/continue", nil)
		default:
			return o
		}
	}
	return o
}

// submit posts a broker form of page with its csrf and login fields.
func (b *browser) submit(page outcome, action string, fields url.Values) outcome {
	b.t.Helper()
	csrf, id := csrfField.FindStringSubmatch(page.Body), loginField.FindStringSubmatch(page.Body)
	if csrf == nil {
		b.t.Fatalf("no form with a csrf field in: %.300s", page.Body)
	}
	form := url.Values{"csrf": {htmlUnescape(csrf[1])}}
	if id != nil {
		form.Set("login", htmlUnescape(id[1]))
	}
	for k, v := range fields {
		form[k] = v
	}
	resp, err := b.client.PostForm(page.URL+action, form)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.outcome(resp)
}

// tokens exchanges the code of a successful login and verifies the ID token.
func tokens(t testing.TB, b *broker, d *diary, o outcome) (*oauth2.Token, map[string]any) {
	t.Helper()
	if o.Redirect == nil {
		t.Fatalf("login ended on a page (status %d): %.500s", o.Status, o.Body)
	}
	q := o.Redirect.Query()
	if q.Get("error") != "" || q.Get("state") != d.state {
		t.Fatalf("diary got %s", o.Redirect)
	}
	ctx := context.Background()
	tok, err := d.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(d.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	p, err := oidc.NewProvider(ctx, b.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: server.DevClientID}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	if idt.Nonce != d.nonce {
		t.Fatalf("nonce %q, want %q", idt.Nonce, d.nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, claims
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	loginField = regexp.MustCompile(`name="login" value="([^"]+)"`)
)

// chooseRole submits the broker's role picker.
func (b *browser) chooseRole(page outcome, role string) outcome {
	b.t.Helper()
	csrf, id := csrfField.FindStringSubmatch(page.Body), loginField.FindStringSubmatch(page.Body)
	if csrf == nil || id == nil {
		b.t.Fatalf("no role picker form in: %.300s", page.Body)
	}
	u := page.URL + "/login/role"
	resp, err := b.client.PostForm(u, url.Values{"csrf": {htmlUnescape(csrf[1])}, "login": {htmlUnescape(id[1])}, "role": {role}})
	if err != nil {
		b.t.Fatal(err)
	}
	return b.through(b.outcome(resp))
}

// grantDirect records a consent for a record straight in the store — test
// set-up for tests about something else than consent.
func grantDirect(tb testing.TB, b *broker, personID string, kind store.ConsentKind) {
	tb.Helper()
	ctx := context.Background()
	tn, err := b.comp.Store.GetTenant(ctx, server.DevTenant)
	if err != nil {
		tb.Fatal(err)
	}
	err = b.comp.Consent.Store.CreateConsent(ctx, store.Consent{ID: rand.Text(), TenantID: server.DevTenant, PersonID: personID,
		Kind: kind, GrantorOID: "test", TextVersion: tn.Consent.TextVersion, TextHash: "test", Status: store.ConsentGranted,
		GrantedAt: time.Now().UTC()})
	if err != nil {
		tb.Fatal(err)
	}
}
