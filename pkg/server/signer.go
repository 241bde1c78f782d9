package server

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// ParseSigner makes the ESIA client_secret signer from its setting:
// "gost:KEY.pem" signs with our GOST R 34.10-2012 code and a key written
// by OpenSSL's gost engine; "rsa:KEY.pem" is the simulator's legacy mode.
func ParseSigner(spec string) (esia.Signer, error) {
	kind, arg, ok := strings.Cut(spec, ":")
	if !ok || arg == "" {
		return nil, fmt.Errorf("settings: esia signer %q: want gost:KEY.pem or rsa:KEY.pem", spec)
	}
	switch kind {
	case "gost":
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("settings: esia signer: %w", err)
		}
		key, err := gost.ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("settings: esia signer: %w", err)
		}
		return esia.GOSTSigner{Key: key}, nil
	case "rsa":
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("settings: esia signer: %w", err)
		}
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, errors.New("settings: esia signer: no PEM block in the RSA key file")
		}
		var key any
		if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("settings: esia signer: %w", err)
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("settings: esia signer: not an RSA key")
		}
		return esia.RSASigner{Key: rk}, nil
	}
	return nil, fmt.Errorf("settings: esia signer kind %q unknown (gost, rsa)", kind)
}

func firstCertificateDER(pemData []byte) ([]byte, error) {
	for {
		var block *pem.Block
		block, pemData = pem.Decode(pemData)
		if block == nil {
			return nil, errors.New("no CERTIFICATE block")
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, nil
		}
	}
}
