package oauth

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// TestCloneDefaultSession: cloneDefaultSession copies as fosite's Clone
// (deepcopy) does — the same value, nil slices and maps left nil, empty
// ones empty — and the copy shares nothing the refresh handler changes
// with the original.
func TestCloneDefaultSession(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	full := func() *openid.DefaultSession {
		return &openid.DefaultSession{
			Claims: &jwt.IDTokenClaims{JTI: "j", Issuer: "https://broker", Subject: "sub", Audience: []string{"diary"}, Nonce: "n",
				ExpiresAt: at, IssuedAt: at, RequestedAt: at, AuthTime: at, AccessTokenHash: "ah", AuthenticationContextClassReference: "acr",
				AuthenticationMethodsReferences: []string{"pwd"}, CodeHash: "ch", Extra: map[string]any{"s": "v", "n": 1.5, "b": true, "t": at, "nil": nil}},
			Headers:   &jwt.Headers{Extra: map[string]any{"kid": "k1"}},
			ExpiresAt: map[fosite.TokenType]time.Time{fosite.AccessToken: at, fosite.RefreshToken: at.Add(time.Hour)},
			Username:  "u", Subject: "sub",
		}
	}
	tests := []struct {
		name string
		s    *openid.DefaultSession
	}{
		{"nil", nil},
		{"empty", &openid.DefaultSession{}},
		{"NewSession's", NewSession().DefaultSession},
		{"full", full()},
		{"empty slices and maps", &openid.DefaultSession{Claims: &jwt.IDTokenClaims{Audience: []string{}, AuthenticationMethodsReferences: []string{}, Extra: map[string]any{}},
			Headers: &jwt.Headers{Extra: map[string]any{}}, ExpiresAt: map[fosite.TokenType]time.Time{}}},
		{"the broker's claims", &openid.DefaultSession{Claims: &jwt.IDTokenClaims{Extra: Claims{PersonID: "p", Roles: []string{"parent"}, Tenant: "demo", Children: []string{"c1", "c2"}}.Map(true)}}},
		{"the broker's claims, decoded", &openid.DefaultSession{Claims: &jwt.IDTokenClaims{Extra: map[string]any{"roles": []any{"parent"}, "children": []any{"c1", "c2"}, "tenant": "demo"}}}},
		{"nested extra", &openid.DefaultSession{Claims: &jwt.IDTokenClaims{Extra: map[string]any{"m": map[string]any{"a": []any{"b", map[string]any{"c": 1.0}}}}}}},
		{"nil slices and maps in extra", &openid.DefaultSession{Claims: &jwt.IDTokenClaims{Extra: map[string]any{"s": []string(nil), "a": []any(nil), "m": map[string]any(nil)}}}},
		{"nested header", &openid.DefaultSession{Headers: &jwt.Headers{Extra: map[string]any{"l": []string{"x"}}}}},
		{"another type in extra (fosite's Clone)", &openid.DefaultSession{Claims: &jwt.IDTokenClaims{Extra: map[string]any{"i": []int{1}}}}},
		{"another type in header (fosite's Clone)", &openid.DefaultSession{Headers: &jwt.Headers{Extra: map[string]any{"p": &struct{ A []string }{[]string{"x"}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cloneDefaultSession(tc.s)
			var want *openid.DefaultSession
			if tc.s != nil {
				want = tc.s.Clone().(*openid.DefaultSession)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("clone\n%#v\nwant (deepcopy)\n%#v", got, want)
			}
			if got == nil {
				return
			}
			if got == tc.s || (got.Claims != nil && got.Claims == tc.s.Claims) || (got.Headers != nil && got.Headers == tc.s.Headers) {
				t.Fatal("the clone shares a pointer with the original")
			}
			before := tc.s.Clone().(*openid.DefaultSession)
			got.SetExpiresAt(fosite.AccessToken, at.Add(time.Minute))
			got.Username = "changed"
			if got.Claims != nil {
				got.Claims.Subject = "changed"
				if len(got.Claims.Audience) > 0 {
					got.Claims.Audience[0] = "changed"
				}
				if len(got.Claims.AuthenticationMethodsReferences) > 0 {
					got.Claims.AuthenticationMethodsReferences[0] = "changed"
				}
				got.Claims.Add("added", "x")
				mutate(got.Claims.Extra)
			}
			if got.Headers != nil {
				got.Headers.Add("added", "x")
				mutate(got.Headers.Extra)
			}
			if !reflect.DeepEqual(tc.s, before) {
				t.Fatalf("changing the clone changed the original: %#v", tc.s)
			}
		})
	}
}

// mutate changes every slice element and map entry in m, nested ones too.
func mutate(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case []string:
			for i := range v {
				v[i] = "changed"
			}
		case []any:
			for i, e := range v {
				if em, ok := e.(map[string]any); ok {
					mutate(em)
				} else {
					v[i] = "changed"
				}
			}
		case map[string]any:
			mutate(v)
		case *struct{ A []string }:
			v.A[0] = "changed"
		}
		if _, ok := v.(string); ok {
			m[k] = "changed"
		}
	}
}

// TestCloneDefaultSessionKnowsEveryField: the structs cloneDefaultSession
// copies have the fields it knows; a fosite upgrade that adds one (a
// slice or a map would be shared) fails here.
func TestCloneDefaultSessionKnowsEveryField(t *testing.T) {
	fields := func(v any) []string {
		var out []string
		for f := range reflect.TypeOf(v).Fields() {
			out = append(out, f.Name+" "+f.Type.String())
		}
		return out
	}
	for _, tc := range []struct {
		v    any
		want []string
	}{
		{openid.DefaultSession{}, []string{"Claims *jwt.IDTokenClaims", "Headers *jwt.Headers", "ExpiresAt map[fosite.TokenType]time.Time", "Username string", "Subject string"}},
		{jwt.IDTokenClaims{}, []string{"JTI string", "Issuer string", "Subject string", "Audience []string", "Nonce string", "ExpiresAt time.Time",
			"IssuedAt time.Time", "RequestedAt time.Time", "AuthTime time.Time", "AccessTokenHash string", "AuthenticationContextClassReference string",
			"AuthenticationMethodsReferences []string", "CodeHash string", "Extra map[string]interface {}"}},
		{jwt.Headers{}, []string{"Extra map[string]interface {}"}},
	} {
		if got := fields(tc.v); !slices.Equal(got, tc.want) {
			t.Errorf("%T has fields\n%q\ncloneDefaultSession knows\n%q", tc.v, got, tc.want)
		}
	}
}

// BenchmarkSessionClone compares the broker's session clone with
// fosite's (deepcopy).
func BenchmarkSessionClone(b *testing.B) {
	s := NewSession()
	s.Claims = Claims{Subject: "sub", PersonID: "p", Roles: []string{"student"}, Tenant: "demo"}
	s.DefaultSession.Claims.Audience = []string{"diary"}
	// The ID token claims as a refresh reads them: decoded from JSON.
	s.DefaultSession.Claims.Extra = map[string]any{"person_id": "p", "roles": []any{"student"}, "tenant": "demo", "age_group": "adult", "esia_trust": "confirmed"}
	s.SetExpiresAt(fosite.AccessToken, time.Now())
	s.SetExpiresAt(fosite.RefreshToken, time.Now())
	b.Run("deepcopy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = s.DefaultSession.Clone()
		}
	})
	b.Run("cloneDefaultSession", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = cloneDefaultSession(s.DefaultSession)
		}
	})
}
