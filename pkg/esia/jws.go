package esia

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// maxTokenLen bounds the size of a token accepted from ESIA.
const maxTokenLen = 16 << 10

// jws is a parsed JWS in compact serialisation; nothing in it is verified.
type jws struct {
	header       jwsHeader
	payload      []byte // decoded claims JSON
	signingInput []byte // ASCII(header "." payload), what the signature covers
	signature    []byte
}

// jwsHeader holds the JOSE header fields ESIA sends. ESIA's header may carry
// no kid: keys are tried in turn.
type jwsHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

var errMalformed = errors.New("malformed")

// parseJWS splits and decodes a compact JWS (RFC 7515 §7.1). It checks shape
// only: the caller verifies the signature and the claims.
func parseJWS(token string) (*jws, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return nil, errMalformed
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errMalformed
	}
	hdr, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errMalformed
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return nil, errMalformed
	}
	var h jwsHeader
	if err := strictUnmarshal(hdr, &h); err != nil || h.Alg == "" {
		return nil, errMalformed
	}
	if !json.Valid(payload) || bytes.TrimSpace(payload)[0] != '{' {
		return nil, errMalformed
	}
	return &jws{
		header:       h,
		payload:      payload,
		signingInput: []byte(parts[0] + "." + parts[1]),
		signature:    sig,
	}, nil
}

// strictUnmarshal decodes one JSON object and rejects trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errMalformed
	}
	return nil
}
