package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// TestDiscoveryProviderBehaviour: discovery says what the authorization
// endpoint does (issue 9, provider behaviour 1–5): both ID token
// algorithms, the default first, S256 alone for PKCE, the query and
// form_post, the prompt values it accepts, no request objects.
func TestDiscoveryProviderBehaviour(t *testing.T) {
	b := startBroker(t, true, nil)
	resp, err := http.Get(b.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id_token_signing_alg_values_supported": []any{"ES256", "RS256"},
		"code_challenge_methods_supported":      []any{"S256"},
		"response_modes_supported":              []any{"query", "form_post"},
		"prompt_values_supported":               []any{"none", "login", "consent", "select_account"},
		"request_parameter_supported":           false,
		"request_uri_parameter_supported":       false,
	}
	for field, v := range want {
		if !reflect.DeepEqual(m[field], v) {
			t.Errorf("%s = %v, want %v", field, m[field], v)
		}
	}
}
