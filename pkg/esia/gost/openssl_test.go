package gost

import (
	"bytes"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	gostEngineOnce sync.Once
	gostEngineErr  string
)

// requireOpenSSLGost skips the test when openssl or its gost engine (Debian package
// libengine-gost-openssl) is missing, and fails it instead when CI=true: CI must run the
// cross-checks.
func requireOpenSSLGost(t testing.TB) {
	t.Helper()
	gostEngineOnce.Do(func() {
		if _, err := exec.LookPath("openssl"); err != nil {
			gostEngineErr = "openssl not on PATH"
			return
		}
		out, err := exec.Command("openssl", "engine", "gost").CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("(gost)")) {
			gostEngineErr = "openssl gost engine unavailable: " + strings.TrimSpace(string(out))
		}
	})
	if gostEngineErr == "" {
		return
	}
	msg := gostEngineErr + " (apt-get install -y libengine-gost-openssl)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// openssl runs openssl in dir with extra environment variables and returns stdout;
// a failure ends the test with openssl's stderr.
func openssl(t *testing.T, dir string, env []string, args ...string) []byte {
	t.Helper()
	out, err := opensslErr(dir, env, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func opensslErr(dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &opensslError{err: err, stderr: stderr.String()}
	}
	return stdout.Bytes(), nil
}

type opensslError struct {
	err    error
	stderr string
}

func (e *opensslError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opensslDigests hashes every file with one openssl process and returns name -> hex.
func opensslDigests(t *testing.T, dir, md string, files []string) map[string]string {
	t.Helper()
	out := openssl(t, dir, nil, append([]string{"dgst", "-engine", "gost", "-" + md}, files...)...)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, sum, ok := strings.Cut(line, ")= ")
		if !ok {
			continue
		}
		got[strings.TrimPrefix(name, md+"(")] = sum
	}
	return got
}

func TestStreebogAgainstOpenSSL(t *testing.T) {
	requireOpenSSLGost(t)
	dir := t.TempDir()
	lengths := []int{0, 1, 2, 31, 32, 33, 55, 56, 63, 64, 65, 127, 128, 129, 191, 192, 1000, 4103}
	var files []string
	msgs := map[string][]byte{}
	for _, n := range lengths {
		m := make([]byte, n)
		if _, err := rand.Read(m); err != nil {
			t.Fatal(err)
		}
		name := "m" + strings.Repeat("0", 5-len(itoa(n))) + itoa(n)
		writeFile(t, filepath.Join(dir, name), m)
		files = append(files, name)
		msgs[name] = m
	}
	want256 := opensslDigests(t, dir, "md_gost12_256", files)
	want512 := opensslDigests(t, dir, "md_gost12_512", files)
	for _, name := range files {
		h256, h512 := Sum256(msgs[name]), Sum512(msgs[name])
		if got := hex.EncodeToString(h256[:]); got != want256[name] {
			t.Errorf("%s (%d bytes): Streebog-256 = %s, openssl %s", name, len(msgs[name]), got, want256[name])
		}
		if got := hex.EncodeToString(h512[:]); got != want512[name] {
			t.Errorf("%s (%d bytes): Streebog-512 = %s, openssl %s", name, len(msgs[name]), got, want512[name])
		}
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// paramsets are the engine's names for every 256-bit signature and exchange parameter set.
var paramsets = []struct {
	name  string
	curve *Curve
}{
	{"A", cryptoProA}, {"B", cryptoProB}, {"C", cryptoProC}, {"XA", cryptoProA}, {"XB", cryptoProC},
	{"TCA", tc26A}, {"TCB", cryptoProA}, {"TCC", cryptoProB}, {"TCD", cryptoProC},
}

// TestSignaturesAgainstOpenSSL: on every parameter set, keys openssl generates parse here
// to the same public key, openssl's signatures verify here, ours verify in openssl, keys
// we write are read by openssl, and the CryptoPro order round-trips through Reverse.
func TestSignaturesAgainstOpenSSL(t *testing.T) {
	requireOpenSSLGost(t)
	for _, ps := range paramsets {
		t.Run(ps.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			openssl(t, dir, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:"+ps.name, "-out", "key.pem")
			openssl(t, dir, nil, "pkey", "-engine", "gost", "-in", "key.pem", "-pubout", "-out", "pub.pem")
			priv, err := ParsePrivateKeyPEM(readFile(t, filepath.Join(dir, "key.pem")))
			if err != nil {
				t.Fatal(err)
			}
			if priv.Curve != ps.curve {
				t.Fatalf("curve = %s, want %s", priv.Curve.Name(), ps.curve.Name())
			}
			pub, err := ParsePublicKeyPEM(readFile(t, filepath.Join(dir, "pub.pem")))
			if err != nil {
				t.Fatal(err)
			}
			if !pub.Equal(&priv.PublicKey) {
				t.Fatal("public key computed from openssl's private key differs from openssl's")
			}
			// Our public key encoding is byte-identical to the engine's.
			ourPub, err := MarshalPublicKeyPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ourPub, readFile(t, filepath.Join(dir, "pub.pem"))) {
				t.Errorf("MarshalPublicKeyPEM differs from openssl:\n%s\n%s", ourPub, readFile(t, filepath.Join(dir, "pub.pem")))
			}
			// And so is the private key encoding.
			ourKey, err := MarshalPrivateKeyPEM(priv)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ourKey, readFile(t, filepath.Join(dir, "key.pem"))) {
				t.Errorf("MarshalPrivateKeyPEM differs from openssl's genpkey output")
			}

			msg := []byte("client_id" + ps.name + "openid fullname2024.01.02 15:04:05 +0300")
			writeFile(t, filepath.Join(dir, "msg"), msg)

			// openssl signs, we verify.
			openssl(t, dir, nil, "dgst", "-engine", "gost", "-md_gost12_256", "-sign", "key.pem", "-out", "sig.openssl", "msg")
			sigOpenSSL := readFile(t, filepath.Join(dir, "sig.openssl"))
			if !VerifyMessage(pub, msg, sigOpenSSL) {
				t.Fatal("openssl's signature does not verify here")
			}
			if VerifyMessage(pub, append(msg, 'x'), sigOpenSSL) {
				t.Fatal("openssl's signature verifies over another message")
			}
			// CryptoPro emits the reversed order: reversing it back must verify.
			cryptoPro := Reverse(sigOpenSSL)
			if VerifyMessage(pub, msg, cryptoPro) {
				t.Fatal("a CryptoPro-ordered signature verified without reversal")
			}
			if !VerifyMessage(pub, msg, Reverse(cryptoPro)) {
				t.Fatal("reversed CryptoPro signature does not verify")
			}

			// We sign, openssl verifies; then the reversed form must fail in openssl too.
			sig, err := SignMessage(rand.Reader, priv, msg)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "sig.ours"), sig)
			out := openssl(t, dir, nil, "dgst", "-engine", "gost", "-md_gost12_256", "-verify", "pub.pem", "-signature", "sig.ours", "msg")
			if !bytes.Contains(out, []byte("Verified OK")) {
				t.Fatalf("openssl did not verify our signature: %s", out)
			}
			writeFile(t, filepath.Join(dir, "sig.rev"), Reverse(sig))
			if out, err := opensslErr(dir, nil, "dgst", "-engine", "gost", "-md_gost12_256", "-verify", "pub.pem", "-signature", "sig.rev", "msg"); err == nil {
				t.Fatalf("openssl verified a reversed signature: %s", out)
			}

			// A key we generate and write is usable by openssl, and vice versa.
			mine, err := GenerateKey(ps.curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			mine.ParamSet = priv.ParamSet
			minePEM, err := MarshalPrivateKeyPEM(mine)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "mine.pem"), minePEM)
			minePub, err := MarshalPublicKeyPEM(&mine.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if got := openssl(t, dir, nil, "pkey", "-engine", "gost", "-in", "mine.pem", "-pubout"); !bytes.Equal(got, minePub) {
				t.Fatalf("openssl derives another public key from our key:\n%s\nwant\n%s", got, minePub)
			}
			openssl(t, dir, nil, "dgst", "-engine", "gost", "-md_gost12_256", "-sign", "mine.pem", "-out", "sig.mine", "msg")
			if !VerifyMessage(&mine.PublicKey, msg, readFile(t, filepath.Join(dir, "sig.mine"))) {
				t.Fatal("openssl's signature with our key does not verify")
			}
		})
	}
}

