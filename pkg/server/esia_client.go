package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// esiaHTTPClient is the client for ESIA calls: ESIA's Russian roots added
// to the system pool when configured.
func esiaHTTPClient(s ESIASettings) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if s.CAFile != "" {
		pemData, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("settings: esia ca file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, errors.New("settings: esia ca file holds no certificates")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
