package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KEK is the key-encryption key: AES-256-GCM over the secret parts of every
// key the store keeps. It never leaves the process and is never stored.
type KEK struct {
	aead cipher.AEAD
}

// ErrBadKEK reports a key-encryption key that is not 32 bytes.
var ErrBadKEK = errors.New("keyring: BROKER_KEK must be 32 bytes, base64 or hex encoded")

// ErrOpen reports a ciphertext that does not decrypt: a wrong key, a
// tampered value, or a value moved to another row.
var ErrOpen = errors.New("keyring: cannot decrypt (wrong key or tampered data)")

// ParseKEK reads a 32-byte key given as base64 (standard or URL alphabet,
// padded or not) or as 64 hex characters.
func ParseKEK(s string) (*KEK, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return NewKEK(b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return NewKEK(b)
		}
	}
	return nil, ErrBadKEK
}

// NewKEK returns a KEK for 32 key bytes.
func NewKEK(key []byte) (*KEK, error) {
	if len(key) != 32 {
		return nil, ErrBadKEK
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &KEK{aead: aead}, nil
}

// GenerateKEK returns a random KEK and its base64 form (for dev mode and
// for `broker keys generate-kek`).
func GenerateKEK() (*KEK, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", fmt.Errorf("keyring: generate kek: %w", err)
	}
	k, err := NewKEK(b)
	return k, base64.StdEncoding.EncodeToString(b), err
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return aead, nil
}

// seal encrypts with a random nonce and returns nonce||ciphertext.
func seal(aead cipher.AEAD, plaintext, aad []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+).
		panic("keyring: crypto/rand failed: " + err.Error())
	}
	return aead.Seal(nonce, nonce, plaintext, aad)
}

func open(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	n := aead.NonceSize()
	out, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// Seal encrypts a key's secret material; aad names the key.
func (k *KEK) Seal(plaintext, aad []byte) []byte { return seal(k.aead, plaintext, aad) }

// Open decrypts what Seal produced with the same aad.
func (k *KEK) Open(sealed, aad []byte) ([]byte, error) { return open(k.aead, sealed, aad) }
