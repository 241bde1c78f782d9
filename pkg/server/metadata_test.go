package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// TestAuthorizationServerMetadata: RFC 8414's well-known URI answers the
// same metadata as OpenID Connect Discovery, with the fields RFC 8414 §2
// requires and the issuer exactly the broker's (§3.3).
func TestAuthorizationServerMetadata(t *testing.T) {
	b := startBroker(t, true, nil)
	get := func(path string) map[string]any {
		resp, err := http.Get(b.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return m
	}
	oidc := get("/.well-known/openid-configuration")
	oauth := get("/.well-known/oauth-authorization-server")
	if !reflect.DeepEqual(oidc, oauth) {
		t.Fatalf("the two metadata documents differ:\n%v\n%v", oidc, oauth)
	}
	if oauth["issuer"] != b.URL {
		t.Fatalf("issuer %v, want %s", oauth["issuer"], b.URL)
	}
	for _, field := range []string{"authorization_endpoint", "token_endpoint", "response_types_supported", "jwks_uri",
		"grant_types_supported", "code_challenge_methods_supported", "introspection_endpoint", "revocation_endpoint"} {
		if oauth[field] == nil {
			t.Errorf("no %s", field)
		}
	}
}
