package oauth

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// TestDecodeMemo: a code's decode kept in a request's cache is handed back
// only for the same record bytes, into a fresh session (a clone of the
// decoded one) or into the very session the decode filled; everything
// handed back is a copy that callers may change freely.
func TestDecodeMemo(t *testing.T) {
	data := []byte(`{"id":"r1"}`)
	other := []byte(`{"id":"r1"}`) // the same bytes elsewhere: not the same record
	filled := NewSession()
	filled.TenantID = "t1"
	filled.Claims.Subject = "sub-1"
	filled.SetExpiresAt(fosite.AuthorizeCode, time.Unix(1000, 0))
	decoded := &fosite.Request{ID: "r1", RequestedScope: fosite.Arguments{"openid"}, GrantedScope: fosite.Arguments{"openid"},
		Form: url.Values{"redirect_uri": {"https://d.example/cb"}}, Session: filled}
	forms := map[string]url.Values{"pkce": {"code_challenge": {"abc"}}, "oidc": {"nonce": {"n-1"}}}

	c := &requestCache{}
	if _, _, ok := c.reuseDecoded(data, nil); ok {
		t.Fatal("a decode was handed back before one was kept")
	}
	c.keepDecoded(data, decoded, nil) // no folded forms: not a code's record, not kept
	if _, _, ok := c.reuseDecoded(data, nil); ok {
		t.Fatal("a record without forms was kept")
	}
	c.keepDecoded(data, decoded, forms)
	// fosite adds the tokens' expiry to the request's session after the
	// code's read; the kept decode is as decoded.
	filled.SetExpiresAt(fosite.AccessToken, time.Unix(2000, 0))

	tests := []struct {
		name    string
		data    []byte
		session fosite.Session
		ok      bool
	}{
		{"fresh session", data, nil, true},
		{"the session the decode filled", data, filled, true},
		{"another session", data, NewSession(), false},
		{"another record", other, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, gotForms, ok := c.reuseDecoded(tc.data, tc.session)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if req.ID != "r1" || !reflect.DeepEqual(req.Form, decoded.Form) || !reflect.DeepEqual(gotForms, forms) ||
				!reflect.DeepEqual(req.GrantedScope, decoded.GrantedScope) {
				t.Fatalf("request %+v, forms %v", req, gotForms)
			}
			s := req.Session.(*Session)
			if tc.session != nil && s != filled {
				t.Fatal("not the session the caller gave")
			}
			if s.TenantID != "t1" || s.Claims.Subject != "sub-1" || !s.GetExpiresAt(fosite.AuthorizeCode).Equal(time.Unix(1000, 0)) {
				t.Fatalf("session %+v", s)
			}
			if tc.session == nil && !s.GetExpiresAt(fosite.AccessToken).IsZero() {
				t.Fatal("a fresh session got what fosite set on the request's since")
			}
			// Changing what was handed back changes nothing kept.
			req.Form.Set("redirect_uri", "https://evil.example")
			req.GrantedScope[0] = "changed"
			gotForms["pkce"].Set("code_challenge", "changed")
			if tc.session == nil {
				s.TenantID = "changed"
			}
		})
	}
	req, gotForms, ok := c.reuseDecoded(data, nil)
	if !ok || req.Form.Get("redirect_uri") != "https://d.example/cb" || req.GrantedScope[0] != "openid" ||
		gotForms["pkce"].Get("code_challenge") != "abc" || req.Session.(*Session).TenantID != "t1" {
		t.Fatalf("the kept decode changed: %+v %v", req, gotForms)
	}
}
