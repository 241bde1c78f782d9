package esia_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// signingService is an httptest signing service keeping the contract of
// HTTPSigner; answer writes the response for the signature it made.
func signingService(t *testing.T, key *gost.PrivateKey, token string, answer func(w http.ResponseWriter, sig []byte)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"bad token"}`))
			return
		}
		var req struct {
			Message string `json:"message"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg, err := base64.StdEncoding.DecodeString(req.Message)
		if err != nil {
			http.Error(w, "message is not base64", http.StatusBadRequest)
			return
		}
		sig, err := gost.SignMessage(rand.Reader, key, msg)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		answer(w, sig)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func jsonSignature(enc func([]byte) string) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, sig []byte) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"signature": enc(sig)})
	}
}

func TestHTTPSigner(t *testing.T) {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := &key.PublicKey
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, []byte)
		opts   esia.SignerOptions
	}{
		{"JSON base64url", jsonSignature(base64.RawURLEncoding.EncodeToString), esia.SignerOptions{}},
		{"JSON padded base64", jsonSignature(base64.StdEncoding.EncodeToString), esia.SignerOptions{Output: esia.EncodingBase64}},
		{"JSON hex", jsonSignature(hex.EncodeToString), esia.SignerOptions{Output: esia.EncodingRaw}}, // raw means auto in JSON
		{"JSON reversed (CryptoPro order)", jsonSignature(func(b []byte) string {
			return base64.StdEncoding.EncodeToString(gost.Reverse(b))
		}), esia.SignerOptions{Reverse: true}},
		{"raw body", func(w http.ResponseWriter, sig []byte) {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(sig)
		}, esia.SignerOptions{Output: esia.EncodingRaw}},
		{"text body, hex", func(w http.ResponseWriter, sig []byte) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(strings.ToUpper(hex.EncodeToString(sig)) + "\n"))
		}, esia.SignerOptions{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := signingService(t, key, "t0ken", tc.answer)
			s, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: srv.URL + "/sign", Token: "t0ken", SignerOptions: tc.opts})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := s.Sign(context.Background(), signedMessage)
			if err != nil {
				t.Fatal(err)
			}
			if !gost.VerifyMessage(pub, signedMessage, sig) {
				t.Fatal("signature does not verify")
			}
		})
	}
}

func TestHTTPSignerErrors(t *testing.T) {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, []byte)
		want   string
	}{
		{"5xx with a JSON error", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"HSM not ready"}`))
		}, "HTTP 503: HSM not ready"},
		{"5xx page echoing the request", func(w http.ResponseWriter, _ []byte) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("upstream failed for " + string(signedMessage) +
				" = " + base64.StdEncoding.EncodeToString(signedMessage)))
		}, "HTTP 502: upstream failed for [message] = [message]"},
		{"wrong length", func(w http.ResponseWriter, sig []byte) {
			jsonSignature(base64.StdEncoding.EncodeToString)(w, sig[:63])
		}, "output of 84 bytes is neither a 64-byte signature"},
		{"raw body of the wrong length", func(w http.ResponseWriter, sig []byte) {
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(append(sig, 0))
		}, "65 bytes"},
		{"JSON without a signature", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"sig":"x"}`))
		}, `without a "signature"`},
		{"a redirect is not followed", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Location", "https://elsewhere.example/sign")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}, "HTTP 307"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := signingService(t, key, "", tc.answer)
			s, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Sign(context.Background(), signedMessage)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "CODE") {
				t.Fatalf("error leaks the message: %v", err)
			}
		})
	}

	t.Run("time-out", func(t *testing.T) {
		var calls atomic.Int32
		stop := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(stop) })
		s, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: srv.URL, SignerOptions: esia.SignerOptions{Timeout: 100 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = s.Sign(context.Background(), signedMessage)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 100ms") {
			t.Fatalf("err %v", err)
		}
		if d := time.Since(start); d > 3*time.Second || calls.Load() != 1 {
			t.Fatalf("returned after %v, %d calls", d, calls.Load())
		}
	})
	t.Run("service down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		s, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Sign(context.Background(), signedMessage); err == nil || !strings.Contains(err.Error(), "signing service") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestHTTPSignerToken(t *testing.T) {
	key, err := gost.GenerateKey(gost.TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("first\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var current atomic.Value
	current.Store("first")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+current.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		sig, _ := gost.SignMessage(rand.Reader, key, signedMessage)
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(sig)
	}))
	t.Cleanup(srv.Close)
	s, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: srv.URL, TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), signedMessage); err != nil {
		t.Fatal(err)
	}
	// The token rotates: the file is read again, no restart needed.
	current.Store("second")
	if _, err := s.Sign(context.Background(), signedMessage); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("old token: %v", err)
	}
	if err := os.WriteFile(tokenFile, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(context.Background(), signedMessage); err != nil {
		t.Fatalf("rotated token: %v", err)
	}

	t.Run("never over plain http to another host", func(t *testing.T) {
		if _, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: "http://signer.internal/sign", Token: "x"}); err == nil {
			t.Fatal("accepted")
		}
		if _, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: "https://signer.internal/sign", Token: "x"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad configuration", func(t *testing.T) {
		for name, cfg := range map[string]esia.HTTPSignerConfig{
			"relative URL":       {URL: "/sign"},
			"missing token file": {URL: srv.URL, TokenFile: filepath.Join(t.TempDir(), "none")},
			"negative time-out":  {URL: srv.URL, SignerOptions: esia.SignerOptions{Timeout: -1}},
		} {
			if _, err := esia.NewHTTPSigner(cfg); err == nil {
				t.Errorf("%s accepted", name)
			}
		}
	})
}

// TestHTTPSignerLogin logs in against the simulator through a signing
// service that answers in CryptoPro's byte order.
func TestHTTPSignerLogin(t *testing.T) {
	srv := signingService(t, keys().client.(esia.GOSTSigner).Key, "", func(w http.ResponseWriter, sig []byte) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"signature": base64.StdEncoding.EncodeToString(gost.Reverse(sig))})
	})
	s, err := esia.NewHTTPSigner(esia.HTTPSignerConfig{URL: srv.URL, SignerOptions: esia.SignerOptions{Reverse: true}})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	w.cfg.Signer = s
	if tok := w.login("1000100001"); tok.Identity.OID != "1000100001" {
		t.Fatalf("identity %+v", tok.Identity)
	}
}
