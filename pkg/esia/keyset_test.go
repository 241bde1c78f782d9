package esia_test

import (
	"encoding/pem"
	"os"
	"path/filepath"
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
