package esia_test

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
)

func writePEM(t *testing.T, path string, ders ...[]byte) {
	t.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestKeySet(t *testing.T) {
	k := keys()
	dir := t.TempDir()
	writePEM(t, filepath.Join(dir, "esia-2025.pem"), k.esiaOld.Certificate())
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := esia.LoadKeySet(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ks.Certificates()); n != 1 {
		t.Fatalf("%d certificates", n)
	}

	// ESIA rotated its key: the new certificate is dropped in and reloaded
	// while tokens are being verified.
	writePEM(t, filepath.Join(dir, "esia-2026.crt"), k.esia.Certificate())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				_ = ks.Certificates()
			}
		}()
	}
	if err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := len(ks.Certificates()); n != 2 {
		t.Fatalf("%d certificates after reload", n)
	}

	// A broken file fails the reload and keeps the keys.
	if err := os.WriteFile(filepath.Join(dir, "broken.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ks.Reload(); err == nil {
		t.Fatal("broken certificate accepted")
	}
	if n := len(ks.Certificates()); n != 2 {
		t.Fatalf("%d certificates after a failed reload", n)
	}

	single := filepath.Join(t.TempDir(), "esia.pem")
	writePEM(t, single, k.esia.Certificate(), k.esiaOld.Certificate())
	if ks, err := esia.LoadKeySet(single); err != nil || len(ks.Certificates()) != 2 {
		t.Fatalf("file with two certificates: %v", err)
	}
	if _, err := esia.LoadKeySet(t.TempDir()); err == nil {
		t.Fatal("empty directory accepted")
	}
	if _, err := esia.ParseKeySet([]byte("nothing")); err == nil {
		t.Fatal("no PEM accepted")
	}
	if err := esia.NewKeySet().Reload(); err != nil {
		t.Fatal(err)
	}
}

func TestKeySetRotationVerifies(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) {
			w := newWorldKeys(t, k)
			// Trust the simulator's key only after the old one: tried in turn.
			w.cfg.Keys = esia.NewKeySet(cert(t, k.esiaOld.Certificate()), cert(t, k.rogue.Certificate()), cert(t, w.sim.Certificate()))
			if tok := w.login("1000100001"); tok.Identity.OID != "1000100001" {
				t.Fatal(tok.Identity)
			}
		})
	}
}

// TestKeySetFileForms loads ESIA's certificates as they come: PEM or DER
// (ESIA publishes DER .cer files), GOST or RSA, under each extension a
// directory is read for, from the directory and from the file itself. A
// file that is neither fails the load with an error naming the file and
// quoting nothing of it.
func TestKeySetFileForms(t *testing.T) {
	const junk = "not a certificate"
	pemOf := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	tests := []struct {
		name    string
		file    string
		data    func(der []byte) []byte
		wantErr string // "" when the certificate loads
	}{
		{"PEM", "esia.pem", pemOf, ""},
		{"PEM .cer", "esia.cer", pemOf, ""},
		{"DER .cer", "ГОСТ 2012 ПРОД.cer", func(der []byte) []byte { return der }, ""},
		{"DER .crt", "esia.crt", func(der []byte) []byte { return der }, ""},
		{"garbage", "broken.cer", func([]byte) []byte { return []byte(junk + "\x00\x01") }, "neither a PEM nor a DER certificate"},
		{"truncated DER", "cut.cer", func(der []byte) []byte { return der[:len(der)/2] }, "neither a PEM nor a DER certificate"},
		{"PEM without a certificate", "key.pem", func([]byte) []byte {
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(junk)})
		}, "PEM without a CERTIFICATE block"},
	}
	for _, k := range keySets() {
		der := k.esia.Certificate()
		token := mint(k.esia, "", map[string]any{"sub": 1})
		i := strings.LastIndexByte(token, '.')
		sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			dir := t.TempDir()
			file := filepath.Join(dir, tc.file)
			if err := os.WriteFile(file, tc.data(der), 0o600); err != nil {
				t.Fatal(err)
			}
			for from, path := range map[string]string{"directory": dir, "file": file} {
				t.Run(k.name+"/"+tc.name+"/"+from, func(t *testing.T) {
					ks, err := esia.LoadKeySet(path)
					if tc.wantErr != "" {
						if err == nil || !strings.Contains(err.Error(), tc.file+": "+tc.wantErr) || strings.Contains(err.Error(), junk) {
							t.Fatalf("err %v, want one naming %s: %s", err, tc.file, tc.wantErr)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					certs := ks.Certificates()
					if len(certs) != 1 || !bytes.Equal(certs[0].Raw, der) {
						t.Fatalf("%d certificates", len(certs))
					}
					if err := esia.DefaultAlgorithms()[k.alg](certs[0], []byte(token[:i]), sig); err != nil {
						t.Fatalf("the loaded certificate does not verify its key's token: %v", err)
					}
				})
			}
		}
	}
}
