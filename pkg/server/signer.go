package server

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// ParseSigner makes the ESIA client_secret signer from BROKER_ESIA_SIGNER
// alone, every other signer setting at its default; NewSigner takes them
// all.
func ParseSigner(spec string) (esia.Signer, error) {
	return NewSigner(ESIASettings{Signer: spec})
}

// NewSigner makes the ESIA client_secret signer from the settings
// (docs/esia-signing.md):
//
//   - "gost:KEY.pem" signs with our GOST R 34.10-2012 code and a key written
//     by OpenSSL's gost engine;
//   - "command:ARGV…" (space separated) or "command" with SignerCommand runs
//     an external program, e.g. CryptoPro's csptest or `openssl dgst -engine
//     gost -md_gost12_256 -sign KEY.pem`;
//   - "http:URL" (or just an http(s) URL) asks a signing service;
//   - "rsa:KEY.pem" is the simulator's legacy mode, refused unless
//     BaseURL is on this host (localhost, 127.0.0.1, ::1): ESIA has not
//     accepted RSA since 2020, and nothing else in the settings says the
//     upstream is a simulator (broker dev's built-in one signs with GOST).
//
// When the system's certificate (Certificate) holds a GOST key, the native
// key must be its key, and every signature of an external signer is checked
// against it before it is sent (esia.CheckedSigner): a wrong key or byte
// order fails with an error that says so instead of ESIA-007053.
func NewSigner(s ESIASettings) (esia.Signer, error) {
	kind, arg := splitSignerSpec(s.Signer)
	certKey, err := certificateKey(s.Certificate)
	if err != nil {
		return nil, err
	}
	fail := func(err error) error { return fmt.Errorf("settings: esia signer: %w", err) }
	switch kind {
	case "gost":
		if arg == "" {
			return nil, fail(errors.New("gost: wants a key file, gost:KEY.pem"))
		}
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, fail(err)
		}
		key, err := gost.ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, fail(err)
		}
		if certKey != nil && !certKey.Equal(&key.PublicKey) {
			return nil, fail(errors.New("the GOST key is not the key of esia.certificate (BROKER_ESIA_CERTIFICATE)"))
		}
		return esia.GOSTSigner{Key: key}, nil
	case "rsa":
		if u, err := url.Parse(s.BaseURL); err != nil || !isLoopback(u.Hostname()) {
			return nil, fail(errors.New("rsa: ESIA has not accepted RSA client signatures since 2020, so rsa:KEY.pem is only for a simulator " +
				"on this host (BROKER_ESIA_BASE_URL on localhost, 127.0.0.1 or ::1); sign with gost:, command: or http: (docs/esia-signing.md)"))
		}
		return rsaSigner(arg)
	case "command", "http":
		opts, err := signerOptions(s)
		if err != nil {
			return nil, fail(err)
		}
		var signer esia.Signer
		if kind == "command" {
			argv := strings.Fields(arg)
			if strings.ContainsAny(arg, `"'`) {
				return nil, fail(errors.New("command: BROKER_ESIA_SIGNER=command:… is split at spaces, without quoting; give arguments with spaces or quotes as the list esia.signer_command"))
			}
			if len(argv) == 0 {
				argv = s.SignerCommand
			}
			if len(argv) == 0 {
				return nil, fail(errors.New("command: give the program as BROKER_ESIA_SIGNER=command:ARGV… or as the list esia.signer_command"))
			}
			signer, err = esia.NewCommandSigner(argv, opts)
		} else {
			signer, err = httpSigner(s, arg, opts)
		}
		if err != nil {
			return nil, fail(err)
		}
		if certKey != nil {
			signer = esia.CheckedSigner{Signer: signer, Key: certKey}
		}
		return signer, nil
	}
	return nil, fmt.Errorf("settings: esia signer %q: want gost:KEY.pem, command:ARGV…, http:URL or rsa:KEY.pem", kind)
}

// splitSignerSpec splits BROKER_ESIA_SIGNER into its kind and argument; a
// bare http(s) URL is the http kind.
func splitSignerSpec(spec string) (kind, arg string) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "https://") || strings.HasPrefix(spec, "http://") {
		return "http", spec
	}
	kind, arg, _ = strings.Cut(spec, ":")
	return kind, strings.TrimSpace(arg)
}

// signerOptions are the external signers' settings.
func signerOptions(s ESIASettings) (esia.SignerOptions, error) {
	out, err := esia.ParseSignatureEncoding(s.SignerOutput)
	if err != nil {
		return esia.SignerOptions{}, errors.New("BROKER_ESIA_SIGNER_OUTPUT: want auto, raw, base64 or hex")
	}
	if s.SignerTimeout < 0 || s.SignerConcurrency < 0 {
		return esia.SignerOptions{}, errors.New("BROKER_ESIA_SIGNER_TIMEOUT and BROKER_ESIA_SIGNER_CONCURRENCY must not be negative")
	}
	return esia.SignerOptions{Output: out, Reverse: s.SignerReverse, Timeout: s.SignerTimeout, MaxConcurrent: s.SignerConcurrency}, nil
}

// httpSigner makes the signing-service signer with its own TLS settings.
func httpSigner(s ESIASettings, rawURL string, opts esia.SignerOptions) (esia.Signer, error) {
	if rawURL == "" {
		return nil, errors.New("http: wants the service's URL, http:https://signer.internal/sign")
	}
	tlsConfig, err := clientTLS("signing service", s.SignerCAFile, s.SignerClientCert, s.SignerClientKey)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(opts.MaxConcurrent, esia.DefaultSignerConcurrency)
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig
	}
	return esia.NewHTTPSigner(esia.HTTPSignerConfig{
		URL: rawURL, Token: s.SignerToken, TokenFile: s.SignerTokenFile,
		HTTPClient: &http.Client{Transport: tr}, SignerOptions: opts,
	})
}

// certificateKey returns the GOST public key of the system's certificate,
// or nil when none is configured or its key is not GOST (the legacy RSA
// mode).
func certificateKey(path string) (*gost.PublicKey, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("settings: esia certificate: %w", err)
	}
	der, err := firstCertificateDER(data)
	if err != nil {
		return nil, fmt.Errorf("settings: esia certificate: %w", err)
	}
	cert, err := gost.ParseCertificate(der)
	if err != nil {
		return nil, nil // not a GOST certificate
	}
	return cert.PublicKey, nil
}

func rsaSigner(path string) (esia.Signer, error) {
	data, err := os.ReadFile(path)
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
