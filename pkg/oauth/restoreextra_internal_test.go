package oauth

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// encodeAsBefore encodes r as releases before storedForm did: the
// session with its extra ID token claims.
func encodeAsBefore(t *testing.T, r fosite.Requester) []byte {
	t.Helper()
	data, err := marshalStored(storedRequest{
		ID: r.GetID(), RequestedAt: r.GetRequestedAt(), ClientID: r.GetClient().GetID(),
		RequestedScope: r.GetRequestedScopes(), GrantedScope: r.GetGrantedScopes(),
		Form: r.GetRequestForm(), Session: r.GetSession(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeSessions decodes the stored requests a and b into fresh
// sessions, as a read does.
func decodeSessions(t *testing.T, p *Provider, a, b []byte) (*Session, *Session) {
	t.Helper()
	var out [2]*Session
	for i, data := range [][]byte{a, b} {
		req, _, err := p.storage.decodeForms(context.Background(), data, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = req.GetSession().(*Session)
	}
	return out[0], out[1]
}

// TestStoredSessionWithoutExtraClaims: a stored request whose session
// holds no extra ID token claims ("ext" null, as encodeRequest writes it
// since storedForm) decodes into the same session as one that holds them
// (as earlier releases wrote it), with and without the profile scope; a
// session that had none to give (no broker claims) gets none.
func TestStoredSessionWithoutExtraClaims(t *testing.T) {
	p := fuzzProvider(t)
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	claims := Claims{Subject: "sub-1", PersonID: "st-1", Roles: []string{"student"}, Tenant: "demo", AgeGroup: "child",
		ESIATrust: "confirmed", Children: []string{"st-2", "st-3"}, FamilyName: "Павлов", GivenName: "Иван", MiddleName: "Петрович"}
	tests := []struct {
		name   string
		scope  fosite.Arguments
		claims Claims
	}{
		{"profile", fosite.Arguments{"openid", "profile"}, claims},
		{"no profile", fosite.Arguments{"openid"}, claims},
		{"no broker claims", fosite.Arguments{"openid"}, Claims{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := p.newSession("demo", tt.claims, tt.scope.Has(ScopeProfile), at, at)
			req := &fosite.Request{ID: "r1", RequestedAt: at, Client: &fosite.DefaultClient{ID: "diary"},
				RequestedScope: tt.scope, GrantedScope: tt.scope, Session: sess}
			full := encodeAsBefore(t, req)
			slimSess := sess.Clone().(*Session)
			slimSess.DefaultSession.Claims.Extra = nil
			req.Session = slimSess
			slim := encodeAsBefore(t, req)
			if !strings.Contains(string(slim), `"ext":null`) || len(slim) >= len(full) && tt.claims.Subject != "" {
				t.Fatalf("the slim encoding still holds the extra claims: %s", slim)
			}
			want, got := decodeSessions(t, p, full, slim)
			if tt.claims.Subject == "" {
				want.DefaultSession.Claims.Extra = nil // none to restore from
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded without ext:\n%#v\nwith ext:\n%#v", got.DefaultSession.Claims.Extra, want.DefaultSession.Claims.Extra)
			}
		})
	}
}

// TestStoredFormLeavesOutDerivedClaims: encodeRequest writes a session's
// extra ID token claims only when restoreExtra would not give them back
// as they are — claims that something added or changed, or a session
// without a subject; the derived ones (as newSession made them, or as an
// earlier release's row decoded them) become "ext":null, the session it
// was given is not changed, and the decoded session is the same.
func TestStoredFormLeavesOutDerivedClaims(t *testing.T) {
	ctx := context.Background()
	p := fuzzProvider(t)
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	claims := Claims{Subject: "sub-1", PersonID: "st-1", Roles: []string{"teacher", "parent"}, Tenant: "demo",
		Children: []string{"st-3", "st-2"}, FamilyName: "Павлова", GivenName: "Анна"}
	profile := fosite.Arguments{"openid", "profile"}
	tests := []struct {
		name   string
		scope  fosite.Arguments
		claims Claims
		change func(extra map[string]interface{}) // nil: as newSession made them
		decode bool                               // as an earlier release's row decoded them
		omit   bool
	}{
		{name: "derived, profile", scope: profile, claims: claims, omit: true},
		{name: "derived, no profile", scope: fosite.Arguments{"openid"}, claims: claims, omit: true},
		{name: "decoded from an earlier row", scope: profile, claims: claims, decode: true, omit: true},
		{name: "an added claim", scope: profile, claims: claims, change: func(e map[string]interface{}) { e["acr_extra"] = "x" }},
		{name: "a changed claim", scope: profile, claims: claims, change: func(e map[string]interface{}) { e["tenant"] = "other" }},
		{name: "a removed claim", scope: profile, claims: claims, change: func(e map[string]interface{}) { delete(e, "roles") }},
		{name: "a list in another order", scope: profile, claims: claims, change: func(e map[string]interface{}) { e["roles"] = []string{"teacher", "parent"} }},
		{name: "a number", scope: profile, claims: claims, change: func(e map[string]interface{}) { e["person_id"] = 7 }},
		{name: "names without the profile scope", scope: fosite.Arguments{"openid"}, claims: claims,
			change: func(e map[string]interface{}) { e["family_name"] = "Павлова" }},
		{name: "no subject", scope: profile, claims: Claims{PersonID: "st-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := p.newSession("demo", tt.claims, tt.scope.Has(ScopeProfile), at, at)
			if tt.change != nil {
				tt.change(sess.DefaultSession.Claims.Extra)
			}
			req := &fosite.Request{ID: "r1", RequestedAt: at, Client: &fosite.DefaultClient{ID: "diary"},
				RequestedScope: tt.scope, GrantedScope: tt.scope, Session: sess}
			before := encodeAsBefore(t, req)
			if tt.decode {
				old, _, err := p.storage.decodeForms(ctx, before, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := old.GetSession().(*Session).DefaultSession.Claims.Extra["roles"].([]interface{}); !ok {
					t.Fatal("an earlier row's roles did not decode as JSON lists do")
				}
				req.Session = old.GetSession()
			}
			idc := req.GetSession().(*Session).DefaultSession.Claims
			kept := maps.Clone(idc.Extra)
			data, err := encodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if omitted := strings.Contains(string(data), `"ext":null`); omitted != tt.omit {
				t.Fatalf("ext left out: %v, want %v: %s", omitted, tt.omit, data)
			}
			if now := req.GetSession().(*Session).DefaultSession.Claims; now != idc || !reflect.DeepEqual(now.Extra, kept) || now.Extra == nil {
				t.Fatalf("encoding changed the session's ID token claims: %p (was %p), extra %#v", now, idc, now.Extra)
			}
			if tt.omit && len(data) >= len(before) {
				t.Fatalf("%d bytes, no fewer than the %d with ext", len(data), len(before))
			}
			if want, got := decodeSessions(t, p, before, data); !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded:\n%#v\nwant:\n%#v", got.DefaultSession.Claims.Extra, want.DefaultSession.Claims.Extra)
			}
		})
	}
}

// BenchmarkStoredRequest encodes and decodes a login's stored request
// (a person with two roles, two children and the profile scope) as
// earlier releases kept it (every member of fosite's session types, the
// extra claims in "ext") and as encodeRequest keeps it now
// (storedsession.go); "bytes" is the encoded size (docs/performance.md).
func BenchmarkStoredRequest(b *testing.B) {
	ctx := context.Background()
	p := fuzzProvider(b)
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	claims := Claims{Subject: "k2Jx0f3Qm1s8c7Vn4LpZ9wYtR6uE5aHb", PersonID: "t-0001", Roles: []string{"parent", "teacher"}, Tenant: "demo",
		AgeGroup: "adult", ESIATrust: "confirmed", Children: []string{"st-0002", "st-0003"},
		FamilyName: "Иванова", GivenName: "Анна", MiddleName: "Сергеевна"}
	scope := fosite.Arguments{"openid", "profile", "offline_access"}
	req := &fosite.Request{ID: "6f1c2a9e-4b7d-4e21-9a53-0c8d7e6b5f41", RequestedAt: at, Client: &fosite.DefaultClient{ID: "diary"},
		RequestedScope: scope, GrantedScope: scope, Session: p.newSession("demo", claims, true, at, at)}
	forms := []struct {
		name   string
		encode func() ([]byte, error)
	}{
		{"as before", func() ([]byte, error) {
			return marshalStored(storedRequest{ID: req.ID, RequestedAt: req.RequestedAt, ClientID: "diary",
				RequestedScope: scope, GrantedScope: scope, Session: req.Session})
		}},
		{"stored form", func() ([]byte, error) { return encodeRequest(req) }},
	}
	for _, f := range forms {
		data, err := f.encode()
		if err != nil {
			b.Fatal(err)
		}
		b.Run("encode/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.encode(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "bytes")
		})
		b.Run("decode/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := p.storage.decodeForms(ctx, data, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "bytes")
		})
	}
}

// TestDerivedByIsMap: Claims.derivedBy accepts exactly the extra claims
// Session.extraClaims (Map but "sub") gives — as built and after a JSON
// round trip — and refuses them with any claim removed, changed, added,
// or with the names of the other profile choice.
func TestDerivedByIsMap(t *testing.T) {
	full := Claims{Subject: "s", PersonID: "p-1", Roles: []string{"teacher", "parent"}, Tenant: "demo", AgeGroup: "adult",
		ESIATrust: "confirmed", Children: []string{"c-2", "c-1"}, FamilyName: "Иванова", GivenName: "Анна", MiddleName: "Сергеевна"}
	variants := map[string]Claims{
		"full":        full,
		"empty":       {},
		"no roles":    {Subject: "s", PersonID: "p-1", Tenant: "demo"},
		"given only":  {Subject: "s", PersonID: "p-1", Roles: []string{"student"}, Tenant: "demo", GivenName: "Иван"},
		"no children": {Subject: "s", PersonID: "p-1", Roles: []string{"b", "a"}, Tenant: "t", AgeGroup: AgeUnder14, ESIATrust: TrustChild},
		"empty lists": {Subject: "s", Roles: []string{}, Children: []string{}},
	}
	for name, c := range variants {
		for _, wp := range []bool{false, true} {
			s := &Session{Claims: c}
			extra := s.extraClaims(wp)
			if !c.derivedBy(extra, wp) {
				t.Errorf("%s, profile %v: refused as built: %v", name, wp, extra)
			}
			raw, err := json.Marshal(extra)
			if err != nil {
				t.Fatal(err)
			}
			var decoded map[string]interface{}
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatal(err)
			}
			if !c.derivedBy(decoded, wp) {
				t.Errorf("%s, profile %v: refused as decoded: %s", name, wp, raw)
			}
			if other := s.extraClaims(!wp); !reflect.DeepEqual(other, extra) && c.derivedBy(other, wp) {
				t.Errorf("%s, profile %v: took the other profile choice's claims %v", name, wp, other)
			}
			for k, v := range extra {
				without := maps.Clone(extra)
				delete(without, k)
				if c.derivedBy(without, wp) {
					t.Errorf("%s, profile %v: took them without %s", name, wp, k)
				}
				changed := maps.Clone(extra)
				switch v := v.(type) {
				case string:
					changed[k] = v + "x"
				case []string:
					changed[k] = append(slices.Clone(v), "x")
				}
				if c.derivedBy(changed, wp) {
					t.Errorf("%s, profile %v: took them with %s changed", name, wp, k)
				}
				if list, ok := v.([]string); ok && len(list) > 0 {
					withNumber := make([]interface{}, len(list))
					for i, e := range list {
						withNumber[i] = e
					}
					withNumber[len(list)-1] = 7
					changed[k] = withNumber
					if c.derivedBy(changed, wp) {
						t.Errorf("%s, profile %v: took a number in %s", name, wp, k)
					}
				}
			}
			added := maps.Clone(extra)
			added["sub"] = c.Subject
			if c.derivedBy(added, wp) {
				t.Errorf("%s, profile %v: took them with sub", name, wp)
			}
		}
	}
}
