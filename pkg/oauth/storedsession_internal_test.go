package oauth

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// jsonMembers lists the JSON member names of struct type t's fields,
// those of embedded structs without a tag promoted, as encoding/json
// does.
func jsonMembers(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			out = append(out, jsonMembers(ft)...)
			continue
		}
		if tag == "-" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		out = append(out, tag)
	}
	slices.Sort(out)
	return out
}

// TestStoredSessionMembers: the stored form writes every member fosite's
// session types and Session have, and leaves out headers only when they
// hold nothing — an upgrade of fosite that adds a member fails here
// instead of losing it from stored sessions.
func TestStoredSessionMembers(t *testing.T) {
	pairs := []struct {
		name         string
		full, stored reflect.Type
	}{
		{"session", reflect.TypeFor[Session](), reflect.TypeFor[storedSession]()},
		{"ID token claims", reflect.TypeFor[jwt.IDTokenClaims](), reflect.TypeFor[storedIDTokenClaims]()},
	}
	for _, p := range pairs {
		if full, stored := jsonMembers(p.full), jsonMembers(p.stored); !slices.Equal(full, stored) {
			t.Errorf("%s: members %q, the stored form writes %q", p.name, full, stored)
		}
	}
	if got := jsonMembers(reflect.TypeFor[openid.DefaultSession]()); !slices.Equal(got, []string{"expires_at", "headers", "id_token_claims", "subject", "username"}) {
		t.Errorf("openid.DefaultSession's members are now %q", got)
	}
	// storedForm leaves the headers out when their extra is nil: that
	// must be all they hold.
	if got := jsonMembers(reflect.TypeFor[jwt.Headers]()); !slices.Equal(got, []string{"extra"}) {
		t.Errorf("jwt.Headers' members are now %q; storedForm leaves them out when Extra is nil", got)
	}
}

// TestStoredSessionDecodesAlike: a session in its stored form (empty
// members left out) decodes into a fresh session exactly as its full
// encoding (every member, as releases before wrote it and as fosite's
// types encode) does — for a login's session and for every member set
// or empty in turn — and goccy/go-json writes it as encoding/json does.
func TestStoredSessionDecodesAlike(t *testing.T) {
	p := fuzzProvider(t)
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	claims := Claims{Subject: "sub-1", PersonID: "st-1", Roles: []string{"student"}, Tenant: "demo", FamilyName: "Павлов"}
	full := func() *Session {
		s := p.newSession("demo", claims, true, at, at)
		idc := s.DefaultSession.Claims
		idc.JTI, idc.Issuer, idc.Audience, idc.Nonce = "jti-1", "https://broker", []string{"diary"}, "n-1"
		idc.ExpiresAt, idc.IssuedAt = at.Add(time.Hour), at
		idc.AccessTokenHash, idc.AuthenticationContextClassReference = "ah", "acr-1"
		idc.AuthenticationMethodsReferences, idc.CodeHash = []string{"pwd"}, "ch"
		s.DefaultSession.Headers = &jwt.Headers{Extra: map[string]interface{}{"kid": "k1"}}
		s.DefaultSession.Username = "u"
		s.SetExpiresAt(fosite.RefreshToken, at.Add(720*time.Hour))
		return s
	}
	tests := []struct {
		name string
		edit func(s *Session)
	}{
		{"a login's", func(s *Session) { *s = *p.newSession("demo", claims, true, at, at) }},
		{"every member set", func(*Session) {}},
		{"no jti", func(s *Session) { s.DefaultSession.Claims.JTI = "" }},
		{"no audience", func(s *Session) { s.DefaultSession.Claims.Audience = nil }},
		{"an empty audience", func(s *Session) { s.DefaultSession.Claims.Audience = []string{} }},
		{"no amr", func(s *Session) { s.DefaultSession.Claims.AuthenticationMethodsReferences = nil }},
		{"an empty amr", func(s *Session) { s.DefaultSession.Claims.AuthenticationMethodsReferences = []string{} }},
		{"no times", func(s *Session) {
			c := s.DefaultSession.Claims
			c.ExpiresAt, c.IssuedAt, c.RequestedAt, c.AuthTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		}},
		{"a time in another zone", func(s *Session) {
			s.DefaultSession.Claims.IssuedAt = at.In(time.FixedZone("MSK", 3*3600))
		}},
		{"no headers", func(s *Session) { s.DefaultSession.Headers = nil }},
		{"headers without extra", func(s *Session) { s.DefaultSession.Headers = &jwt.Headers{} }},
		{"headers with empty extra", func(s *Session) { s.DefaultSession.Headers = &jwt.Headers{Extra: map[string]interface{}{}} }},
		{"no expiries", func(s *Session) { s.DefaultSession.ExpiresAt = nil }},
		{"no username", func(s *Session) { s.DefaultSession.Username = "" }},
		{"extra claims of its own", func(s *Session) { s.DefaultSession.Claims.Extra = map[string]interface{}{"x": "y"} }},
		{"no extra claims", func(s *Session) { s.DefaultSession.Claims.Extra = nil }},
		{"no ID token claims", func(s *Session) { s.DefaultSession.Claims = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := full()
			tt.edit(sess)
			scope := fosite.Arguments{"openid", "profile"}
			req := &fosite.Request{ID: "r1", RequestedAt: at, Client: &fosite.DefaultClient{ID: "diary"},
				RequestedScope: scope, GrantedScope: scope, Session: sess}
			before := encodeAsBefore(t, req)
			now, err := encodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			std, err := json.Marshal(storedRequest{ID: req.ID, RequestedAt: at, ClientID: "diary",
				RequestedScope: scope, GrantedScope: scope, Session: sessionToStore(req)})
			if err != nil {
				t.Fatal(err)
			}
			if string(std) != string(now) {
				t.Fatalf("encoding/json writes\n%s\ngoccy/go-json\n%s", std, now)
			}
			if len(now) > len(before) {
				t.Fatalf("%d bytes, more than the %d of the full encoding", len(now), len(before))
			}
			if want, got := decodeSessions(t, p, before, now); !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v\nfrom\n%s\nand\n%s", got.DefaultSession, want.DefaultSession, now, before)
			}
		})
	}
	// A login's session: the stored form is well under the full one.
	req := &fosite.Request{ID: "r1", RequestedAt: at, Client: &fosite.DefaultClient{ID: "diary"},
		GrantedScope: fosite.Arguments{"openid"}, Session: p.newSession("demo", claims, false, at, at)}
	now, err := encodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if before := encodeAsBefore(t, req); len(now) > len(before)*3/4 {
		t.Fatalf("a login's session: %d bytes stored, %d in full", len(now), len(before))
	}
}
