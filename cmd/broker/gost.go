package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// GostCmd is `broker gost`.
type GostCmd struct {
	Keygen   GostKeygenCmd   `cmd:"" help:"Generate a GOST R 34.10-2012 256-bit key (PKCS#8 PEM, as OpenSSL's gost engine writes it)."`
	Selfsign GostSelfsignCmd `cmd:"" help:"Make a self-signed GOST certificate for a key: for ESIA's test environment and the simulator."`
	Sign     GostSignCmd     `cmd:"" help:"Sign standard input with a GOST key; prints the base64url signature (OpenSSL byte order)."`
	Verify   GostVerifyCmd   `cmd:"" help:"Verify a signature of standard input; exit 0 valid, 1 invalid."`
	CertHash GostCertHashCmd `cmd:"" name:"cert-hash" help:"Print client_certificate_hash: Streebog-256 of the certificate, 64 upper-case hex."`
}

// GostSignCmd is `broker gost sign --key KEY.pem`.
type GostSignCmd struct {
	Key      string `required:"" type:"existingfile" help:"GOST private key (PKCS#8 PEM, as OpenSSL's gost engine writes it)."`
	Padded   bool   `help:"Padded base64url (88 characters) instead of unpadded (86)."`
	Reversed bool   `help:"CryptoPro byte order (reversed)."`
}

// Run signs standard input.
func (c *GostSignCmd) Run(*Globals) error {
	pemData, err := os.ReadFile(c.Key)
	if err != nil {
		return err
	}
	key, err := gost.ParsePrivateKeyPEM(pemData)
	if err != nil {
		return err
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	sig, err := gost.SignMessage(rand.Reader, key, msg)
	if err != nil {
		return err
	}
	if c.Reversed {
		sig = gost.Reverse(sig)
	}
	enc := base64.RawURLEncoding
	if c.Padded {
		enc = base64.URLEncoding
	}
	fmt.Println(enc.EncodeToString(sig))
	return nil
}

// GostVerifyCmd is `broker gost verify --cert CERT.pem --sig SIG`.
type GostVerifyCmd struct {
	Cert     string `required:"" type:"existingfile" help:"Certificate with the GOST public key (PEM)."`
	Sig      string `required:"" help:"Signature: base64url (padded or not), base64, or a file holding it."`
	Reversed bool   `help:"The signature is in CryptoPro byte order."`
}

// Run verifies a signature of standard input.
func (c *GostVerifyCmd) Run(*Globals) error {
	pemData, err := os.ReadFile(c.Cert)
	if err != nil {
		return err
	}
	certs, err := gost.ParseCertificatePEM(pemData)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return fmt.Errorf("%s holds no certificate", c.Cert)
	}
	sigText := c.Sig
	if b, err := os.ReadFile(c.Sig); err == nil {
		sigText = string(b)
	}
	sig, err := decodeSignature(strings.TrimSpace(sigText))
	if err != nil {
		return err
	}
	if c.Reversed {
		sig = gost.Reverse(sig)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	if !gost.VerifyMessage(certs[0].PublicKey, msg, sig) {
		return &exitError{code: 1, msg: "signature INVALID"}
	}
	fmt.Println("signature valid")
	return nil
}

func decodeSignature(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("signature is not base64 or base64url")
}

// GostCertHashCmd is `broker gost cert-hash CERT.pem`.
type GostCertHashCmd struct {
	Cert string `arg:"" type:"existingfile" help:"Certificate (PEM or DER)."`
}

// Run prints the certificate hash.
func (c *GostCertHashCmd) Run(*Globals) error {
	data, err := os.ReadFile(c.Cert)
	if err != nil {
		return err
	}
	der := data
	if certs, err := gost.ParseCertificatePEM(data); err == nil && len(certs) > 0 {
		der = certs[0].Raw
	} else if strings.Contains(string(data), "-----BEGIN") {
		// A PEM certificate with a non-GOST key: hash its DER all the same.
		d, err := firstPEMCertificate(data)
		if err != nil {
			return err
		}
		der = d
	}
	fmt.Println(gost.CertificateHash(der))
	return nil
}

func firstPEMCertificate(data []byte) ([]byte, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("no CERTIFICATE in the file")
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, nil
		}
	}
}
