package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/testenv"
)

var signerTestMessage = []byte("DIARY01openid fullname2026.11.24 10:00:00 +03000b0a3f5c-8d4e-4a8e-9d4f-6f7a1c2b3d4ehttps://diary.example/esia/callbackCODE")

// systemKey writes a GOST key (as OpenSSL's gost engine writes it) and a
// self-signed certificate for it, as an operator registers in ESIA.
func systemKey(t *testing.T) (keyFile, certFile string, key *gost.PrivateKey) {
	t.Helper()
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := gost.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	der, err := gost.CreateCertificate(rand.Reader, &gost.CertificateTemplate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "DIARY01"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
	}, nil, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, certFile = filepath.Join(dir, "system.key.pem"), filepath.Join(dir, "system.crt.pem")
	for path, data := range map[string][]byte{keyFile: keyPEM, certFile: gost.MarshalCertificatePEM(der)} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return keyFile, certFile, key
}

func requireOpenSSLGost(t *testing.T) {
	t.Helper()
	testenv.LookPath(t, "openssl")
	out, err := exec.Command("openssl", "engine", "gost").CombinedOutput()
	if err == nil && !bytes.Contains(out, []byte("(gost)")) {
		err = errors.New(strings.TrimSpace(string(out)))
	}
	if err != nil {
		testenv.Unavailable(t, "openssl gost engine (apt-get install libengine-gost-openssl)", err)
	}
}

func signAndVerify(t *testing.T, s esia.Signer, pub *gost.PublicKey) {
	t.Helper()
	sig, err := s.Sign(context.Background(), signerTestMessage)
	if err != nil {
		t.Fatal(err)
	}
	if !gost.VerifyMessage(pub, signerTestMessage, sig) {
		t.Fatal("signature does not verify")
	}
}

func TestNewSignerNative(t *testing.T) {
	keyFile, certFile, key := systemKey(t)
	s, err := server.NewSigner(server.ESIASettings{Signer: "gost:" + keyFile, Certificate: certFile})
	if err != nil {
		t.Fatal(err)
	}
	signAndVerify(t, s, &key.PublicKey)

	_, otherCert, _ := systemKey(t)
	if _, err := server.NewSigner(server.ESIASettings{Signer: "gost:" + keyFile, Certificate: otherCert}); err == nil ||
		!strings.Contains(err.Error(), "not the key of esia.certificate") {
		t.Fatalf("key of another certificate: %v", err)
	}
	// ParseSigner is the setting alone.
	if s, err := server.ParseSigner("gost:" + keyFile); err != nil {
		t.Fatal(err)
	} else {
		signAndVerify(t, s, &key.PublicKey)
	}
}

