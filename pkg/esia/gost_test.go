package esia_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// TestLoginAlgorithms runs a whole login the way ESIA wants it today: GOST
// client secrets (64 bytes, 86 base64url characters, or 88 padded), the
// Streebog certificate hash and GOST3410_2012_256 tokens; and once in the
// simulator's legacy RSA mode (256-byte signatures, RS256 tokens).
func TestLoginAlgorithms(t *testing.T) {
	tests := []struct {
		name       string
		keys       testKeys
		padded     bool
		secretSize int
	}{
		{"GOST", keys(), false, 86},
		{"GOST padded", keys(), true, 88},
		{"RSA", rsaKeys(), false, 342},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorldKeys(t, tc.keys)
			w.cfg.SecretPadding = tc.padded
			u, err := w.cfg.AuthURL(context.Background(), state, nil)
			if err != nil {
				t.Fatal(err)
			}
			parsed, _ := url.Parse(u)
			if n := len(parsed.Query().Get("client_secret")); n != tc.secretSize {
				t.Errorf("padded=%v: client_secret of %d characters, want %d", tc.padded, n, tc.secretSize)
			}
			tok := w.login("1000100002")
			if tok.Identity.OID != "1000100002" || !tok.Identity.Trusted {
				t.Fatalf("identity %+v", tok.Identity)
			}
			if kids, err := w.cfg.Kids(context.Background(), tok); err != nil || len(kids) != 2 {
				t.Fatalf("kids %v %v", kids, err)
			}
		})
	}
}

// TestWrongClientKey: a client_secret made with another key than the
// registered certificate's is ESIA-007053 at the authorization endpoint.
func TestWrongClientKey(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) {
			w := newWorldKeys(t, k)
			w.cfg.Signer = k.stranger
			cb := w.authorize(url.Values{"sim_person": {"1000100001"}})
			if err := esia.ParseCallbackError(cb); !errors.Is(err, esia.ErrClientSecretWrong) {
				t.Fatalf("err %v, want ErrClientSecretWrong", err)
			}
		})
	}
}

// opensslTokenSigner signs the simulator's tokens with `openssl dgst -engine
// gost -md_gost12_256 -sign`, optionally byte-reversed as CryptoPro writes.
type opensslTokenSigner struct {
	keyFile string
	certDER []byte
	reverse bool
}

func (s opensslTokenSigner) Alg() string         { return esia.AlgGOST }
func (s opensslTokenSigner) Certificate() []byte { return s.certDER }

func (s opensslTokenSigner) Sign(input []byte) ([]byte, error) {
	argv := opensslSign(s.keyFile)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(input)
	sig, err := cmd.Output()
	if err != nil || len(sig) != esia.SignatureSize {
		return nil, fmt.Errorf("openssl dgst: %v, %d bytes", err, len(sig))
	}
	if s.reverse {
		sig = gost.Reverse(sig)
	}
	return sig, nil
}

// TestOpenSSLSignedTokens logs in with GOST3410_2012_256 tokens whose
// signatures `openssl dgst -engine gost` made, trusted through LoadKeySet
// with the certificate `openssl req -x509` made for the key: as the DER
// .cer ESIA publishes (written by `openssl x509 -outform DER`) and as PEM.
// The broker verifies in OpenSSL's byte order, so the same signatures
// reversed (CryptoPro's order) are refused.
func TestOpenSSLSignedTokens(t *testing.T) {
	keyFile, der := opensslKey(t)
	derDir, pemDir := t.TempDir(), t.TempDir()
	certPEM := filepath.Join(filepath.Dir(keyFile), "cert.pem")
	runOpenSSL(t, "x509", "-in", certPEM, "-outform", "DER", "-out", filepath.Join(derDir, "ГОСТ 2012 ТЕСИА.cer"))
	runOpenSSL(t, "x509", "-in", certPEM, "-out", filepath.Join(pemDir, "esia.pem"))
	tests := []struct {
		name    string
		trust   string
		reverse bool
		wantErr error
	}{
		{"DER .cer", derDir, false, nil},
		{"PEM", pemDir, false, nil},
		{"CryptoPro byte order", derDir, true, esia.ErrTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, func(c *esiasim.Config) {
				c.TokenSigner = opensslTokenSigner{keyFile: keyFile, certDER: der, reverse: tc.reverse}
			})
			ks, err := esia.LoadKeySet(tc.trust)
			if err != nil {
				t.Fatal(err)
			}
			if certs := ks.Certificates(); len(certs) != 1 || !bytes.Equal(certs[0].Raw, der) {
				t.Fatalf("%d certificates loaded, want openssl's", len(certs))
			}
			w.cfg.Keys = ks
			tok, err := w.cfg.Exchange(context.Background(), w.code("1000100001"))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.HasSuffix(err.Error(), "signature does not verify with any ESIA key") {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || tok.Identity.OID != "1000100001" {
				t.Fatalf("Exchange: %v", err)
			}
		})
	}
}
