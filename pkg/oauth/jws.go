package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// es256JWS builds the compact JWS of an ES256 ID token directly (issue
// 13): the protected header {"alg":"ES256","kid":…,"typ":"JWT"} encoded
// once per key, the claims marshalled once (marshalStored), the
// signature by the key's own crypto.Signer as raw r‖s (RFC 7518 §3.4).
// go-jose's generic path — a signer built per token, its JSON fork
// marshalling the claims and the header, the signature object assembled
// and serialized — did the same work at about twice the cost around the
// ECDSA signature itself. The token is the same JWS: go-oidc, go-jose and
// jwx verify it alike, and a token's claims are the same JSON values.
type es256JWS struct {
	mu      sync.Mutex
	headers map[string]string // encoded protected header by key id
}

// es256Capable reports whether priv signs ES256: an ECDSA key on P-256.
func es256Capable(priv crypto.Signer) bool {
	pub, ok := priv.Public().(*ecdsa.PublicKey)
	return ok && pub.Curve == elliptic.P256()
}

// header is the encoded protected header naming kid.
func (j *es256JWS) header(kid string) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if h, ok := j.headers[kid]; ok {
		return h, nil
	}
	raw, err := json.Marshal(map[string]string{"alg": "ES256", "kid": kid, "typ": "JWT"})
	if err != nil {
		return "", fmt.Errorf("oauth: encode jws header: %w", err)
	}
	h := base64.RawURLEncoding.EncodeToString(raw)
	if j.headers == nil || len(j.headers) > 16 {
		j.headers = map[string]string{} // rotated keys drop out
	}
	j.headers[kid] = h
	return h, nil
}

// sign returns the compact JWS of claims signed by priv under kid, and
// its signature part.
func (j *es256JWS) sign(priv crypto.Signer, kid string, claims map[string]any) (token, sig string, err error) {
	head, err := j.header(kid)
	if err != nil {
		return "", "", err
	}
	payload, err := marshalStored(claims)
	if err != nil {
		return "", "", fmt.Errorf("oauth: encode id token claims: %w", err)
	}
	enc := base64.RawURLEncoding
	const sigLen = 86 // base64url of 64 bytes
	buf := make([]byte, 0, len(head)+1+enc.EncodedLen(len(payload))+1+sigLen)
	buf = append(buf, head...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	der, err := priv.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", "", fmt.Errorf("oauth: sign id token: %w", err)
	}
	var rs [64]byte
	if err := rawECDSA(der, rs[:]); err != nil {
		return "", "", err
	}
	buf = append(buf, '.')
	n := len(buf)
	buf = enc.AppendEncode(buf, rs[:])
	token = string(buf)
	return token, token[n:], nil
}

// rawECDSA turns an ASN.1 ECDSA signature into r‖s, each left-padded to
// half of out.
func rawECDSA(der, out []byte) error {
	var r, s big.Int
	var inner cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&inner, asn1.SEQUENCE) || !in.Empty() ||
		!inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() {
		return errors.New("oauth: sign id token: malformed ECDSA signature")
	}
	half := len(out) / 2
	if r.Sign() <= 0 || s.Sign() <= 0 || r.BitLen() > 8*half || s.BitLen() > 8*half {
		return errors.New("oauth: sign id token: ECDSA signature out of range")
	}
	r.FillBytes(out[:half])
	s.FillBytes(out[half:])
	return nil
}
