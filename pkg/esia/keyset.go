package esia

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// KeySet holds the certificates whose keys may have signed ESIA's tokens in
// one environment. ESIA rotates keys without notice, so a set keeps several
// and can be reloaded without a restart. Tokens are verified by trying each
// certificate in turn (ESIA's JWT header may carry no kid). A KeySet is safe
// for concurrent use.
type KeySet struct {
	path string // file or directory to reload from; "" for a fixed set

	mu    sync.RWMutex
	certs []*x509.Certificate
}

// NewKeySet returns a fixed set of certificates; Reload leaves it as is.
func NewKeySet(certs ...*x509.Certificate) *KeySet {
	return &KeySet{certs: append([]*x509.Certificate(nil), certs...)}
}

// ParseKeySet returns a fixed set of the certificates in PEM data.
func ParseKeySet(pemData []byte) (*KeySet, error) {
	certs, err := parsePEMCertificates(pemData)
	if err != nil {
		return nil, fmt.Errorf("esia: key set: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("esia: key set: no CERTIFICATE block")
	}
	return NewKeySet(certs...), nil
}

// LoadKeySet reads the certificates of path: a PEM file with one or more
// CERTIFICATE blocks, or a directory whose *.pem, *.crt and *.cer files
// are read. Reload reads path again.
func LoadKeySet(path string) (*KeySet, error) {
	ks := &KeySet{path: path}
	if err := ks.Reload(); err != nil {
		return nil, err
	}
	return ks, nil
}

// Reload re-reads the set from its file or directory. On error the set keeps
// the certificates it had. A set made by NewKeySet or ParseKeySet is fixed
// and Reload returns nil.
func (ks *KeySet) Reload() error {
	if ks.path == "" {
		return nil
	}
	certs, err := readCertificates(ks.path)
	if err != nil {
		return fmt.Errorf("esia: key set: %w", err)
	}
	if len(certs) == 0 {
		return fmt.Errorf("esia: key set: no certificate in %s", ks.path)
	}
	ks.mu.Lock()
	ks.certs = certs
	ks.mu.Unlock()
	return nil
}

// Certificates returns the current certificates. The slice is a copy; the
// certificates are shared and must not be modified.
func (ks *KeySet) Certificates() []*x509.Certificate {
	if ks == nil {
		return nil
	}
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return append([]*x509.Certificate(nil), ks.certs...)
}

func readCertificates(path string) ([]*x509.Certificate, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".pem" || ext == ".crt" || ext == ".cer") {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(files)
	}
	var certs []*x509.Certificate
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		cs, err := parsePEMCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		certs = append(certs, cs...)
	}
	return certs, nil
}

// parsePEMCertificates parses every CERTIFICATE block of data. Certificates
// with public-key algorithms crypto/x509 does not know (GOST) parse with a
// nil PublicKey; their VerifyFunc reads RawSubjectPublicKeyInfo.
func parsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return certs, nil
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
}
