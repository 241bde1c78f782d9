package esiasim_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// TestGOSTSecret checks what v2/ac and v3/te take as a GOST client_secret:
// the 64 bytes in the order OpenSSL's gost engine writes them, base64url
// with or without padding. The same bytes in CryptoPro CSP's order
// (reversed) fail like any wrong signature, with ESIA-007053
// (docs/esia-signing.md: a CryptoPro signer needs signer_reverse).
func TestGOSTSecret(t *testing.T) {
	k := keys()
	tests := []struct {
		name   string
		secret func(msg string) string
		code   string
	}{
		{"OpenSSL order, unpadded", func(msg string) string { return base64.RawURLEncoding.EncodeToString(signRaw(k.client, msg)) }, ""},
		{"OpenSSL order, padded", func(msg string) string { return base64.URLEncoding.EncodeToString(signRaw(k.client, msg)) }, ""},
		{"CryptoPro order", func(msg string) string {
			return base64.RawURLEncoding.EncodeToString(gost.Reverse(signRaw(k.client, msg)))
		}, "ESIA-007053"},
		{"RSA signature for a GOST certificate", func(msg string) string { return sign(rsaKeys().client, msg) }, "ESIA-007053"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			t.Run("v2/ac", func(t *testing.T) {
				q := e.acParams(scopeBasic)
				q.Set("client_secret", tc.secret(clientID+scopeBasic+q.Get("timestamp")+stateA+redirect))
				q.Set("sim_person", "1000100001")
				cb := callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
				if got := errCode(cb.Get("error_description")); got != tc.code {
					t.Fatalf("code %q, want %q", got, tc.code)
				}
			})
			t.Run("v3/te", func(t *testing.T) {
				code := e.authorize("1000100001", scopeBasic, "online")
				f := e.teParams(code, scopeBasic)
				f.Set("client_secret", tc.secret(clientID+scopeBasic+f.Get("timestamp")+stateB+redirect+code))
				status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", f))
				if got := errCode(tj.ErrorDescription); got != tc.code || (tc.code == "") != (status == http.StatusOK) {
					t.Fatalf("status %d, code %q, want %q", status, got, tc.code)
				}
			})
		})
	}
}
