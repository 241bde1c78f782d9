package server

import (
	"crypto/rand"
	"encoding/base64"
)

// randomID is an unguessable identifier (192 bits) for short-lived state.
func randomID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
