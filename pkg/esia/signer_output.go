package esia

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// SignatureSize is the length of a GOST R 34.10-2012 signature made with a
// 256-bit key, the only kind ESIA's v2/v3 endpoints accept (ESIA.md). An
// external signer must produce exactly this many bytes.
const SignatureSize = 64

// Defaults of SignerOptions.
const (
	DefaultSignerTimeout     = 10 * time.Second
	DefaultSignerConcurrency = 8
)

// SignatureEncoding says how an external signer (CommandSigner, HTTPSigner)
// writes the signature.
type SignatureEncoding string

// Signature encodings. Whitespace around and inside text encodings is
// ignored (OpenSSL's base64 wraps lines).
const (
	// EncodingAuto accepts exactly 64 raw bytes, 128 hex digits, or 86/88
	// base64 or base64url characters. The three lengths differ, so the guess
	// cannot mistake one encoding for another; anything else is an error.
	EncodingAuto SignatureEncoding = "auto"
	// EncodingRaw takes the output as the signature bytes, exactly 64.
	EncodingRaw SignatureEncoding = "raw"
	// EncodingBase64 accepts the standard and the URL alphabet, padded or not.
	EncodingBase64 SignatureEncoding = "base64"
	// EncodingHex accepts upper- or lower-case hex digits, also after the
	// "name(stdin)= " prefix that `openssl dgst -hex` prints.
	EncodingHex SignatureEncoding = "hex"
)

// ParseSignatureEncoding reads an encoding name: auto (or empty), raw,
// base64 (or base64url) or hex.
func ParseSignatureEncoding(s string) (SignatureEncoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return EncodingAuto, nil
	case "raw", "binary":
		return EncodingRaw, nil
	case "base64", "base64url":
		return EncodingBase64, nil
	case "hex":
		return EncodingHex, nil
	}
	return "", fmt.Errorf("signature encoding %q unknown (auto, raw, base64, hex)", s)
}

// SignerOptions are what the external signers share.
type SignerOptions struct {
	// Output is how the signer writes the signature; empty means EncodingAuto.
	Output SignatureEncoding
	// Reverse byte-reverses the decoded signature. CryptoPro CSP writes the
	// signature in the reverse of the order ESIA expects (OpenSSL's gost
	// engine order, see ESIA.md), so a CryptoPro signer needs Reverse.
	Reverse bool
	// Timeout bounds one signature, and separately the wait for a free slot
	// when MaxConcurrent signatures are under way; zero means
	// DefaultSignerTimeout.
	Timeout time.Duration
	// MaxConcurrent bounds the signatures under way at once (processes
	// started, requests in flight), so that a storm of logins does not fork
	// hundreds of processes; zero means DefaultSignerConcurrency.
	MaxConcurrent int
}

func (o SignerOptions) check() error {
	if _, err := ParseSignatureEncoding(string(o.Output)); err != nil {
		return err
	}
	if o.Timeout < 0 {
		return errors.New("time-out must not be negative")
	}
	if o.MaxConcurrent < 0 {
		return errors.New("concurrency limit must not be negative")
	}
	return nil
}

func (o SignerOptions) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultSignerTimeout
}

func (o SignerOptions) slots() chan struct{} {
	n := o.MaxConcurrent
	if n == 0 {
		n = DefaultSignerConcurrency
	}
	return make(chan struct{}, n)
}

// ErrSignerBusy reports that every signing slot (SignerOptions.MaxConcurrent)
// stayed busy for the whole time-out: the signer is slower than the logins
// coming in.
var ErrSignerBusy = errors.New("every signing slot is busy")

// acquire takes a slot of sem, waiting at most wait; the returned func gives
// it back.
func acquire(ctx context.Context, sem chan struct{}, wait time.Duration) (func(), error) {
	release := func() { <-sem }
	select {
	case sem <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, fmt.Errorf("%w: %d signatures under way for %s", ErrSignerBusy, cap(sem), wait)
	}
}

