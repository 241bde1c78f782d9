package cms_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/cms"
	"github.com/diarybroker/broker/pkg/esia/cms/cmstest"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/testenv"
)

var gostEngine = sync.OnceValue(func() error {
	out, err := exec.Command("openssl", "engine", "gost").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("(gost)")) {
		return errors.New("openssl gost engine unavailable (apt-get install -y libengine-gost-openssl): " + strings.TrimSpace(string(out)))
	}
	return nil
})

// requireOpenSSL skips the test without openssl (and, for GOST, its gost
// engine); under CI=true it fails instead (pkg/testenv).
func requireOpenSSL(t *testing.T, withGOST bool) {
	t.Helper()
	testenv.LookPath(t, "openssl")
	if withGOST {
		if err := gostEngine(); err != nil {
			testenv.Unavailable(t, "openssl gost engine", err)
		}
	}
}

func openssl(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
}

func readPEMCert(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s: no certificate", path)
	}
	return block.Bytes
}

// opensslKinds are the key kinds openssl makes: RSA, and GOST R 34.10-2012
// 256-bit keys on tc26 set A and CryptoPro A.
var opensslKinds = []struct {
	name   string
	gost   bool
	genkey []string
	req    []string // extra req arguments
	md     string
}{
	{"RSA", false, []string{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"}, nil, "sha256"},
	{"GOST tc26 A", true, []string{"genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:TCA", "-out", "key.pem"},
		[]string{"-engine", "gost", "-md_gost12_256"}, "md_gost12_256"},
	{"GOST CryptoPro A", true, []string{"genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", "key.pem"},
		[]string{"-engine", "gost", "-md_gost12_256"}, "md_gost12_256"},
}

// TestOpenSSLSignatures verifies what `openssl cms -sign` writes, and has
// openssl verify what cmstest writes.
func TestOpenSSLSignatures(t *testing.T) {
	for _, kind := range opensslKinds {
		t.Run(kind.name, func(t *testing.T) {
			requireOpenSSL(t, kind.gost)
			dir := t.TempDir()
			engine := func(args ...string) []string {
				if kind.gost {
					return append(args, "-engine", "gost")
				}
				return args
			}
			openssl(t, dir, kind.genkey...)
			openssl(t, dir, append([]string{"req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=DIARY01/O=Школа", "-days", "3650", "-out", "cert.pem"}, kind.req...)...)
			if err := os.WriteFile(filepath.Join(dir, "msg"), []byte(message), 0o600); err != nil {
				t.Fatal(err)
			}
			certDER := readPEMCert(t, filepath.Join(dir, "cert.pem"))
			cert := mustParse(t, certDER)
			other := mustParse(t, signers().rsaOther.cert)
			if kind.gost {
				other = mustParse(t, signers().gostOther.cert)
			}
			variants := map[string][]string{
				"noattr":        {"-noattr"},
				"attributes":    nil,
				"keyid":         {"-keyid"},
				"keyid, noattr": {"-keyid", "-noattr"},
				"nocerts":       {"-nocerts", "-noattr"},
			}
			for name, extra := range variants {
				t.Run(name, func(t *testing.T) {
					out := strings.ReplaceAll(name, " ", "") + ".der"
					args := append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-signer", "cert.pem", "-inkey", "key.pem",
						"-md", kind.md, "-in", "msg", "-out", out}, extra...)
					openssl(t, dir, engine(args...)...)
					der, err := os.ReadFile(filepath.Join(dir, out))
					if err != nil {
						t.Fatal(err)
					}
					if err := cms.VerifyDetached(der, []byte(message), cert); err != nil {
						t.Fatalf("openssl's signature rejected: %v", err)
					}
					v2 := "DIARY01" + "openid fullname" + "2026.11.24 10:00:00 +0300" + "2f1e7c3a-0b4d-4c1e-9a7f-3d2b1c0e9f8a" + "https://diary.example/cb"
					if err := cms.VerifyDetached(der, []byte(v2), cert); !errors.Is(err, cms.ErrSignature) && !errors.Is(err, cms.ErrDigest) {
						t.Fatalf("v2-ordered message: err = %v", err)
					}
					if err := cms.VerifyDetached(der, []byte(message), other); !errors.Is(err, cms.ErrNoSigner) {
						t.Fatalf("wrong certificate: err = %v", err)
					}
					tampered := bytes.Clone(der)
					tampered[len(tampered)-3] ^= 0x40
					if err := cms.VerifyDetached(tampered, []byte(message), cert); !errors.Is(err, cms.ErrSignature) {
						t.Fatalf("tampered: err = %v", err)
					}
				})
			}
			t.Run("nodetach rejected", func(t *testing.T) {
				openssl(t, dir, engine("cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-signer", "cert.pem", "-inkey", "key.pem",
					"-md", kind.md, "-noattr", "-in", "msg", "-out", "attached.der")...)
				der, err := os.ReadFile(filepath.Join(dir, "attached.der"))
				if err != nil {
					t.Fatal(err)
				}
				if err := cms.VerifyDetached(der, []byte(message), cert); !errors.Is(err, cms.ErrAttached) {
					t.Fatalf("err = %v", err)
				}
			})
			t.Run("openssl verifies cmstest", func(t *testing.T) {
				if !kind.gost {
					return // the RSA key is openssl's; cmstest needs a Go key: covered by the GOST kinds and TestOpenSSLVerifiesRSA
				}
				keyPEM, err := os.ReadFile(filepath.Join(dir, "key.pem"))
				if err != nil {
					t.Fatal(err)
				}
				key, err := gost.ParsePrivateKeyPEM(keyPEM)
				if err != nil {
					t.Fatal(err)
				}
				for i, o := range []cmstest.Options{{}, {SignedAttributes: true}, {SubjectKeyID: true, SignedAttributes: true}} {
					der, err := cmstest.Sign([]byte(message), certDER, key, o)
					if err != nil {
						t.Fatal(err)
					}
					name := filepath.Join(dir, "go"+string(rune('0'+i))+".der")
					if err := os.WriteFile(name, der, 0o600); err != nil {
						t.Fatal(err)
					}
					openssl(t, dir, engine("cms", "-verify", "-binary", "-inform", "DER", "-in", name, "-content", "msg",
						"-noverify", "-certfile", "cert.pem", "-out", os.DevNull)...)
				}
			})
		})
	}
}

// TestOpenSSLVerifiesRSA has openssl verify an RSA signature cmstest wrote.
func TestOpenSSLVerifiesRSA(t *testing.T) {
	requireOpenSSL(t, false)
	s := signers().rsa
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "msg"), []byte(message), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.cert}), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, o := range []cmstest.Options{{}, {SignedAttributes: true}, {SubjectKeyID: true}} {
		der, err := cmstest.Sign([]byte(message), s.cert, s.key, o)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "go"+string(rune('0'+i))+".der")
		if err := os.WriteFile(name, der, 0o600); err != nil {
			t.Fatal(err)
		}
		openssl(t, dir, "cms", "-verify", "-binary", "-inform", "DER", "-in", name, "-content", "msg",
			"-noverify", "-certfile", "cert.pem", "-out", os.DevNull)
	}
}