// TestPrivateKeyFormsAgainstOpenSSL checks the other private-key encodings the engine
// writes or reads: GOST_PK_FORMAT=LEGACY_PK_WRAP output, a masked key and an INTEGER.
func TestPrivateKeyFormsAgainstOpenSSL(t *testing.T) {
	requireOpenSSLGost(t)
	dir := t.TempDir()
	openssl(t, dir, nil, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", "key.pem")
	openssl(t, dir, []string{"GOST_PK_FORMAT=LEGACY_PK_WRAP"}, "pkey", "-engine", "gost", "-in", "key.pem", "-out", "wrapped.pem")
	plain, err := ParsePrivateKeyPEM(readFile(t, filepath.Join(dir, "key.pem")))
	if err != nil {
		t.Fatal(err)
	}
	wrappedPEM := readFile(t, filepath.Join(dir, "wrapped.pem"))
	if block, _ := pem.Decode(wrappedPEM); block == nil || bytes.Equal(block.Bytes, mustDecodePEM(t, readFile(t, filepath.Join(dir, "key.pem")))) {
		t.Fatal("LEGACY_PK_WRAP produced the same encoding: the engine no longer wraps")
	}
	wrapped, err := ParsePrivateKeyPEM(wrappedPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !wrapped.Equal(plain) {
		t.Fatal("wrapped key parses to another key")
	}

	// Masked and INTEGER forms: build them, check that openssl reads the same scalar.
	c := plain.Curve
	mask := big.NewInt(0x1234567)
	maskInv := new(big.Int).ModInverse(mask, c.q)
	masked := new(big.Int).Mul(plain.D, maskInv)
	masked.Mod(masked, c.q)
	maskedBytes := append(Reverse(masked.FillBytes(make([]byte, 32))), Reverse(mask.FillBytes(make([]byte, 32)))...)
	intBytes, err := asn1Marshal(plain.D)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"masked": maskedBytes, "integer": intBytes} {
		der := replacePrivateKeyOctets(t, mustDecodePEM(t, readFile(t, filepath.Join(dir, "key.pem"))), content)
		got, err := ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(plain) {
			t.Fatalf("%s form parses to another key", name)
		}
		writeFile(t, filepath.Join(dir, name+".der"), der)
		text := openssl(t, dir, nil, "pkey", "-engine", "gost", "-inform", "DER", "-in", name+".der", "-text", "-noout")
		if want := "Private key: " + strings.ToUpper(plain.D.Text(16)); !bytes.Contains(text, []byte(want)) {
			t.Fatalf("%s: openssl reads another key:\n%s\nwant %s", name, text, want)
		}
	}
}

func mustDecodePEM(t testing.TB, data []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	return block.Bytes
}

func replacePrivateKeyOctets(t *testing.T, der, content []byte) []byte {
	t.Helper()
	var k pkcs8
	if _, err := asn1Unmarshal(der, &k); err != nil {
		t.Fatal(err)
	}
	k.PrivateKey = content
	out, err := asn1Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCertificatesAgainstOpenSSL: certificates openssl makes parse here (hash equal to
// openssl's dgst of the DER), and certificates we make are accepted by openssl x509 and
// openssl verify, self-signed and CA-signed, on every curve.
func TestCertificatesAgainstOpenSSL(t *testing.T) {
	requireOpenSSLGost(t)
	for _, ps := range []string{"TCA", "A", "B", "C", "XB"} {
		t.Run(ps, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			openssl(t, dir, nil, "req", "-engine", "gost", "-x509", "-newkey", "gost2012_256", "-pkeyopt", "paramset:"+ps,
				"-nodes", "-keyout", "ossl.key", "-out", "ossl.pem", "-days", "30", "-subj", "/CN=openssl "+ps+"/O=Test")
			certs, err := ParseCertificatePEM(readFile(t, filepath.Join(dir, "ossl.pem")))
			if err != nil {
				t.Fatal(err)
			}
			cert := certs[0]
			if cert.Subject.CommonName != "openssl "+ps {
				t.Fatalf("subject = %v", cert.Subject)
			}
			key, err := ParsePrivateKeyPEM(readFile(t, filepath.Join(dir, "ossl.key")))
			if err != nil {
				t.Fatal(err)
			}
			if !cert.PublicKey.Equal(&key.PublicKey) {
				t.Fatal("certificate key differs from the private key's")
			}
			if err := cert.CheckSignatureFrom(cert); err != nil {
				t.Fatalf("openssl's self-signed certificate: %v", err)
			}
			writeFile(t, filepath.Join(dir, "ossl.der"), cert.Raw)
			sums := opensslDigests(t, dir, "md_gost12_256", []string{"ossl.der"})
			if got, want := CertificateHash(cert.Raw), strings.ToUpper(sums["ossl.der"]); got != want {
				t.Fatalf("CertificateHash = %s, openssl %s", got, want)
			}

			// Our CA and leaf, checked by openssl.
			now := time.Now()
			ca := mustKey(t, key.Curve)
			caDER, err := CreateCertificate(rand.Reader, &CertificateTemplate{
				SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA " + ps, Organization: []string{"Тест"}},
				NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true,
			}, nil, &ca.PublicKey, ca)
			if err != nil {
				t.Fatal(err)
			}
			caCert, err := ParseCertificate(caDER)
			if err != nil {
				t.Fatal(err)
			}
			leaf := mustKey(t, TC26A())
			leafDER, err := CreateCertificate(rand.Reader, &CertificateTemplate{
				SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "diary-broker"},
				NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: []string{"localhost"},
			}, caCert, &leaf.PublicKey, ca)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "ca.pem"), MarshalCertificatePEM(caDER))
			writeFile(t, filepath.Join(dir, "leaf.pem"), MarshalCertificatePEM(leafDER))
			text := openssl(t, dir, nil, "x509", "-engine", "gost", "-in", "leaf.pem", "-noout", "-text")
			for _, want := range []string{"GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)", "CN = diary-broker", "DNS:localhost"} {
				if !bytes.Contains(text, []byte(want)) {
					t.Errorf("openssl x509 -text lacks %q:\n%s", want, text)
				}
			}
			for _, args := range [][]string{
				{"verify", "-engine", "gost", "-CAfile", "ca.pem", "ca.pem"},
				{"verify", "-engine", "gost", "-CAfile", "ca.pem", "leaf.pem"},
			} {
				if out := openssl(t, dir, nil, args...); !bytes.Contains(out, []byte(": OK")) {
					t.Fatalf("openssl %v: %s", args, out)
				}
			}
			// A leaf signed by another key must fail openssl verify.
			other := mustKey(t, key.Curve)
			badDER, err := CreateCertificate(rand.Reader, &CertificateTemplate{
				SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "forged"},
				NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			}, nil, &other.PublicKey, other)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "bad.pem"), MarshalCertificatePEM(badDER))
			if out, err := opensslErr(dir, nil, "verify", "-engine", "gost", "-CAfile", "ca.pem", "bad.pem"); err == nil {
				t.Fatalf("openssl verified a certificate not issued by the CA: %s", out)
			}
			// The PEM set parses back and the hash agrees with openssl's.
			set, err := ParseCertificatePEM(append(MarshalCertificatePEM(caDER), MarshalCertificatePEM(leafDER)...))
			if err != nil || len(set) != 2 {
				t.Fatalf("set: %v, %d certificates", err, len(set))
			}
			writeFile(t, filepath.Join(dir, "leaf.der"), leafDER)
			sums = opensslDigests(t, dir, "md_gost12_256", []string{"leaf.der"})
			if got, want := CertificateHash(leafDER), strings.ToUpper(sums["leaf.der"]); got != want {
				t.Fatalf("CertificateHash = %s, openssl %s", got, want)
			}
		})
	}
}

func mustKey(t *testing.T, c *Curve) *PrivateKey {
	t.Helper()
	k, err := GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