// finish decodes a signer's output and applies the byte reversal.
func (o SignerOptions) finish(out []byte) ([]byte, error) {
	sig, err := decodeSignature(out, o.Output)
	if err != nil {
		return nil, err
	}
	if o.Reverse {
		sig = gost.Reverse(sig)
	}
	return sig, nil
}

// decodeSignature decodes out as enc into exactly SignatureSize bytes. Its
// errors describe the output by length only: it may be anything.
func decodeSignature(out []byte, enc SignatureEncoding) ([]byte, error) {
	switch enc {
	case EncodingRaw:
		if len(out) != SignatureSize {
			return nil, fmt.Errorf("raw output of %d bytes, want a %d-byte signature", len(out), SignatureSize)
		}
		return bytes.Clone(out), nil
	case EncodingHex:
		if sig, ok := decodeHex(out); ok {
			return sig, nil
		}
		return nil, fmt.Errorf("output of %d bytes is not %d hex digits", len(out), 2*SignatureSize)
	case EncodingBase64:
		if sig, ok := decodeBase64(out); ok {
			return sig, nil
		}
		return nil, fmt.Errorf("output of %d bytes is not the base64 of a %d-byte signature", len(out), SignatureSize)
	case "", EncodingAuto:
		if len(out) == SignatureSize {
			return bytes.Clone(out), nil
		}
		if sig, ok := decodeHex(out); ok {
			return sig, nil
		}
		if sig, ok := decodeBase64(out); ok {
			return sig, nil
		}
		return nil, fmt.Errorf("output of %d bytes is neither a %d-byte signature nor its hex or base64", len(out), SignatureSize)
	}
	return nil, fmt.Errorf("signature encoding %q unknown", enc)
}

// compact drops ASCII whitespace.
func compact(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return -1
		}
		return r
	}, b)
}

func decodeHex(out []byte) ([]byte, bool) {
	// `openssl dgst -hex -sign` prints "md_gost12_256(stdin)= 0a1b…".
	if i := bytes.LastIndex(out, []byte(")= ")); i >= 0 {
		out = out[i+3:]
	}
	text := compact(out)
	if len(text) != 2*SignatureSize {
		return nil, false
	}
	sig := make([]byte, SignatureSize)
	if _, err := hex.Decode(sig, text); err != nil {
		return nil, false
	}
	return sig, true
}

func decodeBase64(out []byte) ([]byte, bool) {
	text := strings.TrimRight(string(compact(out)), "=")
	if len(text) != base64.RawStdEncoding.EncodedLen(SignatureSize) {
		return nil, false
	}
	text = strings.NewReplacer("-", "+", "_", "/").Replace(text)
	sig, err := base64.RawStdEncoding.DecodeString(text)
	if err != nil || len(sig) != SignatureSize {
		return nil, false
	}
	return sig, true
}

// diagnostic turns what a signer wrote besides the signature (stderr, an
// error body) into one short printable line for an error message, with
// every copy of the signed message, as is or in the base64 the signing
// service received, cut out: the message carries the authorization code.
func diagnostic(b, message []byte) string {
	if len(message) > 0 {
		b = bytes.ReplaceAll(b, message, []byte("[message]"))
		b = bytes.ReplaceAll(b, []byte(base64.StdEncoding.EncodeToString(message)), []byte("[message]"))
	}
	const limit = 300
	var sb strings.Builder
	space := false
	for len(b) > 0 && sb.Len() < limit {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == utf8.RuneError && n <= 1, r < 0x20, r == 0x7f:
			r = ' '
		}
		if r == ' ' {
			if space || sb.Len() == 0 {
				continue
			}
			space = true
		} else {
			space = false
		}
		sb.WriteRune(r)
	}
	s := strings.TrimSpace(sb.String())
	if len(b) > 0 {
		s += " …"
	}
	return s
}
