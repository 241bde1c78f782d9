package admin

import (
	"reflect"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// TestSnake: the view's names of store.Client's fields are the API's.
func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"RedirectURIs": "redirect_uris", "PostLogoutRedirectURIs": "post_logout_redirect_uris",
		"IDTokenAlg": "id_token_alg", "TenantID": "tenant_id", "PKCE": "pkce", "ID": "id", "SecretRotatedAt": "secret_rotated_at"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestClientSettingsMatchStoreClient: every setting of ClientSettings sets
// the store.Client field of its name and type (apply would panic on one
// that does not), and every field of store.Client is in ViewOfClient,
// secrets' hashes excepted.
func TestClientSettingsMatchStoreClient(t *testing.T) {
	client := reflect.TypeFor[store.Client]()
	settings := reflect.TypeFor[ClientSettings]()
	for i := range settings.NumField() {
		f := settings.Field(i)
		cf, ok := client.FieldByName(f.Name)
		want := f.Type
		if want.Kind() == reflect.Pointer {
			want = want.Elem()
		}
		if !ok || cf.Type != want {
			t.Errorf("ClientSettings.%s (%s) has no store.Client field of its name and type", f.Name, want)
		}
	}
	all := store.Client{ID: "c", SecretHash: []byte{1}, PreviousSecretHash: []byte{2}}
	cs := ClientSettings{}
	name, alg := "n", store.AlgRS256
	cs.Name, cs.IDTokenAlg, cs.Scopes = &name, &alg, []string{}
	if !cs.apply(&all) || all.Name != "n" || all.IDTokenAlg != store.AlgRS256 || all.Scopes == nil {
		t.Fatalf("apply: %+v", all)
	}
	v := ViewOfClient(all)
	for i := range client.NumField() {
		f := client.Field(i)
		if _, ok := v[snake(f.Name)]; !ok && !hidden[f.Name] {
			t.Errorf("ViewOfClient lacks %s", snake(f.Name))
		}
	}
	for k, val := range v {
		if b, ok := val.([]byte); ok {
			t.Errorf("ViewOfClient shows bytes %s: %v", k, b)
		}
	}
}
