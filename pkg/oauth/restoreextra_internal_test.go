package oauth

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// TestStoredSessionWithoutExtraClaims: a stored request whose session
// holds no extra ID token claims ("ext" null, as a later release will
// write it) decodes into the same session as one that holds them, with
// and without the profile scope; a session that had none to give (no
// broker claims) gets none.
func TestStoredSessionWithoutExtraClaims(t *testing.T) {
	ctx := context.Background()
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
			full, err := encodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			slimSess := sess.Clone().(*Session)
			slimSess.DefaultSession.Claims.Extra = nil
			req.Session = slimSess
			slim, err := encodeRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(slim), `"ext":null`) || len(slim) >= len(full) && tt.claims.Subject != "" {
				t.Fatalf("the slim encoding still holds the extra claims: %s", slim)
			}
			fromFull, _, err := p.storage.decodeForms(ctx, full, nil)
			if err != nil {
				t.Fatal(err)
			}
			fromSlim, _, err := p.storage.decodeForms(ctx, slim, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, got := fromFull.GetSession().(*Session), fromSlim.GetSession().(*Session)
			if tt.claims.Subject == "" {
				want.DefaultSession.Claims.Extra = nil // none to restore from
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decoded without ext:\n%#v\nwith ext:\n%#v", got.DefaultSession.Claims.Extra, want.DefaultSession.Claims.Extra)
			}
		})
	}
}
