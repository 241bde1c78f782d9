package server_test

import (
	"encoding/pem"
	"net/url"
)

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
