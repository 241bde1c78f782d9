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

// ParseKeySet returns a fixed set of the certificates in data: PEM with one
// or more CERTIFICATE blocks, or one DER certificate.
func ParseKeySet(data []byte) (*KeySet, error) {
	certs, err := parseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("esia: key set: %w", err)
	}
	return NewKeySet(certs...), nil
}

// LoadKeySet reads the certificates of path: a certificate file, or a
// directory whose *.pem, *.crt and *.cer files are read. Each file is PEM
// with one or more CERTIFICATE blocks or one DER certificate (ESIA publishes
// its certificates as DER .cer files), RSA or GOST; a file that is neither
// fails the load. Reload reads path again.
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
		cs, err := parseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		certs = append(certs, cs...)
	}
	return certs, nil
}

var (
	errNoCertificate  = errors.New("PEM without a CERTIFICATE block")
	errNotCertificate = errors.New("neither a PEM nor a DER certificate")
)

// parseCertificates parses every CERTIFICATE block of PEM data, or data as
// one DER certificate when it holds no PEM block. Certificates with
// public-key algorithms crypto/x509 does not know (GOST) parse with a nil
// PublicKey; their VerifyFunc reads RawSubjectPublicKeyInfo. Errors do not
// quote data.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	block, rest := pem.Decode(data)
	if block == nil {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, errNotCertificate
		}
		return append(certs, c), nil
	}
	for ; block != nil; block, rest = pem.Decode(rest) {
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CERTIFICATE block %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errNoCertificate
	}
	return certs, nil
}
