package esia_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
)

// recordingSigner returns the bytes 0..63 (the size of a GOST signature) and
// records what it signed.
type recordingSigner struct {
	mu       sync.Mutex
	messages []string
}

func (s *recordingSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, string(msg))
	sig := make([]byte, 64)
	for i := range sig {
		sig[i] = byte(i)
	}
	return sig, nil
}

func (s *recordingSigner) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.messages) == 0 {
		return ""
	}
	return s.messages[len(s.messages)-1]
}

const (
	state    = "2f1e7c3a-0b4d-4c1e-9a7f-3d2b1c0e9f8a"
	hash64   = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	secret86 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw"
)

func urlConfig(s esia.Signer) *esia.Config {
	return &esia.Config{
		BaseURL:         "https://esia-portal1.test.gosuslugi.ru/",
		ClientID:        "DIARY01",
		CertificateHash: hash64,
		RedirectURL:     "https://diary.example/esia/callback",
		Scopes:          []string{"openid", "fullname", "snils"},
		Signer:          s,
		Now:             func() time.Time { return today },
	}
}

func TestAuthURL(t *testing.T) {
	const prefix = "https://esia-portal1.test.gosuslugi.ru/aas/oauth2/v2/ac?"
	const msg = "DIARY01" + "openid fullname snils" + "2026.11.24 10:00:00 +0300" + state + "https://diary.example/esia/callback"
	tests := []struct {
		name    string
		mutate  func(c *esia.Config)
		extra   url.Values
		wantURL string
		wantMsg string
	}{
		{
			name:    "unpadded secret (default)",
			wantMsg: msg,
			wantURL: prefix + "access_type=online&client_certificate_hash=" + hash64 + "&client_id=DIARY01&client_secret=" + secret86 +
				"&redirect_uri=https%3A%2F%2Fdiary.example%2Fesia%2Fcallback&response_type=code&scope=openid+fullname+snils&state=" + state +
				"&timestamp=2026.11.24+10%3A00%3A00+%2B0300",
		},
		{
			name:    "padded secret, offline, pass-through parameter",
			mutate:  func(c *esia.Config) { c.SecretPadding = true; c.AccessType = esia.AccessOffline },
			extra:   url.Values{"sim_person": {"1000100001"}},
			wantMsg: msg,
			wantURL: prefix + "access_type=offline&client_certificate_hash=" + hash64 + "&client_id=DIARY01&client_secret=" + secret86 + "%3D%3D" +
				"&redirect_uri=https%3A%2F%2Fdiary.example%2Fesia%2Fcallback&response_type=code&scope=openid+fullname+snils&sim_person=1000100001&state=" + state +
				"&timestamp=2026.11.24+10%3A00%3A00+%2B0300",
		},
		{
			name:    "scope_org signed after scope",
			mutate:  func(c *esia.Config) { c.ScopeOrg = []string{"org_shortname", "org_inn"} },
			wantMsg: "DIARY01" + "openid fullname snils" + "org_shortname org_inn" + "2026.11.24 10:00:00 +0300" + state + "https://diary.example/esia/callback",
			wantURL: prefix + "access_type=online&client_certificate_hash=" + hash64 + "&client_id=DIARY01&client_secret=" + secret86 +
				"&redirect_uri=https%3A%2F%2Fdiary.example%2Fesia%2Fcallback&response_type=code&scope=openid+fullname+snils&scope_org=org_shortname+org_inn&state=" + state +
				"&timestamp=2026.11.24+10%3A00%3A00+%2B0300",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingSigner{}
			c := urlConfig(s)
			if tc.mutate != nil {
				tc.mutate(c)
			}
			got, err := c.AuthURL(context.Background(), state, tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.wantURL {
				t.Errorf("URL\n got %s\nwant %s", got, tc.wantURL)
			}
			if s.last() != tc.wantMsg {
				t.Errorf("signed %q, want %q", s.last(), tc.wantMsg)
			}
		})
	}
}

func TestAuthURLTimestampZone(t *testing.T) {
	s := &recordingSigner{}
	c := urlConfig(s)
	c.Now = func() time.Time { return today.UTC() }
	u, err := c.AuthURL(context.Background(), state, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "timestamp=2026.11.24+07%3A00%3A00+%2B0000") {
		t.Errorf("timestamp not in the clock's zone: %s", u)
	}
}

func TestAuthURLRejects(t *testing.T) {
	tests := []struct {
		name   string
		state  string
		extra  url.Values
		mutate func(*esia.Config)
	}{
		{name: "state not a UUID", state: "abc"},
		{name: "state with braces", state: "{" + state + "}"},
		{name: "extra overrides state", state: state, extra: url.Values{"state": {"x"}}},
		{name: "extra overrides client_secret", state: state, extra: url.Values{"client_secret": {"x"}}},
		{name: "no signer", state: state, mutate: func(c *esia.Config) { c.Signer = nil }},
		{name: "no scopes", state: state, mutate: func(c *esia.Config) { c.Scopes = nil }},
		{name: "relative base URL", state: state, mutate: func(c *esia.Config) { c.BaseURL = "/esia" }},
		{name: "bad access type", state: state, mutate: func(c *esia.Config) { c.AccessType = "forever" }},
		{name: "SHA-1 thumbprint as certificate hash", state: state, mutate: func(c *esia.Config) { c.CertificateHash = hash64[:40] }},
		{name: "lower-case certificate hash", state: state, mutate: func(c *esia.Config) { c.CertificateHash = strings.ToLower(hash64) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := urlConfig(&recordingSigner{})
			if tc.mutate != nil {
				tc.mutate(c)
			}
			if u, err := c.AuthURL(context.Background(), tc.state, tc.extra); err == nil {
				t.Fatalf("accepted: %s", u)
			}
		})
	}
}

func TestNewState(t *testing.T) {
	a, err := esia.NewState()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := esia.NewState()
	if len(a) != 36 || a == b || a[14] != '4' {
		t.Fatalf("states %q %q", a, b)
	}
}
