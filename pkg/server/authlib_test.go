package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/testenv"
)

// Python Authlib as Debian ships it (python3-authlib, with python3-requests
// for its requests client), run by Debian's /usr/bin/python3 (PyPI is not
// needed): scripts/python/authlib_rp.py.

const debianPython = "/usr/bin/python3"

// authlibResult is what authlib_rp.py reports at the end.
type authlibResult struct {
	IDTokenClaims map[string]any `json:"id_token_claims"`
	IDTokenAlg    string         `json:"id_token_alg"`
	AtHashChecked bool           `json:"at_hash_checked"`
	Userinfo      map[string]any `json:"userinfo"`
	Refreshed     struct {
		AccessTokenChanged  bool           `json:"access_token_changed"`
		RefreshTokenChanged bool           `json:"refresh_token_changed"`
		IDTokenClaims       map[string]any `json:"id_token_claims"`
	} `json:"refreshed"`
	UserinfoAfterRefresh   int    `json:"userinfo_after_refresh"`
	RevocationStatus       int    `json:"revocation_status"`
	RefreshAfterRevocation string `json:"refresh_after_revocation"`
}

// TestAuthlib: a Python diary with Authlib's requests client logs in with
// PKCE S256 (client_secret_basic, Authlib's default), validates the ID
// token with Authlib's CodeIDToken against the JWKS — signature, iss, aud,
// exp, nonce and at_hash, which the script shows is really checked by
// presenting another access token — reads userinfo, refreshes (validating
// the new ID token's at_hash too) and revokes the refresh token, which is
// refused afterwards; with the broker's default ES256 and with a client
// registered for RS256.
func TestAuthlib(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		testenv.Unavailable(t, debianPython, err)
	}
	if err := exec.Command(debianPython, "-c", "import authlib.integrations.requests_client, authlib.oidc.core").Run(); err != nil {
		testenv.Unavailable(t, "python3-authlib and python3-requests (Debian)", err)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "python", "authlib_rp.py"))
	if err != nil {
		t.Fatal(err)
	}
	b := startBroker(t, true, nil)
	for _, alg := range []string{"", store.AlgRS256} {
		name := "default ES256"
		if alg != "" {
			name = alg
		}
		t.Run(name, func(t *testing.T) {
			clientID := "python-authlib" + alg
			const redirectURI, loggedOut = "http://127.0.0.1:1/authlib/callback", "http://127.0.0.1:1/authlib/logged-out"
			secret := registerRP(t, b, clientID, "Python Authlib", redirectURI, loggedOut, alg)
			cmd := exec.Command(debianPython, script, b.URL, clientID, secret, redirectURI, `{"sim_person":"`+oidTeacher+`"}`)
			var r authlibResult
			driveRP(t, b, cmd, redirectURI, &r)
			want := "ES256"
			if alg != "" {
				want = alg
			}
			checks := []struct {
				what string
				ok   bool
			}{
				{"ID token from the broker for the client", r.IDTokenClaims["iss"] == b.URL && audience(r.IDTokenClaims) == clientID},
				{"ID token of the person", r.IDTokenClaims["person_id"] == "t-0001" && r.IDTokenClaims["sub"] != nil},
				{"ID token algorithm " + want, r.IDTokenAlg == want},
				{"at_hash present and checked by Authlib", r.IDTokenClaims["at_hash"] != nil && r.AtHashChecked},
				{"userinfo of the same subject", r.Userinfo["sub"] == r.IDTokenClaims["sub"] && r.Userinfo["person_id"] == "t-0001"},
				{"refresh gives new tokens", r.Refreshed.AccessTokenChanged && r.Refreshed.RefreshTokenChanged},
				{"refreshed ID token with at_hash, same subject", r.Refreshed.IDTokenClaims != nil &&
					r.Refreshed.IDTokenClaims["at_hash"] != nil && r.Refreshed.IDTokenClaims["sub"] == r.IDTokenClaims["sub"]},
				{"userinfo with the refreshed token", r.UserinfoAfterRefresh == 200},
				{"revocation accepted", r.RevocationStatus == 200},
				{"revoked refresh token refused", r.RefreshAfterRevocation == "invalid_grant"},
			}
			for _, c := range checks {
				if !c.ok {
					t.Errorf("%s: %+v", c.what, r)
				}
			}
		})
	}
}
