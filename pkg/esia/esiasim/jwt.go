package esiasim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// signJWT returns a compact JWS of claims signed by the token signer. sbt is
// ESIA's token-type header ("access", "id", "authorization_code").
func (s *Simulator) signJWT(sbt string, claims map[string]any) (string, error) {
	signer := s.tokenSigner()
	header, err := json.Marshal(map[string]any{"alg": signer.Alg(), "typ": "JWT", "ver": 1, "sbt": sbt})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, err := signer.Sign([]byte(input))
	if err != nil {
		return "", fmt.Errorf("esiasim: sign %s token: %w", sbt, err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
