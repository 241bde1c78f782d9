package main

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// GostKeygenCmd is `broker gost keygen --paramset A --out KEY.pem`.
type GostKeygenCmd struct {
	Paramset string `default:"A" help:"Parameter set, as OpenSSL's gost engine names them: A, B, C, XA, XB (CryptoPro), TCA, TCB, TCC, TCD (TC26)."`
	Out      string `short:"o" placeholder:"FILE" help:"Write the key here (mode 0600; an existing file is never overwritten) instead of standard output."`
}

// Run generates a GOST R 34.10-2012 256-bit key and writes it as PKCS#8 PEM, byte for
// byte the form `openssl genpkey -engine gost -algorithm gost2012_256` writes.
func (c *GostKeygenCmd) Run(*Globals) error {
	key, err := gost.GenerateKeyParamSet(c.Paramset, rand.Reader)
	if err != nil {
		return fmt.Errorf("gost keygen: %w", err)
	}
	pemData, err := gost.MarshalPrivateKeyPEM(key)
	if err != nil {
		return fmt.Errorf("gost keygen: %w", err)
	}
	return writeOutput(c.Out, pemData, 0o600)
}

// GostSelfsignCmd is `broker gost selfsign --key KEY.pem --subject /CN=MYSYSTEM`.
type GostSelfsignCmd struct {
	Key     string   `required:"" type:"existingfile" help:"GOST private key (PKCS#8 PEM: broker gost keygen or OpenSSL's gost engine)."`
	Subject string   `required:"" help:"Subject and issuer, as openssl -subj writes it: /CN=MYSYSTEM/O=Школа № 1/C=RU (CN O OU C ST L street serialNumber emailAddress INN INNLE OGRN SNILS, or a dotted OID; \\/ is a slash inside a value)."`
	Days    int      `default:"365" help:"Days of validity from now."`
	DNS     []string `name:"dns" placeholder:"NAME" help:"DNS names for subjectAltName (repeatable); none by default."`
	Out     string   `short:"o" placeholder:"FILE" help:"Write the certificate here (an existing file is never overwritten) instead of standard output."`
}

// Run makes a self-signed X.509 certificate for the key: for ESIA's test environment,
// the simulator and test systems, never for production (there the certificate comes from
// an accredited УЦ, see docs/esia-signing.md).
func (c *GostSelfsignCmd) Run(*Globals) error {
	if c.Days <= 0 {
		return fmt.Errorf("gost selfsign: --days must be positive, not %d", c.Days)
	}
	pemData, err := os.ReadFile(c.Key)
	if err != nil {
		return fmt.Errorf("gost selfsign: %w", err)
	}
	key, err := gost.ParsePrivateKeyPEM(pemData)
	if err != nil {
		return fmt.Errorf("gost selfsign: %s: %w", c.Key, err)
	}
	subject, err := parseSubject(c.Subject)
	if err != nil {
		return fmt.Errorf("gost selfsign: --subject: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("gost selfsign: serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1))
	now := time.Now().UTC().Truncate(time.Second)
	der, err := gost.CreateCertificate(rand.Reader, &gost.CertificateTemplate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now,
		NotAfter:     now.AddDate(0, 0, c.Days),
		DNSNames:     c.DNS,
	}, nil, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("gost selfsign: %w", err)
	}
	return writeOutput(c.Out, gost.MarshalCertificatePEM(der), 0o644)
}

// writeOutput writes data to standard output, or to a new file at path.
func writeOutput(path string, data []byte, mode os.FileMode) error {
	if path == "" || path == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: not overwritten (remove it first)", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// subjectAttributes are the attribute names --subject accepts beyond a dotted OID:
// OpenSSL's short names and the Russian ones of Приказ ФСБ № 795.
var subjectAttributes = map[string]asn1.ObjectIdentifier{
	"CN":           {2, 5, 4, 3},
	"SN":           {2, 5, 4, 4},
	"GN":           {2, 5, 4, 42},
	"serialNumber": {2, 5, 4, 5},
	"C":            {2, 5, 4, 6},
	"L":            {2, 5, 4, 7},
	"ST":           {2, 5, 4, 8},
	"street":       {2, 5, 4, 9},
	"O":            {2, 5, 4, 10},
	"OU":           {2, 5, 4, 11},
	"title":        {2, 5, 4, 12},
	"emailAddress": {1, 2, 840, 113549, 1, 9, 1},
	"OGRN":         {1, 2, 643, 100, 1},
	"SNILS":        {1, 2, 643, 100, 3},
	"INNLE":        {1, 2, 643, 100, 4},
	"INN":          {1, 2, 643, 3, 131, 1, 1},
}

// parseSubject reads a distinguished name in openssl's -subj form, /TYPE=value/…, one
// attribute per RDN in the order given (as openssl writes it).
func parseSubject(s string) (pkix.Name, error) {
	if !strings.HasPrefix(s, "/") {
		return pkix.Name{}, fmt.Errorf("%q: write it as openssl -subj does, /CN=NAME/O=ORGANISATION", s)
	}
	var rdns pkix.RDNSequence
	for _, part := range splitSubject(s[1:]) {
		typ, value, ok := strings.Cut(part, "=")
		typ, value = strings.TrimSpace(typ), strings.TrimSpace(value)
		if !ok || typ == "" {
			return pkix.Name{}, fmt.Errorf("%q is not TYPE=value", part)
		}
		if value == "" {
			return pkix.Name{}, fmt.Errorf("%s has an empty value", typ)
		}
		oid, err := subjectOID(typ)
		if err != nil {
			return pkix.Name{}, err
		}
		if oid.Equal(subjectAttributes["C"]) && (len(value) != 2 || strings.ToUpper(value) != value) {
			return pkix.Name{}, fmt.Errorf("C=%s: the country is two capital letters (RU)", value)
		}
		rdns = append(rdns, pkix.RelativeDistinguishedNameSET{{Type: oid, Value: value}})
	}
	if len(rdns) == 0 {
		return pkix.Name{}, errors.New("no attribute: give at least /CN=NAME")
	}
	// ExtraNames keeps the order and the attributes pkix.Name has no field for.
	var name pkix.Name
	name.FillFromRDNSequence(&rdns)
	for _, rdn := range rdns {
		name.ExtraNames = append(name.ExtraNames, rdn...)
	}
	return name, nil
}

func subjectOID(typ string) (asn1.ObjectIdentifier, error) {
	for k, oid := range subjectAttributes {
		if strings.EqualFold(k, typ) {
			return oid, nil
		}
	}
	var oid asn1.ObjectIdentifier
	for _, n := range strings.Split(typ, ".") {
		var v int
		if _, err := fmt.Sscanf(n, "%d", &v); err != nil || fmt.Sprint(v) != n || v < 0 {
			return nil, fmt.Errorf("unknown attribute %q (CN, O, OU, C, ST, L, street, serialNumber, emailAddress, INN, INNLE, OGRN, SNILS or a dotted OID)", typ)
		}
		oid = append(oid, v)
	}
	if len(oid) < 2 {
		return nil, fmt.Errorf("unknown attribute %q", typ)
	}
	return oid, nil
}

// splitSubject splits at every '/' not escaped as "\/"; "\\" is a backslash.
func splitSubject(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == '/':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}
