package oauth

import (
	"context"

	"github.com/ory/fosite/token/jwt"

	"github.com/diarybroker/broker/pkg/keyring"
)

// idTokenSigner signs ID tokens with the keyring's active key and names it
// in the `kid` header, so that diaries pick the right key from the JWKS
// during a rotation.
type idTokenSigner struct {
	keys *keyring.Signing
}

var _ jwt.Signer = (*idTokenSigner)(nil)

func (s *idTokenSigner) with(ctx context.Context) (*jwt.DefaultSigner, keyring.SigningKey, error) {
	k, err := s.keys.Active(ctx)
	if err != nil {
		return nil, k, err
	}
	return &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return k.Private, nil }}, k, nil
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
	h["kid"] = k.ID
	return d.Generate(ctx, claims, &jwt.Headers{Extra: h})
}

func (s *idTokenSigner) Validate(ctx context.Context, token string) (string, error) {
	d, _, err := s.with(ctx)
	if err != nil {
		return "", err
	}
	return d.Validate(ctx, token)
}

func (s *idTokenSigner) Hash(ctx context.Context, in []byte) ([]byte, error) {
	return (&jwt.DefaultSigner{}).Hash(ctx, in)
}

func (s *idTokenSigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	d, _, err := s.with(ctx)
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
