package esiasim_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

func TestGOSTClient(t *testing.T) {
	key, cert, err := esiasim.SelfSignedGOST(clientID, today)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *esiasim.Config) { c.Clients[0].Certificate = cert })
	signGOST := func(msg string, enc *base64.Encoding) string {
		sig, err := gost.SignMessage(rand.Reader, key, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		return enc.EncodeToString(sig)
	}
	tests := []struct {
		name   string
		secret func(q url.Values) string
		code   string
	}{
		{"v2 message, unpadded", func(q url.Values) string {
			return signGOST(clientID+q.Get("scope")+q.Get("timestamp")+q.Get("state")+redirect, base64.RawURLEncoding)
		}, ""},
		{"v2 message, padded", func(q url.Values) string {
			return signGOST(clientID+q.Get("scope")+q.Get("timestamp")+q.Get("state")+redirect, base64.URLEncoding)
		}, ""},
		{"v1-ordered message", func(q url.Values) string {
			return signGOST(q.Get("scope")+q.Get("timestamp")+clientID+q.Get("state"), base64.RawURLEncoding)
		}, "ESIA-007053"},
		{"RSA signature for a GOST certificate", func(q url.Values) string {
			return sign(keys().client, clientID+q.Get("scope")+q.Get("timestamp")+q.Get("state")+redirect)
		}, "ESIA-007053"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := e.acParams(scopeBasic)
			q.Set("client_certificate_hash", gost.CertificateHash(cert))
			q.Set("client_secret", tc.secret(q))
			q.Set("sim_person", "1000100001")
			cb := callback(t, e.get("/aas/oauth2/v2/ac", q, ""))
			if got := errCode(cb.Get("error_description")); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
		})
	}
}
