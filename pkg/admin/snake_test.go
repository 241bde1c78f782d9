package admin

import "testing"

// TestSnake: the view's names of store.Client's fields are the API's.
func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"RedirectURIs": "redirect_uris", "PostLogoutRedirectURIs": "post_logout_redirect_uris",
		"IDTokenAlg": "id_token_alg", "TenantID": "tenant_id", "PKCE": "pkce", "ID": "id", "SecretRotatedAt": "secret_rotated_at"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}
