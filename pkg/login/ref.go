package login

import (
	"crypto/rand"
	"errors"
	"strings"
)

// crockford is Crockford's base32 alphabet (no I, L, O, U).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewRef returns a fresh reference code: 10 Crockford base32 characters
// (50 random bits), the identity of one login attempt.
func NewRef() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 10)
	for i := range b {
		out[i] = crockford[b[i]&31]
	}
	return string(out)
}

// FormatRef shows a reference code to people as XXXXX-XXXXX.
func FormatRef(ref string) string {
	if len(ref) != 10 {
		return ref
	}
	return ref[:5] + "-" + ref[5:]
}

// ErrBadRef reports a string that is not a reference code.
var ErrBadRef = errors.New("login: not a reference code (10 characters, XXXXX-XXXXX)")

// ParseRef reads a reference code as a person may type or dictate it:
// any case, with or without the dash or spaces, O for 0 and I or L for 1.
func ParseRef(s string) (string, error) {
	var out strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ' || r == '\u00a0':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", ErrBadRef
		}
		out.WriteRune(r)
	}
	if out.Len() != 10 {
		return "", ErrBadRef
	}
	return out.String(), nil
}