// TestNewSignerCommand configures the command signer the three ways an
// operator can: BROKER_ESIA_SIGNER=command:ARGV, the YAML list, and the
// YAML list with the encoding and reversal variables.
func TestNewSignerCommand(t *testing.T) {
	requireOpenSSLGost(t)
	keyFile, certFile, key := systemKey(t)
	openssl := "openssl dgst -engine gost -md_gost12_256 -sign " + keyFile
	load := func(t *testing.T, yaml string, env map[string]string) server.ESIASettings {
		t.Helper()
		file := filepath.Join(t.TempDir(), "broker.yaml")
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := server.LoadSettings(file, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		return s.ESIA
	}
	t.Run("command:ARGV", func(t *testing.T) {
		s := load(t, "esia:\n  certificate: "+certFile+"\n", map[string]string{
			"BROKER_ESIA_SIGNER": "command:" + openssl, "BROKER_ESIA_SIGNER_OUTPUT": "raw", "BROKER_ESIA_SIGNER_TIMEOUT": "5s",
		})
		signer, err := server.NewSigner(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := signer.(esia.CheckedSigner); !ok {
			t.Errorf("signer %T is not checked against the certificate", signer)
		}
		signAndVerify(t, signer, &key.PublicKey)
	})
	t.Run("YAML list", func(t *testing.T) {
		s := load(t, "esia:\n  signer: command\n  signer_command: [openssl, dgst, -engine, gost, -md_gost12_256, -hex, -sign, '"+keyFile+"']\n"+
			"  signer_output: hex\n  signer_concurrency: 2\n  certificate: "+certFile+"\n", nil)
		signer, err := server.NewSigner(s)
		if err != nil {
			t.Fatal(err)
		}
		signAndVerify(t, signer, &key.PublicKey)
	})
	t.Run("reversal set for a program that needs none", func(t *testing.T) {
		s := load(t, "esia:\n  certificate: "+certFile+"\n", map[string]string{
			"BROKER_ESIA_SIGNER": "command:" + openssl, "BROKER_ESIA_SIGNER_REVERSE": "true",
		})
		signer, err := server.NewSigner(s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = signer.Sign(context.Background(), signerTestMessage)
		if !errors.Is(err, esia.ErrSignatureMismatch) || !strings.Contains(err.Error(), "switched off") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestNewSignerHTTP(t *testing.T) {
	_, certFile, key := systemKey(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req struct{ Message []byte }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sig, _ := gost.SignMessage(rand.Reader, key, req.Message)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"signature": base64.RawURLEncoding.EncodeToString(gost.Reverse(sig))})
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case fails the handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "signer-ca.pem")
	if err := os.WriteFile(caFile, gost.MarshalCertificatePEM(srv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := server.LoadSettings("", func(k string) (string, bool) {
		v, ok := map[string]string{
			"BROKER_ESIA_SIGNER": "http:" + srv.URL + "/sign", "BROKER_ESIA_SIGNER_TOKEN": "s3cret",
			"BROKER_ESIA_SIGNER_REVERSE": "true", "BROKER_ESIA_SIGNER_CA_FILE": caFile, "BROKER_ESIA_CERTIFICATE": certFile,
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := server.NewSigner(s.ESIA)
	if err != nil {
		t.Fatal(err)
	}
	signAndVerify(t, signer, &key.PublicKey)

	// A bare URL is the http kind too; without the CA file the service is
	// not trusted.
	signer, err = server.NewSigner(server.ESIASettings{Signer: srv.URL, SignerToken: "s3cret", SignerReverse: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.Sign(context.Background(), signerTestMessage); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted service: %v", err)
	}
}

func TestNewSignerErrors(t *testing.T) {
	keyFile, certFile, _ := systemKey(t)
	tests := []struct {
		name string
		s    server.ESIASettings
		want string
	}{
		{"empty", server.ESIASettings{}, "want gost:KEY.pem"},
		{"unknown kind", server.ESIASettings{Signer: "pkcs11:slot0"}, `"pkcs11"`},
		{"gost without a key", server.ESIASettings{Signer: "gost:"}, "wants a key file"},
		{"command without a program", server.ESIASettings{Signer: "command"}, "esia.signer_command"},
		{"program not found, PIN not repeated", server.ESIASettings{Signer: "command:no-such-csptest -password 12345678"}, "no-such-csptest"},
		{"bad output", server.ESIASettings{Signer: "command:true", SignerOutput: "der"}, "BROKER_ESIA_SIGNER_OUTPUT"},
		{"quotes in the environment form", server.ESIASettings{Signer: `command:csptest -container '\.\HDIMAGE\my system'`}, "without quoting"},
		{"http without a URL", server.ESIASettings{Signer: "http:"}, "wants the service's URL"},
		{"token over plain http", server.ESIASettings{Signer: "http:http://signer.internal/sign", SignerToken: "x"}, "https"},
		{"client certificate without key", server.ESIASettings{Signer: "https://signer.internal/sign", SignerClientCert: certFile}, "both"},
		{"missing certificate file", server.ESIASettings{Signer: "gost:" + keyFile, Certificate: keyFile + ".none"}, "esia certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.NewSigner(tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "12345678") {
				t.Fatalf("error repeats the command line: %v", err)
			}
		})
	}
}

func TestESIASettingsFromEnv(t *testing.T) {
	env := map[string]string{
		"BROKER_ESIA_BREAKER_FAILURES": "3", "BROKER_ESIA_BREAKER_COOLDOWN": "1m",
		"BROKER_ESIA_CLIENT_CERT": "/c.pem", "BROKER_ESIA_CLIENT_KEY": "/k.pem",
		"BROKER_ESIA_SIGNER_CONCURRENCY": "4", "BROKER_ESIA_SIGNER_TOKEN_FILE": "/t",
	}
	s, err := server.LoadSettings("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	e := s.ESIA
	if e.BreakerFailures != 3 || e.BreakerCooldown != time.Minute || e.ClientCert != "/c.pem" || e.ClientKey != "/k.pem" ||
		e.SignerConcurrency != 4 || e.SignerTokenFile != "/t" {
		t.Fatalf("settings %+v", e)
	}
	for name, v := range map[string]string{
		"BROKER_ESIA_BREAKER_FAILURES": "many", "BROKER_ESIA_BREAKER_COOLDOWN": "soon",
		"BROKER_ESIA_SIGNER_CONCURRENCY": "0", "BROKER_ESIA_SIGNER_REVERSE": "yes please",
	} {
		if _, err := server.LoadSettings("", func(k string) (string, bool) { return v, k == name }); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, v, err)
		}
	}
	// The signing service's token is a secret: never from the YAML file.
	file := filepath.Join(t.TempDir(), "broker.yaml")
	if err := os.WriteFile(file, []byte("esia:\n  signer_token: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.LoadSettings(file, func(string) (string, bool) { return "", false }); err == nil {
		t.Fatal("signer_token accepted from YAML")
	}
}
