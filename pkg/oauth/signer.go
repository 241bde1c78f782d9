package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/ory/fosite/token/jwt"

	"github.com/diarybroker/broker/pkg/keyring"
)

// idTokenSigner signs ID tokens with the keyring's active key of the
// client's algorithm (withIDTokenAlg; the default one otherwise) and names
// it in the `kid` header, so that diaries pick the right key from the JWKS
// during a rotation.
type idTokenSigner struct {
	keys *keyring.Signing
	// es256 builds ES256 tokens without go-jose (jws.go).
	es256 es256JWS
}

var _ jwt.Signer = (*idTokenSigner)(nil)

type idTokenAlgKey struct{}

// withIDTokenAlg makes the ID tokens signed in ctx use alg, the client's
// id_token_signed_response_alg ("" for the default).
func withIDTokenAlg(ctx context.Context, alg string) context.Context {
	return context.WithValue(ctx, idTokenAlgKey{}, alg)
}

func (s *idTokenSigner) with(ctx context.Context) (*jwt.DefaultSigner, keyring.SigningKey, error) {
	alg, _ := ctx.Value(idTokenAlgKey{}).(string)
	return s.withAlg(ctx, alg)
}

func (s *idTokenSigner) withAlg(ctx context.Context, alg string) (*jwt.DefaultSigner, keyring.SigningKey, error) {
	k, err := s.keys.ActiveFor(ctx, alg)
	if err != nil {
		return nil, k, err
	}
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return k.Private, nil }}, k, nil
}

// forToken is the signer of the algorithm a token's header names (an
// id_token_hint), the default one when it names none the broker uses.
func (s *idTokenSigner) forToken(ctx context.Context, token string) (*jwt.DefaultSigner, error) {
	alg := ""
	if head, _, ok := strings.Cut(token, "."); ok {
		var h struct {
			Alg string `json:"alg"`
		}
		if b, err := base64.RawURLEncoding.DecodeString(head); err == nil && json.Unmarshal(b, &h) == nil && slices.Contains(keyring.Algorithms, h.Alg) {
			alg = h.Alg
		}
	}
	d, _, err := s.withAlg(ctx, alg)
	return d, err
}

func (s *idTokenSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	d, k, err := s.with(ctx)
	if err != nil {
		return "", "", err
	}
	h := map[string]interface{}{}
	if header != nil {
		for k, v := range header.ToMap() {
			h[k] = v
		}
	}
	if claims != nil && k.Algorithm == "ES256" && plainHeader(h) && es256Capable(k.Private) {
		return s.es256.sign(k.Private, k.ID, claims)
	}
	h["kid"] = k.ID
	return d.Generate(ctx, claims, &jwt.Headers{Extra: h})
}

// plainHeader reports whether a token's extra header fields are none but
// the ones es256JWS writes anyway (typ JWT): the header it precomputes.
func plainHeader(h map[string]interface{}) bool {
	for k, v := range h {
		if k != "typ" || v != "JWT" {
			return false
		}
	}
	return true
}

func (s *idTokenSigner) Validate(ctx context.Context, token string) (string, error) {
	d, err := s.forToken(ctx, token)
	if err != nil {
		return "", err
	}
	return d.Validate(ctx, token)
}

func (s *idTokenSigner) Hash(ctx context.Context, in []byte) ([]byte, error) {
	return (&jwt.DefaultSigner{}).Hash(ctx, in)
}

func (s *idTokenSigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	d, err := s.forToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return d.Decode(ctx, token)
}

func (s *idTokenSigner) GetSignature(ctx context.Context, token string) (string, error) {
	return (&jwt.DefaultSigner{}).GetSignature(ctx, token)
}

func (s *idTokenSigner) GetSigningMethodLength(ctx context.Context) int {
	return (&jwt.DefaultSigner{}).GetSigningMethodLength(ctx)
}
