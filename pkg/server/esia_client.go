package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// esiaHTTPClient is the client for ESIA calls: ESIA's Russian roots added
// to the system pool, and a client TLS certificate for a gateway that asks
// for one, when configured. The connection and the TLS handshake are
// bounded by ConnectTimeout, so that a host that does not answer fails a
// call in seconds; the whole call is bounded by Timeout (esia.Config).
func esiaHTTPClient(s ESIASettings) (*http.Client, error) {
	connect := s.ConnectTimeout
	if connect <= 0 {
		connect = DefaultESIAConnectTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = connect
	tr.MaxIdleConnsPerHost = 64
	tlsConfig, err := clientTLS("esia", s.CAFile, s.ClientCert, s.ClientKey)
	if err != nil {
		return nil, err
	}
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig
	}
	return &http.Client{Transport: tr}, nil
}

// clientTLS is the TLS configuration for a server with extra roots (caFile,
// added to the system pool) and a client certificate (certFile and keyFile,
// PEM); nil when none is set. what names the server in errors.
func clientTLS(what, caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("settings: %s ca file: %w", what, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("settings: %s ca file holds no certificates", what)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return nil, fmt.Errorf("settings: %s client certificate: set both the certificate and the key", what)
		}
		cc, err := newClientCertificate(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("settings: %s client certificate: %w", what, err)
		}
		cfg.GetClientCertificate = cc.get
	}
	return cfg, nil
}

// clientCertificate is a client TLS certificate loaded from PEM files and
// loaded again at the next handshake after either file changed, so that a
// renewed certificate needs no restart. A renewal caught half-written keeps
// the previous pair until both files agree.
type clientCertificate struct {
	certFile, keyFile string

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp string // size and modification time of both files
}

func newClientCertificate(certFile, keyFile string) (*clientCertificate, error) {
	c := &clientCertificate{certFile: certFile, keyFile: keyFile}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

// get is tls.Config.GetClientCertificate.
func (c *clientCertificate) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fileStamp() != c.stamp {
		_ = c.loadLocked() // on failure the previous pair stays in use
	}
	return c.cert, nil
}

func (c *clientCertificate) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadLocked()
}

func (c *clientCertificate) loadLocked() error {
	stamp := c.fileStamp()
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		// LoadX509KeyPair's errors name no key material.
		return err
	}
	if len(cert.Certificate) == 0 {
		return errors.New("no certificate")
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

func (c *clientCertificate) fileStamp() string {
	var s string
	for _, f := range []string{c.certFile, c.keyFile} {
		if fi, err := os.Stat(f); err == nil {
			s += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return s
}
