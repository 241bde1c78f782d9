package oauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
)

// refMAC is HMAC-SHA512/256 as the token codecs computed it before
// keyedMAC: hmac.New on every call.
func refMAC(key []byte, msg string) []byte {
	m := hmac.New(sha512.New512_256, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

var rawB64 = base64.URLEncoding.WithPadding(base64.NoPadding)

// TestKeyedMACIsHMAC: a keyedMAC gives hmac.New's MACs, for keys and
// messages of every length around the hash's block (128 bytes) and for
// messages in parts, from many goroutines at once (run with -race).
func TestKeyedMACIsHMAC(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
	}{
		{"short key", []byte("k")},
		{"32-byte key", bytes.Repeat([]byte{2}, 32)},
		{"block-size key", bytes.Repeat([]byte{7}, 128)},
		{"long key (hashed first)", bytes.Repeat([]byte{9}, 300)},
	}
	var msgs []string
	for _, n := range []int{0, 1, 31, 32, 111, 112, 127, 128, 129, 255, 256, 1000, 5000} {
		msgs = append(msgs, strings.Repeat(string(rune('a'+n%26)), n))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := newKeyedMAC(tc.key)
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 200 {
						msg := msgs[(g+i)%len(msgs)] + fmt.Sprint(i)
						want := refMAC(tc.key, msg)
						if got := k.sum(nil, msg); !bytes.Equal(got, want) {
							t.Errorf("sum(%d bytes) = %x, want %x", len(msg), got, want)
							return
						}
						half := len(msg) / 2
						if got := k.sum([]byte("x"), msg[:half], "", msg[half:]); !bytes.Equal(got, append([]byte("x"), want...)) {
							t.Errorf("sum in parts appended %x, want x%x", got, want)
							return
						}
						mac := rawB64.EncodeToString(want)
						if got := k.mac64(msg); got != mac {
							t.Errorf("mac64 = %s, want %s", got, mac)
							return
						}
						if !k.verify64(mac, msg) {
							t.Errorf("verify64 refused the MAC of %d bytes", len(msg))
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestKeyedMACVerifyRefuses: verify64 takes only the exact MAC — not
// another message's, a cut or lengthened one, one character changed, or
// another encoding of the same bytes (the last character's unused bits).
func TestKeyedMACVerifyRefuses(t *testing.T) {
	k := newKeyedMAC([]byte("0123456789abcdef0123456789abcdef"))
	mac := k.mac64("payload")
	last := mac[len(mac)-1]
	other := byte('A')
	if last == 'A' {
		other = 'B'
	}
	// The last of 43 characters carries 4 bits of the MAC and 2 unused
	// ones, zero in the canonical encoding: the next letter of the
	// alphabet decodes to the same bytes.
	alias := mac[:len(mac)-1] + string(rawB64Alphabet[strings.IndexByte(rawB64Alphabet, last)+1])
	tests := []struct {
		name, mac, msg string
		want           bool
	}{
		{"the MAC", mac, "payload", true},
		{"another message", mac, "payloae", false},
		{"empty", "", "payload", false},
		{"cut", mac[:len(mac)-1], "payload", false},
		{"lengthened", mac + "A", "payload", false},
		{"padded", mac + "=", "payload", false},
		{"first character changed", string(other) + mac[1:], "payload", false},
		{"last character changed", mac[:len(mac)-1] + string(other), "payload", false},
		{"non-canonical encoding of the same bytes", alias, "payload", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := k.verify64(tc.mac, tc.msg); got != tc.want {
				t.Fatalf("verify64(%q) = %v, want %v", tc.mac, got, tc.want)
			}
		})
	}
}

const rawB64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestTokenCodecsUnchanged: the tokens and row keys minted with keyedMAC
// are those the codecs made with hmac.New (the formats are on the wire and
// in the database): each MAC recomputed here the former way.
func TestTokenCodecsUnchanged(t *testing.T) {
	secret := bytes.Repeat([]byte{2}, 32)
	label := func(l string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(l))
		return m.Sum(nil)
	}
	s := newSuccessorStrategy(nil, secret, time.Now)
	checkMAC := func(t *testing.T, token, prefix string, key []byte) string {
		t.Helper()
		body, mac, ok := strings.Cut(strings.TrimPrefix(token, prefix), ".")
		if !ok || !strings.HasPrefix(token, prefix) {
			t.Fatalf("token %q: not %s….MAC", token, prefix)
		}
		if want := rawB64.EncodeToString(refMAC(key, body)); mac != want {
			t.Fatalf("MAC %s, want %s", mac, want)
		}
		return body
	}
	for _, grant := range []string{"g", "0d8f7a4e-3c1b-4e5a-9f7d-2b6c8e1a4f30", strings.Repeat("x", 200)} {
		t.Run(fmt.Sprintf("grant of %d bytes", len(grant)), func(t *testing.T) {
			key := bytes.Repeat([]byte{byte(len(grant))}, 32)
			tok, sig, err := s.rg.mint(grant, key)
			if err != nil {
				t.Fatal(err)
			}
			body := checkMAC(t, tok, rgPrefix, label(rgLabel))
			if sig != rgSigPrefix+strings.TrimPrefix(tok, rgPrefix) {
				t.Fatalf("signature %q of token %q", sig, tok)
			}
			raw, _ := json.Marshal(rgPayload{Grant: grant, Key: rawB64.EncodeToString(key)})
			if body != rawB64.EncodeToString(raw) {
				t.Fatalf("payload %s, want %s", body, raw)
			}
			if got, want := s.rg.key(sig), rawB64.EncodeToString(refMAC(secret, strings.TrimPrefix(tok, rgPrefix))); got != want {
				t.Fatalf("row key %s, want %s", got, want)
			}
			p, err := s.rg.open(sig)
			if err != nil || p.Grant != grant {
				t.Fatalf("open: %+v %v", p, err)
			}

			// A rotation's successor: its key HMAC(deriveKey, "rt\0"+old).
			succ, _, err := s.refreshSuccessor(grant, tok)
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := s.rg.mint(grant, refMAC(label(deriveLabel), "rt\x00"+tok))
			if succ != want {
				t.Fatalf("successor %s, want %s", succ, want)
			}
			// The derived access token nonce's source.
			dk := refMAC(label(deriveLabel), "at\x00"+tok)
			wantSig := rawB64.EncodeToString(refMAC(secret, string(dk)))
			if token, sig := s.derive("at", tok); sig != wantSig || token != "ory_at_"+rawB64.EncodeToString(dk)+"."+wantSig {
				t.Fatalf("derive: %s %s, want signature %s", token, sig, wantSig)
			}

			r := &fosite.Request{ID: grant, Client: &fosite.DefaultClient{ID: "c"}, Session: NewSession(), GrantedScope: fosite.Arguments{"openid"}}
			r.Session.SetExpiresAt(fosite.AccessToken, time.Unix(1_800_000_000, 0))
			at, atSig, err := s.ag.mint(r, "nonce")
			if err != nil {
				t.Fatal(err)
			}
			checkMAC(t, at, agPrefix, label(agLabel))
			if p, err := s.ag.open(atSig); err != nil || p.Grant != grant || p.Nonce != "nonce" {
				t.Fatalf("open access token: %+v %v", p, err)
			}
			cc, ccSig, err := s.cc.mint(r)
			if err != nil {
				t.Fatal(err)
			}
			checkMAC(t, cc, ccPrefix, label(ccLabel))
			if p, err := s.cc.open(ccSig); err != nil || p.RequestID != grant {
				t.Fatalf("open client token: %+v %v", p, err)
			}
		})
	}
}

// BenchmarkKeyedMAC compares a keyedMAC with hmac.New per MAC.
func BenchmarkKeyedMAC(b *testing.B) {
	key := bytes.Repeat([]byte{2}, 32)
	msg := strings.Repeat("m", 120)
	b.Run("hmac.New", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = rawB64.EncodeToString(refMAC(key, msg))
		}
	})
	b.Run("keyedMAC", func(b *testing.B) {
		k := newKeyedMAC(key)
		b.ReportAllocs()
		for b.Loop() {
			_ = k.mac64(msg)
		}
	})
}
