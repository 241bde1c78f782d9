package main_test

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// requireOpenSSLGost skips without openssl and its gost engine, and fails under CI=true:
// CI must run the cross-checks (scripts/test.sh installs libengine-gost-openssl).
func requireOpenSSLGost(t *testing.T) {
	t.Helper()
	out, err := exec.Command("openssl", "engine", "gost").CombinedOutput()
	if err == nil && bytes.Contains(out, []byte("(gost)")) {
		return
	}
	msg := "openssl gost engine unavailable (apt-get install -y libengine-gost-openssl): " + strings.TrimSpace(string(out))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// runOpenSSL runs openssl in dir; it returns stdout and fails the test with stderr.
func runOpenSSL(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes()
}

// keyAlgorithm returns the DER AlgorithmIdentifier of a PKCS#8 PEM key: the curve's
// parameter set as written.
func keyAlgorithm(t *testing.T, pemData []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("not a PRIVATE KEY PEM:\n%s", pemData)
	}
	var k struct {
		Version int
		Algo    asn1.RawValue
		Key     []byte
	}
	if _, err := asn1.Unmarshal(block.Bytes, &k); err != nil {
		t.Fatal(err)
	}
	return k.Algo.FullBytes
}

// TestGostKeygenSelfsignAgainstOpenSSL: on every parameter set OpenSSL's gost engine
// names, `broker gost keygen` writes a key OpenSSL reads (same public key, same
// AlgorithmIdentifier as openssl genpkey writes for that set), `broker gost selfsign`
// makes a certificate OpenSSL verifies as self-signed with the subject given, and a
// signature `broker gost sign` makes with the key verifies in OpenSSL with the
// certificate's key.
func TestGostKeygenSelfsignAgainstOpenSSL(t *testing.T) {
	requireOpenSSLGost(t)
	for _, ps := range gost.ParamSetNames() {
		t.Run(ps, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			keyFile, certFile := filepath.Join(dir, "system.key.pem"), filepath.Join(dir, "system.crt.pem")
			if _, errOut, code := broker(t, nil, "", "gost", "keygen", "--paramset", strings.ToLower(ps), "--out", keyFile); code != 0 {
				t.Fatalf("keygen: exit %d: %s", code, errOut)
			}
			if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode: %v %v", fi, err)
			}
			ours := readTestFile(t, keyFile)
			runOpenSSL(t, dir, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:"+ps, "-out", "ossl.key")
			if got, want := keyAlgorithm(t, ours), keyAlgorithm(t, readTestFile(t, filepath.Join(dir, "ossl.key"))); !bytes.Equal(got, want) {
				t.Fatalf("AlgorithmIdentifier %x, openssl genpkey writes %x", got, want)
			}
			key, err := gost.ParsePrivateKeyPEM(ours)
			if err != nil {
				t.Fatal(err)
			}
			wantPub, _ := gost.MarshalPublicKeyPEM(&key.PublicKey)
			if got := runOpenSSL(t, dir, "pkey", "-engine", "gost", "-in", "system.key.pem", "-pubout"); !bytes.Equal(got, wantPub) {
				t.Fatalf("openssl derives another public key:\n%s\nwant\n%s", got, wantPub)
			}

			subject := "/CN=MYSYSTEM " + ps + "/O=Школа № 1 \\/ корпус 2/C=RU/INN=7701234567"
			if _, errOut, code := broker(t, nil, "", "gost", "selfsign", "--key", keyFile, "--subject", subject, "--days", "30", "--dns", "id.diary.test", "--out", certFile); code != 0 {
				t.Fatalf("selfsign: exit %d: %s", code, errOut)
			}
			if out := runOpenSSL(t, dir, "verify", "-engine", "gost", "-CAfile", "system.crt.pem", "system.crt.pem"); !bytes.Contains(out, []byte("system.crt.pem: OK")) {
				t.Fatalf("openssl verify: %s", out)
			}
			text := string(runOpenSSL(t, dir, "x509", "-engine", "gost", "-in", "system.crt.pem", "-noout", "-text", "-nameopt", "utf8,sep_comma_plus_space"))
			for _, want := range []string{
				"Subject: CN=MYSYSTEM " + ps + ", O=Школа № 1 / корпус 2, C=RU, INN=7701234567",
				"Issuer: CN=MYSYSTEM " + ps + ", O=Школа № 1 / корпус 2, C=RU, INN=7701234567",
				"GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)",
				"DNS:id.diary.test",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("openssl x509 -text lacks %q:\n%s", want, text)
				}
			}
			if got := runOpenSSL(t, dir, "x509", "-engine", "gost", "-in", "system.crt.pem", "-noout", "-pubkey"); !bytes.Equal(got, wantPub) {
				t.Fatalf("the certificate holds another key:\n%s\nwant\n%s", got, wantPub)
			}
			certs, err := gost.ParseCertificatePEM(readTestFile(t, certFile))
			if err != nil {
				t.Fatal(err)
			}
			if days := certs[0].NotAfter.Sub(certs[0].NotBefore); days != 30*24*time.Hour {
				t.Fatalf("validity %v, want 30 days", days)
			}
			if d := time.Since(certs[0].NotBefore); d < 0 || d > time.Minute {
				t.Fatalf("NotBefore %v is not now", certs[0].NotBefore)
			}

			// Our signature, OpenSSL's verification with the certificate's key.
			msg := "MYSYSTEMopenid fullname2026.12.07 04:00:00 +0300state"
			sig, errOut, code := broker(t, nil, msg, "gost", "sign", "--key", keyFile)
			if code != 0 {
				t.Fatalf("sign: %s", errOut)
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(sig))
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, filepath.Join(dir, "msg"), []byte(msg))
			writeTestFile(t, filepath.Join(dir, "sig"), raw)
			runOpenSSL(t, dir, "x509", "-engine", "gost", "-in", "system.crt.pem", "-noout", "-pubkey", "-out", "cert.pub")
			if out := runOpenSSL(t, dir, "dgst", "-engine", "gost", "-md_gost12_256", "-verify", "cert.pub", "-signature", "sig", "msg"); !bytes.Contains(out, []byte("Verified OK")) {
				t.Fatalf("openssl does not verify our signature: %s", out)
			}
			// And OpenSSL's signature with our key verifies with our certificate.
			runOpenSSL(t, dir, "dgst", "-engine", "gost", "-md_gost12_256", "-sign", "system.key.pem", "-out", "sig.ossl", "msg")
			if !gost.VerifyMessage(certs[0].PublicKey, []byte(msg), readTestFile(t, filepath.Join(dir, "sig.ossl"))) {
				t.Fatal("openssl's signature with our key does not verify with our certificate")
			}
		})
	}
}

