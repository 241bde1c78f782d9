package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// testCA issues client certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue writes a client certificate named cn and its key to dir.
func (ca *testCA) issue(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	writeTestFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeTestFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// mTLSServer is a gateway that requires a client certificate from ca and
// answers with the certificate's common name; caFile holds its own
// certificate, to be trusted by the client.
func mTLSServer(t *testing.T, ca *testCA, h http.HandlerFunc) (srv *httptest.Server, caFile string) {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
		}
	}
	srv = httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "gateway-ca.pem")
	writeTestFile(t, caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	return srv, caFile
}

func getBody(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestESIAHTTPClientTLS(t *testing.T) {
	ca := newTestCA(t)
	srv, caFile := mTLSServer(t, ca, nil)
	dir := t.TempDir()
	certFile, keyFile := ca.issue(t, dir, "broker-1")

	t.Run("client certificate and gateway roots", func(t *testing.T) {
		c, err := esiaHTTPClient(ESIASettings{CAFile: caFile, ClientCert: certFile, ClientKey: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := getBody(c, srv.URL); err != nil || got != "broker-1" {
			t.Fatalf("got %q, %v", got, err)
		}

		// A renewed certificate is picked up at the next handshake.
		other := t.TempDir()
		newCert, newKey := ca.issue(t, other, "broker-renewed")
		for src, dst := range map[string]string{newCert: certFile, newKey: keyFile} {
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			writeTestFile(t, dst, data)
		}
		c.CloseIdleConnections()
		if got, err := getBody(c, srv.URL); err != nil || got != "broker-renewed" {
			t.Fatalf("after renewal: got %q, %v", got, err)
		}

		// A renewal caught half-written keeps the last good pair.
		writeTestFile(t, keyFile, []byte("-----BEGIN PRIVATE KEY-----\ntruncated"))
		c.CloseIdleConnections()
		if got, err := getBody(c, srv.URL); err != nil || got != "broker-renewed" {
			t.Fatalf("half-written renewal: got %q, %v", got, err)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		c, err := esiaHTTPClient(ESIASettings{CAFile: caFile})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := getBody(c, srv.URL); err == nil {
			t.Fatal("the gateway accepted a client without a certificate")
		}
	})
	t.Run("gateway roots missing", func(t *testing.T) {
		certFile, keyFile := ca.issue(t, t.TempDir(), "broker-1")
		c, err := esiaHTTPClient(ESIASettings{ClientCert: certFile, ClientKey: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := getBody(c, srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("untrusted gateway: %v", err)
		}
	})
	t.Run("bad settings", func(t *testing.T) {
		certFile, keyFile := ca.issue(t, t.TempDir(), "broker-1")
		for name, s := range map[string]ESIASettings{
			"certificate without key": {ClientCert: certFile},
			"key without certificate": {ClientKey: keyFile},
			"key of another pair":     {ClientCert: certFile, ClientKey: func() string { _, k := ca.issue(t, t.TempDir(), "x"); return k }()},
			"missing CA file":         {CAFile: filepath.Join(t.TempDir(), "none.pem")},
			"CA file without PEM":     {CAFile: keyFile},
		} {
			if _, err := esiaHTTPClient(s); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

// TestSignerClientTLS: the signing service's own roots and client
// certificate (BROKER_ESIA_SIGNER_CA_FILE, _CLIENT_CERT, _CLIENT_KEY).
func TestSignerClientTLS(t *testing.T) {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := newTestCA(t)
	srv, caFile := mTLSServer(t, ca, func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Message []byte }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sig, _ := gost.SignMessage(rand.Reader, key, req.Message)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(sig)
	})
	certFile, keyFile := ca.issue(t, t.TempDir(), "broker")
	msg := []byte("message")

	s, err := NewSigner(ESIASettings{Signer: "http:" + srv.URL, SignerCAFile: caFile, SignerClientCert: certFile, SignerClientKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := s.Sign(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if !gost.VerifyMessage(&key.PublicKey, msg, sig) {
		t.Fatal("signature does not verify")
	}

	s, err = NewSigner(ESIASettings{Signer: "http:" + srv.URL, SignerCAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), msg); err == nil {
		t.Fatal("the service accepted a broker without a client certificate")
	}
}
