package esia_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/testenv"
)

// signedMessage looks like a code-grant client_secret message.
var signedMessage = []byte(clientID + "openid fullname" + "2026.11.24 10:00:00 +0300" +
	"0b0a3f5c-8d4e-4a8e-9d4f-6f7a1c2b3d4e" + redirect + "eyJhbGciOiJSUzI1NiJ9.CODE.SIG")

var (
	gostEngineOnce sync.Once
	gostEngineErr  error
)

// requireGostEngine skips the test when openssl or its gost engine (Debian:
// libengine-gost-openssl) is missing, and fails it under CI=true.
func requireGostEngine(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "openssl")
	gostEngineOnce.Do(func() {
		out, err := exec.Command("openssl", "engine", "gost").CombinedOutput()
		if err == nil && !bytes.Contains(out, []byte("(gost)")) {
			err = errors.New(strings.TrimSpace(string(out)))
		}
		gostEngineErr = err
	})
	if gostEngineErr != nil {
		testenv.Unavailable(t, "openssl gost engine (apt-get install libengine-gost-openssl)", gostEngineErr)
	}
}

// opensslKey makes a GOST R 34.10-2012 256-bit key (tc26 set A) and a
// self-signed certificate for it with OpenSSL's gost engine; it returns
// the key file and the DER certificate. The PEM certificate is cert.pem
// beside the key file.
func opensslKey(t *testing.T) (keyFile string, certDER []byte) {
	t.Helper()
	requireGostEngine(t)
	dir := t.TempDir()
	keyFile, certFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	runOpenSSL(t, "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", keyFile)
	runOpenSSL(t, "req", "-engine", "gost", "-x509", "-new", "-key", keyFile, "-md_gost12_256", "-days", "3650",
		"-subj", "/CN="+clientID, "-out", certFile)
	pemData, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := gost.ParseCertificatePEM(pemData)
	if err != nil || len(certs) != 1 {
		t.Fatalf("openssl's certificate: %v", err)
	}
	return keyFile, certs[0].Raw
}