// TestGostKeygenSelfsignErrors: wrong input is refused with a message naming it, and
// nothing is overwritten.
func TestGostKeygenSelfsignErrors(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.pem")
	if _, errOut, code := broker(t, nil, "", "gost", "keygen", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %s", errOut)
	}
	key := readTestFile(t, keyFile)
	notKey := filepath.Join(dir, "not-a-key.pem")
	writeTestFile(t, notKey, []byte("hello\n"))
	stdoutKey, _, code := broker(t, nil, "", "gost", "keygen", "--paramset", "TCA")
	if k, err := gost.ParsePrivateKeyPEM([]byte(stdoutKey)); code != 0 || err != nil || k.Curve != gost.TC26A() {
		t.Fatalf("keygen to standard output: exit %d, %v", code, err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown paramset", []string{"gost", "keygen", "--paramset", "Z"}, `unknown or unsupported parameter set: "Z" (known: A, B, C, TCA, TCB, TCC, TCD, XA, XB)`},
		{"key exists", []string{"gost", "keygen", "--out", keyFile}, "k.pem exists: not overwritten"},
		{"certificate exists", []string{"gost", "selfsign", "--key", keyFile, "--subject", "/CN=x", "--out", keyFile}, "k.pem exists: not overwritten"},
		{"subject without slash", []string{"gost", "selfsign", "--key", keyFile, "--subject", "CN=x"}, "write it as openssl -subj does"},
		{"subject without value", []string{"gost", "selfsign", "--key", keyFile, "--subject", "/CN="}, "CN has an empty value"},
		{"unknown attribute", []string{"gost", "selfsign", "--key", keyFile, "--subject", "/CN=x/XYZ=1"}, `unknown attribute "XYZ"`},
		{"bad country", []string{"gost", "selfsign", "--key", keyFile, "--subject", "/CN=x/C=Russia"}, "the country is two capital letters"},
		{"zero days", []string{"gost", "selfsign", "--key", keyFile, "--subject", "/CN=x", "--days", "0"}, "--days must be positive"},
		{"not a key", []string{"gost", "selfsign", "--key", notKey, "--subject", "/CN=x"}, "no PRIVATE KEY PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := broker(t, nil, "", tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want an error with %q", code, out, errOut, tt.want)
			}
		})
	}
	if !bytes.Equal(readTestFile(t, keyFile), key) {
		t.Fatal("the existing key file changed")
	}
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
