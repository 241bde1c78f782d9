package gost

import (
	"bytes"
	"encoding/hex"
	mrand "math/rand/v2"
	"testing"
)

// rfcHex decodes a number as RFC 6986 prints it (big-endian) into the byte string that
// OpenSSL and this package use (little-endian): the reverse.
func rfcHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return Reverse(b)
}

// TestStreebogRFC6986 checks the examples of RFC 6986 section 10. The RFC prints the
// messages and digests as big-endian numbers; OpenSSL prints the digest bytes, which are
// those numbers byte-reversed (M1 is the ASCII string "0123...012", and OpenSSL prints
// its 256-bit digest as 9d151eef...5500 where the RFC prints 00557be5...159d).
func TestStreebogRFC6986(t *testing.T) {
	m1 := "323130393837363534333231303938373635343332313039383736353433323130393837363534333231303938373635343332313039383736353433323130"
	m2 := "fbe2e5f0eee3c820fbeafaebef20fffbf0e1e0f0f520e0ed20e8ece0ebe5f0f2f120fff0eeec20f120faf2fee5e2202ce8f6f3ede220e8e6eee1e8f0f2d1202ce8f0f2e5e220e5d1"
	tests := []struct {
		name       string
		msg        string
		h512, h256 string // as printed in the RFC
		openssl256 string // as `openssl dgst -engine gost -md_gost12_256` prints it
	}{
		{
			name:       "M1",
			msg:        m1,
			h512:       "486f64c1917879417fef082b3381a4e211c324f074654c38823a7b76f830ad00fa1fbae42b1285c0352f227524bc9ab16254288dd6863dccd5b9f54a1ad0541b",
			h256:       "00557be5e584fd52a449b16b0251d05d27f94ab76cbaa6da890b59d8ef1e159d",
			openssl256: "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500",
		},
		{
			name:       "M2",
			msg:        m2,
			h512:       "28fbc9bada033b1460642bdcddb90c3fb3e56c497ccd0f62b8a2ad4935e85f037613966de4ee00531ae60f3b5a47f8dae06915d5f2f194996fcabf2622e6881e",
			h256:       "508f7e553c06501d749a66fc28c6cac0b005746d97537fa85d9e40904efed29d",
			openssl256: "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := rfcHex(t, tc.msg)
			if tc.name == "M1" && string(msg) != "012345678901234567890123456789012345678901234567890123456789012" {
				t.Fatalf("M1 bytes = %q", msg)
			}
			h512, h256 := Sum512(msg), Sum256(msg)
			if !bytes.Equal(h512[:], rfcHex(t, tc.h512)) {
				t.Errorf("Sum512 = %x, want reversed %s", h512, tc.h512)
			}
			if !bytes.Equal(h256[:], rfcHex(t, tc.h256)) {
				t.Errorf("Sum256 = %x, want reversed %s", h256, tc.h256)
			}
			if got := hex.EncodeToString(h256[:]); got != tc.openssl256 {
				t.Errorf("Sum256 = %s, openssl prints %s", got, tc.openssl256)
			}
		})
	}
}

// TestStreebogIncremental checks that any split of the input into writes gives the same
// digest as one call, that Sum does not disturb the state, and Reset.
func TestStreebogIncremental(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	msg := make([]byte, 700)
	for i := range msg {
		msg[i] = byte(rng.Uint32())
	}
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 129, 700} {
		m := msg[:n]
		want256, want512 := Sum256(m), Sum512(m)
		for trial := 0; trial < 20; trial++ {
			h256, h512 := New256(), New512()
			rest := m
			for len(rest) > 0 {
				k := rng.IntN(len(rest) + 1)
				if trial == 0 {
					k = 1 // byte by byte
				}
				h256.Write(rest[:k])
				h512.Write(rest[:k])
				_ = h256.Sum(nil) // must not change the state
				rest = rest[k:]
			}
			if got := h256.Sum(nil); !bytes.Equal(got, want256[:]) {
				t.Fatalf("len %d trial %d: incremental Streebog-256 differs", n, trial)
			}
			if got := h512.Sum([]byte{0xAA}); !bytes.Equal(got[1:], want512[:]) || got[0] != 0xAA {
				t.Fatalf("len %d trial %d: incremental Streebog-512 differs", n, trial)
			}
			h256.Reset()
			h256.Write(m)
			if got := h256.Sum(nil); !bytes.Equal(got, want256[:]) {
				t.Fatalf("len %d: digest after Reset differs", n)
			}
		}
	}
	if New256().Size() != 32 || New512().Size() != 64 || New256().BlockSize() != 64 {
		t.Fatal("wrong Size or BlockSize")
	}
}