// runOpenSSL runs openssl with args; a failure ends the test with its output.
func runOpenSSL(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func certKey(t *testing.T, der []byte) *gost.PublicKey {
	t.Helper()
	c, err := gost.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c.PublicKey
}

func opensslSign(keyFile string, extra ...string) []string {
	return append([]string{"openssl", "dgst", "-engine", "gost", "-md_gost12_256", "-sign", keyFile}, extra...)
}

func TestCommandSignerOpenSSL(t *testing.T) {
	keyFile, der := opensslKey(t)
	pub := certKey(t, der)
	tests := []struct {
		name string
		argv []string
		out  esia.SignatureEncoding
	}{
		{"raw", opensslSign(keyFile), esia.EncodingRaw},
		{"raw, auto", opensslSign(keyFile), esia.EncodingAuto},
		{"-hex, auto", opensslSign(keyFile, "-hex"), esia.EncodingAuto},
		{"-hex", opensslSign(keyFile, "-hex"), esia.EncodingHex},
		{"files {in} {out}", opensslSign(keyFile, "-out", "{out}", "{in}"), esia.EncodingRaw},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := esia.NewCommandSigner(tc.argv, esia.SignerOptions{Output: tc.out})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := s.Sign(context.Background(), signedMessage)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != esia.SignatureSize || !gost.VerifyMessage(pub, signedMessage, sig) {
				t.Fatalf("openssl's signature (%d bytes) does not verify with gost.VerifyMessage", len(sig))
			}
			if gost.VerifyMessage(pub, []byte("another message"), sig) {
				t.Fatal("verifies another message")
			}
		})
	}
	t.Run("no leftovers in the temporary directory", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		s, err := esia.NewCommandSigner(opensslSign(keyFile, "-out", "{out}", "{in}"), esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(context.Background(), signedMessage); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}

// TestCommandSignerLogin logs in against the simulator with client_secret
// signed by `openssl dgst -engine gost`: the simulator checks it with the
// certificate openssl made, registered as the system's.
func TestCommandSignerLogin(t *testing.T) {
	keyFile, der := opensslKey(t)
	s, err := esia.NewCommandSigner(opensslSign(keyFile), esia.SignerOptions{Output: esia.EncodingRaw, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, func(c *esiasim.Config) { c.Clients[0].Certificate = der })
	w.cfg.CertificateHash = gost.CertificateHash(der)
	w.cfg.Signer = esia.CheckedSigner{Signer: s, Key: certKey(t, der)}
	tok := w.login("1000100002")
	if tok.Identity.OID != "1000100002" {
		t.Fatalf("identity %+v", tok.Identity)
	}
	if kids, err := w.cfg.Kids(context.Background(), tok); err != nil || len(kids) != 2 {
		t.Fatalf("kids %v %v", kids, err)
	}

	t.Run("another key is caught before ESIA sees it", func(t *testing.T) {
		other, _ := opensslKey(t)
		s, err := esia.NewCommandSigner(opensslSign(other), esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.cfg.Signer = esia.CheckedSigner{Signer: s, Key: certKey(t, der)}
		_, err = w.cfg.AuthURL(context.Background(), state, nil)
		if !errors.Is(err, esia.ErrSignatureMismatch) || !strings.Contains(err.Error(), "another key") {
			t.Fatalf("err %v", err)
		}
	})
}

// helperArgv runs this test binary as a signer program: see
// TestSignerHelperProcess.
func helperArgv(args ...string) []string {
	return append([]string{os.Args[0], "-test.run=^TestSignerHelperProcess$", "--", "esia-signer-helper"}, args...)
}

// TestSignerHelperProcess is not a test: run by helperArgv, it plays a
// signer program.
//
//	sign KEY.pem raw|hex|base64 plain|reversed   signs stdin with our GOST code
//	fail                                         echoes stdin to stderr, exits 3
//	garbage                                      prints 10 bytes
//	block DIR                                    creates a file in DIR, then blocks
func TestSignerHelperProcess(t *testing.T) {
	args := os.Args
	for len(args) > 0 && args[0] != "esia-signer-helper" {
		args = args[1:]
	}
	if len(args) < 2 {
		return
	}
	os.Exit(signerHelper(args[1:]))
}

func signerHelper(args []string) int {
	msg, _ := io.ReadAll(os.Stdin)
	switch args[0] {
	case "sign":
		pemData, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		key, err := gost.ParsePrivateKeyPEM(pemData)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sig, _ := gost.SignMessage(rand.Reader, key, msg)
		if args[3] == "reversed" {
			sig = gost.Reverse(sig)
		}
		switch args[2] {
		case "hex":
			fmt.Println(hex.EncodeToString(sig))
		case "base64":
			fmt.Println(base64.StdEncoding.EncodeToString(sig))
		default:
			os.Stdout.Write(sig)
		}
	case "fail":
		fmt.Fprintf(os.Stderr, "Signing the message %s\nError number 0x8009001d (-2146893795).\n", msg)
		return 3
	case "fail-stdout": // csptest's way: the report on stdout, the message in a file
		in, _ := os.ReadFile(args[1])
		fmt.Printf("CSP (Type:80) v5.0.10001 KC1\nSigning %s\n[ErrorCode: 0x8009000d]\n", in)
		return 1
	case "garbage":
		fmt.Print("not a sig\n")
	case "block":
		f, err := os.CreateTemp(args[1], "running-")
		if err != nil {
			return 1
		}
		f.Close()
		select {} // until killed
	}
	return 0
}

// goKeyFile writes a GOST key made by our code as OpenSSL would.
func goKeyFile(t *testing.T) (string, *gost.PublicKey) {
	t.Helper()
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := gost.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, &key.PublicKey
}

// TestCommandSignerReverse: a CryptoPro-like program writes the signature
// byte-reversed; Reverse turns it into the order ESIA expects.
func TestCommandSignerReverse(t *testing.T) {
	keyFile, pub := goKeyFile(t)
	for _, enc := range []string{"raw", "hex", "base64"} {
		t.Run(enc, func(t *testing.T) {
			reversed, err := esia.NewCommandSigner(helperArgv("sign", keyFile, enc, "reversed"), esia.SignerOptions{Reverse: true})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := reversed.Sign(context.Background(), signedMessage)
			if err != nil {
				t.Fatal(err)
			}
			if !gost.VerifyMessage(pub, signedMessage, sig) {
				t.Fatal("reversed output, reversed back, does not verify")
			}

			// Without Reverse the order is wrong, and CheckedSigner says
			// which setting to change.
			plain, err := esia.NewCommandSigner(helperArgv("sign", keyFile, enc, "reversed"), esia.SignerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sig, err := plain.Sign(context.Background(), signedMessage); err != nil || gost.VerifyMessage(pub, signedMessage, sig) {
				t.Fatalf("reversed output verifies without Reverse (err %v)", err)
			}
			_, err = esia.CheckedSigner{Signer: plain, Key: pub}.Sign(context.Background(), signedMessage)
			if !errors.Is(err, esia.ErrSignatureMismatch) || !strings.Contains(err.Error(), "reversal must be switched on") {
				t.Fatalf("checked: %v", err)
			}
			// And the other way round: Reverse set for a program that needs none.
			wrong, err := esia.NewCommandSigner(helperArgv("sign", keyFile, enc, "plain"), esia.SignerOptions{Reverse: true})
			if err != nil {
				t.Fatal(err)
			}
			_, err = esia.CheckedSigner{Signer: wrong, Key: pub}.Sign(context.Background(), signedMessage)
			if !errors.Is(err, esia.ErrSignatureMismatch) || !strings.Contains(err.Error(), "reversal must be switched off") {
				t.Fatalf("checked: %v", err)
			}
		})
	}
}

func TestCommandSignerErrors(t *testing.T) {
	t.Run("exit status and stderr, without the message", func(t *testing.T) {
		s, err := esia.NewCommandSigner(helperArgv("fail"), esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Sign(context.Background(), signedMessage)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		for _, want := range []string{"exit status 3", "0x8009001d", "[message]", "esia.test"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		for _, leak := range []string{"CODE", redirect, "esia-signer-helper"} {
			if strings.Contains(msg, leak) {
				t.Errorf("error %q leaks %q", msg, leak)
			}
		}
	})
	t.Run("a report on stdout when the signature goes to a file", func(t *testing.T) {
		s, err := esia.NewCommandSigner(helperArgv("fail-stdout", "{in}", "{out}"), esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Sign(context.Background(), signedMessage)
		if err == nil || !strings.Contains(err.Error(), "exit status 1: CSP (Type:80) v5.0.10001 KC1 Signing [message] [ErrorCode: 0x8009000d]") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("output that is not a signature", func(t *testing.T) {
		s, err := esia.NewCommandSigner(helperArgv("garbage"), esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(context.Background(), signedMessage); err == nil || !strings.Contains(err.Error(), "10 bytes") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("program not found", func(t *testing.T) {
		if _, err := esia.NewCommandSigner([]string{"no-such-signer-program"}, esia.SignerOptions{}); err == nil {
			t.Fatal("accepted")
		}
		if _, err := esia.NewCommandSigner(nil, esia.SignerOptions{}); err == nil {
			t.Fatal("empty argv accepted")
		}
		if _, err := esia.NewCommandSigner([]string{"true"}, esia.SignerOptions{Output: "der"}); err == nil {
			t.Fatal("unknown output accepted")
		}
	})
	t.Run("the broker's secrets stay out of the environment", func(t *testing.T) {
		t.Setenv("BROKER_KEK", "secret-kek")
		t.Setenv("ESIA_SIGNER_TEST_VISIBLE", "yes")
		s, err := esia.NewCommandSigner([]string{"sh", "-c", `[ -z "$BROKER_KEK" ] && [ "$ESIA_SIGNER_TEST_VISIBLE" = yes ] && exit 0; exit 9`}, esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(context.Background(), signedMessage); err == nil || strings.Contains(err.Error(), "exit status 9") {
			t.Fatalf("environment: %v", err) // exit 0 with no output is the expected "0 bytes" error
		}
	})
}

// TestCommandSignerTimeout: a program that hangs is killed after the
// time-out, also when it left a child holding its output open.
func TestCommandSignerTimeout(t *testing.T) {
	testenv.LookPath(t, "sleep")
	tests := []struct {
		name string
		argv []string
		max  time.Duration
	}{
		{"sleep 10", []string{"sleep", "10"}, 3 * time.Second},
		// Killing sh alone would leave sleep holding the output pipe, and
		// Sign would wait for WaitDelay (1 s); the process group dies at once.
		{"a script whose child runs", []string{"sh", "-c", "sleep 10; echo done"}, 900 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := esia.NewCommandSigner(tc.argv, esia.SignerOptions{Timeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = s.Sign(context.Background(), signedMessage)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no signature within 100ms") {
				t.Fatalf("err %v", err)
			}
			if d := time.Since(start); d > tc.max {
				t.Fatalf("Sign returned after %v", d)
			}
		})
	}
	t.Run("the caller's cancellation", func(t *testing.T) {
		s, err := esia.NewCommandSigner([]string{"sleep", "10"}, esia.SignerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := s.Sign(ctx, signedMessage); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	})
}

// TestCommandSignerConcurrency: with MaxConcurrent 1, a second signature
// waits for the first instead of starting another process.
func TestCommandSignerConcurrency(t *testing.T) {
	dir := t.TempDir()
	s, err := esia.NewCommandSigner(helperArgv("block", dir), esia.SignerOptions{MaxConcurrent: 1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	running := func() int {
		entries, _ := os.ReadDir(dir)
		return len(entries)
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { _, err := s.Sign(ctxA, signedMessage); doneA <- err }()
	for deadline := time.Now().Add(10 * time.Second); running() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the first program never started")
		}
		time.Sleep(5 * time.Millisecond)
	}

	ctxB, cancelB := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelB()
	if _, err := s.Sign(ctxB, signedMessage); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second signature: %v", err)
	}
	if n := running(); n != 1 {
		t.Fatalf("%d programs started, want 1", n)
	}
	cancelA()
	if err := <-doneA; !errors.Is(err, context.Canceled) {
		t.Fatalf("first signature: %v", err)
	}
}
