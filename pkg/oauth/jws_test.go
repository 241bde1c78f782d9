package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/ory/fosite/token/jwt"
)

// idTokenClaims are an ID token's claims as fosite hands them to the
// signer (IDTokenClaims.ToMapClaims): the broker's claims under ext.
func idTokenClaims(now time.Time) jwt.MapClaims {
	c := &jwt.IDTokenClaims{
		JTI: "f5a2bf02-2335-4f18-a48d-5c9e11597402", Issuer: "https://id.diary.example", Subject: "eu3vagzrujod7gtnhxwfccr43was2pgj",
		Audience: []string{"demo-diary"}, Nonce: "nonce-JRJKLVCQQTIJCVDKMZTY2DYP5F", ExpiresAt: now.Add(time.Hour),
		IssuedAt: now, RequestedAt: now, AuthTime: now, AccessTokenHash: "p2s6oR-7gem3k8cLVSgErw",
		Extra: map[string]interface{}{"age_group": "adult", "esia_trust": "confirmed", "family_name": "Смирнова",
			"given_name": "Елена", "middle_name": "Викторовна", "name": "Смирнова Елена Викторовна <&>",
			"person_id": "t-0001", "roles": []string{"teacher"}, "tenant": "demo"},
	}
	return c.ToMapClaims()
}

// goJoseToken signs claims the way the broker did before es256JWS:
// fosite's DefaultSigner over go-jose, kid in the header.
func goJoseToken(t testing.TB, priv crypto.Signer, kid string, claims jwt.MapClaims) string {
	d := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return priv, nil }}
	tok, _, err := d.Generate(context.Background(), claims, &jwt.Headers{Extra: map[string]interface{}{"kid": kid}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func segment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestES256JWS checks the direct ES256 signer against independent
// verifiers: jwx (ES256 only) and go-oidc verify every token of many (a
// signature whose r or s is shorter than 32 bytes, about one in 128,
// must be padded), and the header and claims are those the go-jose path
// wrote for the same input.
func TestES256JWS(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	claims := idTokenClaims(now)
	var j es256JWS
	ctx := context.Background()
	verifier := oidc.NewVerifier("https://id.diary.example", &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{priv.Public()}},
		&oidc.Config{ClientID: "demo-diary", SupportedSigningAlgs: []string{"ES256"}, Now: func() time.Time { return now }})
	want, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i++ {
		tok, sig, err := j.sign(priv, "20261207-abc", claims)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(tok, "."+sig) || len(sig) != 86 {
			t.Fatalf("signature part %q of %q", sig, tok)
		}
		payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.ES256, priv.Public()))
		if err != nil {
			t.Fatalf("token %d: jwx: %v", i, err)
		}
		if string(payload) != string(want) {
			t.Fatalf("payload %s, want %s", payload, want)
		}
		idt, err := verifier.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("token %d: go-oidc: %v", i, err)
		}
		if idt.Subject != "eu3vagzrujod7gtnhxwfccr43was2pgj" || idt.Nonce != "nonce-JRJKLVCQQTIJCVDKMZTY2DYP5F" || idt.AccessTokenHash != "p2s6oR-7gem3k8cLVSgErw" {
			t.Fatalf("id token %+v", idt)
		}
	}
	tok, _, err := j.sign(priv, "20261207-abc", claims)
	if err != nil {
		t.Fatal(err)
	}
	old := goJoseToken(t, priv, "20261207-abc", claims)
	for i, part := range []string{"header", "claims"} {
		if got, was := segment(t, tok, i), segment(t, old, i); !reflect.DeepEqual(got, was) {
			t.Errorf("%s %v, the go-jose path wrote %v", part, got, was)
		}
	}
	if h := segment(t, tok, 0); h["alg"] != "ES256" || h["kid"] != "20261207-abc" || h["typ"] != "JWT" {
		t.Errorf("header %v", h)
	}
	// Every claim is there: fosite's own parser reads them back.
	parsed, err := jwt.ParseWithClaims(tok, jwt.MapClaims{}, func(*jwt.Token) (interface{}, error) { return priv.Public(), nil })
	if err != nil || !parsed.Valid() {
		t.Fatalf("fosite parse: %v", err)
	}
	if got, _ := json.Marshal(parsed.Claims); string(got) != string(want) {
		t.Errorf("fosite parsed %s, want %s", got, want)
	}
}

// TestES256Capable: only P-256 ECDSA keys take the direct path.
func TestES256Capable(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		want bool
	}{{"P-256", p256, true}, {"P-384", p384, false}, {"RSA", rsaKey, false}} {
		if got := es256Capable(tc.key); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		h    map[string]interface{}
		want bool
	}{{nil, true}, {map[string]interface{}{"typ": "JWT"}, true}, {map[string]interface{}{"typ": "at+jwt"}, false},
		{map[string]interface{}{"cty": "JWT"}, false}} {
		if got := plainHeader(tc.h); got != tc.want {
			t.Errorf("plainHeader(%v) = %v", tc.h, got)
		}
	}
}

// BenchmarkIDTokenSign compares the ES256 signature of an ID token
// through go-jose (fosite's DefaultSigner, as before) and es256JWS.
func BenchmarkIDTokenSign(b *testing.B) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	claims := idTokenClaims(time.Now())
	b.Run("go-jose", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			goJoseToken(b, priv, "20261207-abc", claims)
		}
	})
	b.Run("direct", func(b *testing.B) {
		var j es256JWS
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := j.sign(priv, "20261207-abc", claims); err != nil {
				b.Fatal(err)
			}
		}
	})
}
