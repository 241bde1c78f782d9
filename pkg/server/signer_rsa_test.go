package server_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// rsaSystemKey writes an RSA key and its self-signed certificate: the
// simulator's legacy mode.
func rsaSystemKey(t *testing.T) (keyFile, certFile string) {
	t.Helper()
	key, der, err := esiasim.SelfSignedRSA("Дневник-брокер (RSA, test)", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, certFile = filepath.Join(dir, "system.key.pem"), filepath.Join(dir, "system.crt.pem")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pemCert(der), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile, certFile
}

// TestRSASignerOnlyForALocalSimulator: ESIA refuses RSA client signatures,
// so rsa:KEY.pem is accepted only with ESIA's base URL on this host.
func TestRSASignerOnlyForALocalSimulator(t *testing.T) {
	keyFile, certFile := rsaSystemKey(t)
	tests := []struct {
		baseURL string
		ok      bool
	}{
		{"http://127.0.0.1:8090", true},
		{"http://localhost:8090/esia-sim", true},
		{"http://[::1]:8090", true},
		{"https://esia.gosuslugi.ru", false},
		{"https://esia-portal1.test.gosuslugi.ru", false},
		{"http://10.0.0.5:8090", false},
		{"http://127.0.0.1.example.org", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.baseURL, func(t *testing.T) {
			signer, err := server.NewSigner(server.ESIASettings{BaseURL: tc.baseURL, Signer: "rsa:" + keyFile, Certificate: certFile})
			if tc.ok {
				if _, isRSA := signer.(esia.RSASigner); err != nil || !isRSA {
					t.Fatalf("signer %T, %v", signer, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "RSA client signatures") || !strings.Contains(err.Error(), "BROKER_ESIA_BASE_URL") {
				t.Fatalf("err %v", err)
			}
		})
	}
}

// TestServeRefusesRSAForESIA: serve with rsa:KEY.pem and ESIA's own base URL
// stops at startup with the reason.
func TestServeRefusesRSAForESIA(t *testing.T) {
	keyFile, certFile := rsaSystemKey(t)
	s := server.DefaultSettings()
	s.Issuer = "https://id.diary.example"
	s.DatabaseURL = pgtest.NewDatabase(t)
	s.RedisURL = sessionstest.RedisURL()
	s.KEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	s.ESIA = server.ESIASettings{BaseURL: "https://esia-portal1.test.gosuslugi.ru", ClientID: "DIARYTEST", Signer: "rsa:" + keyFile,
		Certificate: certFile, Trust: certFile, Issuer: "http://esia-portal1.test.gosuslugi.ru/"}
	c, err := server.Build(context.Background(), s, server.BuildOptions{Logger: discardLogger()})
	if err == nil {
		c.Close()
		t.Fatal("serve started with an RSA signer for ESIA")
	}
	if !strings.Contains(err.Error(), "settings: esia signer: rsa: ESIA has not accepted RSA") {
		t.Fatalf("err %v", err)
	}
}
