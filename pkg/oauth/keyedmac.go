package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"sync"
)

// keyedMAC is HMAC-SHA512/256 under one key, for the broker's token MACs
// and row keys, several of which a token request computes (issue 13).
// hmac.New hashes the key's inner and outer pad blocks — two SHA-512
// compressions and six allocations — on every call; a keyedMAC keeps
// keyed states in a pool, and hmac's Reset restores the precomputed pad
// states (FIPS 198-1 §6 allows keeping them, like the key itself). The
// MACs are those of hmac.New(sha512.New512_256, key); safe for concurrent
// use.
type keyedMAC struct{ pool sync.Pool }

// macState is one keyed HMAC with its scratch buffers.
type macState struct {
	h   hash.Hash
	msg []byte // the message, the parts written at once
	sum []byte // the MAC
}

// macSize is the size of a MAC, macSize64 of its base64url form.
const (
	macSize   = sha512.Size256
	macSize64 = (macSize*8 + 5) / 6
)

func newKeyedMAC(key []byte) *keyedMAC {
	key = append([]byte(nil), key...)
	k := &keyedMAC{}
	k.pool.New = func() any {
		return &macState{h: hmac.New(sha512.New512_256, key), sum: make([]byte, 0, macSize)}
	}
	return k
}

// labelKey is the key of one use of the broker's HMAC secret:
// HMAC-SHA256 of the use's label.
func labelKey(hmacSecret []byte, label string) []byte {
	m := hmac.New(sha256.New, hmacSecret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// sum appends to dst the MAC of the concatenation of parts.
func (k *keyedMAC) sum(dst []byte, parts ...string) []byte {
	s := k.pool.Get().(*macState)
	s.h.Reset()
	s.msg = s.msg[:0]
	for _, p := range parts {
		s.msg = append(s.msg, p...)
	}
	s.h.Write(s.msg)
	s.sum = s.h.Sum(s.sum[:0])
	dst = append(dst, s.sum...)
	if cap(s.msg) > 4<<10 {
		s.msg = nil // an unusually long message: do not keep its buffer
	}
	k.pool.Put(s)
	return dst
}

// mac64 is the MAC of the concatenation of parts, base64url-encoded
// without padding.
func (k *keyedMAC) mac64(parts ...string) string {
	var raw [macSize]byte
	var enc [macSize64]byte
	b64.Encode(enc[:], k.sum(raw[:0], parts...))
	return string(enc[:])
}

// verify64 reports whether mac is mac64(parts...), comparing in constant
// time.
func (k *keyedMAC) verify64(mac string, parts ...string) bool {
	if len(mac) != macSize64 {
		return false
	}
	var raw [macSize]byte
	var want, got [macSize64]byte
	b64.Encode(want[:], k.sum(raw[:0], parts...))
	copy(got[:], mac)
	return hmac.Equal(got[:], want[:])
}
