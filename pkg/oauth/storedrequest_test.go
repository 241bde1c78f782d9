package oauth

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// TestStoredRequestOnePass checks that a request encoded in one pass
// (the session inside storedRequest) decodes in one pass into the session
// it is given, and reads what the earlier two-pass encoding (the session
// marshalled first, embedded as raw JSON) wrote into the same session:
// stored grants stay readable.
func TestStoredRequestOnePass(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	sess := NewSession()
	sess.TenantID = "demo"
	sess.Claims = Claims{Subject: "sub-1", PersonID: "st-1", Roles: []string{"student"}, Tenant: "demo", FamilyName: "Павлов"}
	sess.DefaultSession.Subject = "sub-1"
	sess.SetExpiresAt(fosite.RefreshToken, at.Add(720*time.Hour))
	sess.DefaultSession.Claims.AuthTime = at
	req := &fosite.Request{ID: "req-1", RequestedAt: at, Client: &fosite.DefaultClient{ID: "diary"},
		RequestedScope: []string{"openid", "profile"}, GrantedScope: []string{"openid", "profile"},
		Form: url.Values{"nonce": {"n-1"}}, Session: sess}

	onePass, err := encodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	rawSession, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	twoPass, err := json.Marshal(struct {
		ID             string          `json:"id"`
		RequestedAt    time.Time       `json:"requested_at"`
		ClientID       string          `json:"client_id"`
		RequestedScope []string        `json:"requested_scope,omitempty"`
		GrantedScope   []string        `json:"granted_scope,omitempty"`
		Form           url.Values      `json:"form,omitempty"`
		Session        json.RawMessage `json:"session"`
	}{req.ID, at, "diary", req.RequestedScope, req.GrantedScope, req.Form, rawSession})
	if err != nil {
		t.Fatal(err)
	}
	decoded := map[string]*Session{}
	for name, data := range map[string][]byte{"one pass": onePass, "two passes": twoPass} {
		got := NewSession()
		sr := storedRequest{Session: got}
		if err := json.Unmarshal(data, &sr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sr.ID != "req-1" || sr.ClientID != "diary" || !sr.RequestedAt.Equal(at) || sr.Form.Get("nonce") != "n-1" {
			t.Errorf("%s: request = %+v", name, sr)
		}
		if sr.Session != any(got) {
			t.Errorf("%s: decoding replaced the session it was given", name)
		}
		if !reflect.DeepEqual(got.Claims, sess.Claims) || got.TenantID != "demo" || got.DefaultSession.Subject != "sub-1" ||
			!got.GetExpiresAt(fosite.RefreshToken).Equal(at.Add(720*time.Hour)) || !got.DefaultSession.Claims.AuthTime.Equal(at) {
			t.Errorf("%s: session = %+v, claims %+v", name, got.DefaultSession, got.Claims)
		}
		decoded[name] = got
	}
	// The one-pass encoding leaves empty members out (storedsession.go):
	// other bytes, the same session.
	if !reflect.DeepEqual(decoded["one pass"], decoded["two passes"]) {
		t.Errorf("one pass and two passes decode differently:\n%s\n%s", onePass, twoPass)
	}
}
