package gost

import (
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
)

// Certificate is an X.509 certificate with a GOST R 34.10-2012 256-bit public key.
type Certificate struct {
	Raw          []byte // the complete DER certificate
	PublicKey    *PublicKey
	Subject      pkix.Name
	Issuer       pkix.Name
	SerialNumber *big.Int
	NotBefore    time.Time
	NotAfter     time.Time

	rawTBS             []byte
	rawSubject         []byte
	signatureAlgorithm asn1.ObjectIdentifier
	signature          []byte
	subjectKeyID       []byte
}

// ParseCertificate parses one DER certificate. crypto/x509 parses the envelope (it
// reports a GOST key as an unknown algorithm) and the key is decoded from
// RawSubjectPublicKeyInfo here; certificates with non-GOST keys are rejected. When
// crypto/x509 refuses a certificate for something this package does not use (a negative
// serial number, a name string it finds malformed, an extension it cannot read: all seen
// in certificates of Russian CAs), the fields above are read by a minimal DER parser
// instead.
func ParseCertificate(der []byte) (*Certificate, error) {
	var outer struct {
		TBS       asn1.RawValue
		Algorithm algorithmIdentifier
		Signature asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return nil, fmt.Errorf("gost: parse certificate: %w: %w", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("gost: parse certificate: %w: trailing data", ErrMalformed)
	}
	c := &Certificate{signatureAlgorithm: outer.Algorithm.Algorithm, signature: outer.Signature.RightAlign()}
	if xc, xerr := x509.ParseCertificate(der); xerr == nil {
		c.Raw, c.Subject, c.Issuer, c.SerialNumber = xc.Raw, xc.Subject, xc.Issuer, xc.SerialNumber
		c.NotBefore, c.NotAfter = xc.NotBefore, xc.NotAfter
		c.rawTBS, c.rawSubject, c.subjectKeyID = xc.RawTBSCertificate, xc.RawSubject, xc.SubjectKeyId
		c.PublicKey, err = ParsePKIXPublicKey(xc.RawSubjectPublicKeyInfo)
	} else if err = parseTBSLenient(c, der, outer.TBS.FullBytes); err != nil {
		return nil, fmt.Errorf("gost: parse certificate: %w: %w (crypto/x509: %v)", ErrMalformed, err, xerr)
	}
	if err != nil {
		return nil, fmt.Errorf("gost: certificate public key: %w", err)
	}
	return c, nil
}

// tbsLenient is TBSCertificate (RFC 5280 section 4.1) with everything this package does
// not expose left raw.
type tbsLenient struct {
	Version    int `asn1:"optional,explicit,default:0,tag:0"`
	Serial     *big.Int
	Algorithm  algorithmIdentifier
	Issuer     asn1.RawValue
	Validity   struct{ NotBefore, NotAfter asn1.RawValue }
	Subject    asn1.RawValue
	PublicKey  asn1.RawValue
	IssuerUID  asn1.RawValue `asn1:"optional,tag:1"`
	SubjectUID asn1.RawValue `asn1:"optional,tag:2"`
	Extensions asn1.RawValue `asn1:"optional,explicit,tag:3"`
}

func parseTBSLenient(c *Certificate, der, tbsDER []byte) error {
	var tbs tbsLenient
	if rest, err := asn1.Unmarshal(tbsDER, &tbs); err != nil || len(rest) != 0 {
		return fmt.Errorf("TBSCertificate: %v", err)
	}
	var issuer, subject pkix.RDNSequence
	if _, err := asn1.Unmarshal(tbs.Issuer.FullBytes, &issuer); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	if _, err := asn1.Unmarshal(tbs.Subject.FullBytes, &subject); err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	var notBefore, notAfter time.Time
	if _, err := asn1.Unmarshal(tbs.Validity.NotBefore.FullBytes, &notBefore); err != nil {
		return fmt.Errorf("notBefore: %w", err)
	}
	if _, err := asn1.Unmarshal(tbs.Validity.NotAfter.FullBytes, &notAfter); err != nil {
		return fmt.Errorf("notAfter: %w", err)
	}
	pub, err := ParsePKIXPublicKey(tbs.PublicKey.FullBytes)
	if err != nil {
		return err
	}
	c.Raw, c.rawTBS, c.rawSubject = der, tbsDER, tbs.Subject.FullBytes
	c.Subject.FillFromRDNSequence(&subject)
	c.Issuer.FillFromRDNSequence(&issuer)
	c.SerialNumber, c.NotBefore, c.NotAfter, c.PublicKey = tbs.Serial, notBefore, notAfter, pub
	return nil
}

// ParseCertificatePEM parses every "CERTIFICATE" block in data (ESIA publishes its
// certificates as sets) and skips other blocks. It fails if any certificate is invalid
// or if there is none.
func ParseCertificatePEM(data []byte) ([]*Certificate, error) {
	var certs []*Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("gost: certificate %d in PEM: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no CERTIFICATE PEM block", ErrMalformed)
	}
	return certs, nil
}

// MarshalCertificatePEM encodes a DER certificate as a "CERTIFICATE" PEM block.
func MarshalCertificatePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// CertificateHash returns ESIA's client_certificate_hash of a DER certificate: its
// Streebog-256 digest as 64 upper-case hex characters, bytes in the order
// `openssl dgst -engine gost -md_gost12_256` prints them. (Not a SHA-1 thumbprint:
// ESIA answers that with ESIA-007053.)
func CertificateHash(der []byte) string {
	h := Sum256(der)
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// ErrSignature is returned when a certificate signature does not verify.
var ErrSignature = errors.New("gost: certificate signature invalid")

// CheckSignatureFrom verifies that c is signed by parent's key with GOST R 34.10-2012
// over Streebog-256 (OID 1.2.643.7.1.1.3.2). It does not check validity dates, names or
// constraints.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	if c == nil || parent == nil || parent.PublicKey == nil {
		return fmt.Errorf("gost: check signature: %w", ErrInvalidKey)
	}
	if !c.signatureAlgorithm.Equal(OIDSignatureGost2012_256) {
		return fmt.Errorf("gost: unsupported certificate signature algorithm %v", c.signatureAlgorithm)
	}
	if !VerifyMessage(parent.PublicKey, c.rawTBS, c.signature) {
		return ErrSignature
	}
	return nil
}

// CertificateTemplate holds the fields CreateCertificate writes.
type CertificateTemplate struct {
	SerialNumber *big.Int // positive; required
	Subject      pkix.Name
	NotBefore    time.Time
	NotAfter     time.Time
	IsCA         bool          // writes basicConstraints cA=TRUE and keyCertSign/cRLSign
	KeyUsage     x509.KeyUsage // 0 means digitalSignature (plus the CA usages if IsCA)
	DNSNames     []string      // optional subjectAltName
}

type tbsCertificate struct {
	Version            int `asn1:"optional,explicit,default:0,tag:0"`
	SerialNumber       *big.Int
	SignatureAlgorithm algorithmIdentifier
	Issuer             asn1.RawValue
	Validity           validity
	Subject            asn1.RawValue
	PublicKey          asn1.RawValue
	Extensions         []pkix.Extension `asn1:"optional,explicit,tag:3"`
}

type validity struct {
	NotBefore, NotAfter time.Time
}

type certificate struct {
	TBS                asn1.RawValue
	SignatureAlgorithm algorithmIdentifier
	Signature          asn1.BitString
}

type basicConstraints struct {
	IsCA bool `asn1:"optional"`
}

type authKeyID struct {
	ID []byte `asn1:"optional,tag:0"`
}

var (
	oidExtSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidExtBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidExtAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
)

// CreateCertificate returns a DER X.509 v3 certificate for pub, signed by signer with GOST
// R 34.10-2012 over Streebog-256 (OID 1.2.643.7.1.1.3.2; the signature BIT STRING is
// s||r big-endian, as RFC 9215 and OpenSSL have it). With parent nil the certificate is
// self-signed and signer must be pub's private key; otherwise parent is the issuing CA
// certificate and signer its key. It exists so that dev mode and the simulator get a GOST
// certificate without openssl on the machine.
func CreateCertificate(rand io.Reader, template *CertificateTemplate, parent *Certificate, pub *PublicKey, signer *PrivateKey) ([]byte, error) {
	if template == nil || template.SerialNumber == nil || template.SerialNumber.Sign() <= 0 {
		return nil, errors.New("gost: create certificate: template needs a positive serial number")
	}
	if !template.NotAfter.After(template.NotBefore) {
		return nil, errors.New("gost: create certificate: NotAfter must be after NotBefore")
	}
	if pub == nil || signer == nil {
		return nil, fmt.Errorf("gost: create certificate: %w", ErrInvalidKey)
	}
	spki, err := MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	subject, err := asn1.Marshal(template.Subject.ToRDNSequence())
	if err != nil {
		return nil, fmt.Errorf("gost: create certificate: subject: %w", err)
	}
	skid := keyID(pub)
	issuer, akid := subject, skid
	if parent != nil {
		if !parent.PublicKey.Equal(&signer.PublicKey) {
			return nil, errors.New("gost: create certificate: signer is not the parent certificate's key")
		}
		issuer, akid = parent.rawSubject, parent.subjectKeyID
		if len(akid) == 0 {
			akid = keyID(parent.PublicKey)
		}
	} else if !pub.Equal(&signer.PublicKey) {
		return nil, errors.New("gost: create certificate: a self-signed certificate must be signed by its own key")
	}
	exts, err := certExtensions(template, skid, akid)
	if err != nil {
		return nil, err
	}
	sigAlg := algorithmIdentifier{Algorithm: OIDSignatureGost2012_256}
	tbs, err := asn1.Marshal(tbsCertificate{
		Version:            2,
		SerialNumber:       template.SerialNumber,
		SignatureAlgorithm: sigAlg,
		Issuer:             asn1.RawValue{FullBytes: issuer},
		Validity:           validity{template.NotBefore.UTC(), template.NotAfter.UTC()},
		Subject:            asn1.RawValue{FullBytes: subject},
		PublicKey:          asn1.RawValue{FullBytes: spki},
		Extensions:         exts,
	})
	if err != nil {
		return nil, fmt.Errorf("gost: create certificate: %w", err)
	}
	sig, err := SignMessage(rand, signer, tbs)
	if err != nil {
		return nil, fmt.Errorf("gost: create certificate: %w", err)
	}
	der, err := asn1.Marshal(certificate{
		TBS:                asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("gost: create certificate: %w", err)
	}
	return der, nil
}

// keyID is the subject key identifier of RFC 5280 section 4.2.1.2 method (1): SHA-1 of
// the public key bits.
func keyID(pub *PublicKey) []byte {
	octets, _ := asn1.Marshal(rawPublicKey(pub)) // a byte slice always marshals
	h := sha1.Sum(octets)
	return h[:]
}

func certExtensions(t *CertificateTemplate, skid, akid []byte) ([]pkix.Extension, error) {
	var exts []pkix.Extension
	add := func(id asn1.ObjectIdentifier, critical bool, v any) error {
		b, err := asn1.Marshal(v)
		if err != nil {
			return fmt.Errorf("gost: create certificate: extension %v: %w", id, err)
		}
		exts = append(exts, pkix.Extension{Id: id, Critical: critical, Value: b})
		return nil
	}
	if err := add(oidExtBasicConstraints, true, basicConstraints{IsCA: t.IsCA}); err != nil {
		return nil, err
	}
	usage := t.KeyUsage
	if usage == 0 {
		usage = x509.KeyUsageDigitalSignature
		if t.IsCA {
			usage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	if err := add(oidExtKeyUsage, true, keyUsageBits(usage)); err != nil {
		return nil, err
	}
	if err := add(oidExtSubjectKeyID, false, skid); err != nil {
		return nil, err
	}
	if err := add(oidExtAuthorityKeyID, false, authKeyID{ID: akid}); err != nil {
		return nil, err
	}
	if len(t.DNSNames) > 0 {
		var names []asn1.RawValue
		for _, n := range t.DNSNames {
			names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte(n)})
		}
		if err := add(oidExtSubjectAltName, false, names); err != nil {
			return nil, err
		}
	}
	return exts, nil
}

// keyUsageBits encodes x509.KeyUsage as the KeyUsage BIT STRING (bit 0 first), trimmed
// of trailing zero bits as DER requires.
func keyUsageBits(u x509.KeyUsage) asn1.BitString {
	var b [2]byte
	n := 0
	for i := 0; i < 9; i++ {
		if u&(1<<i) != 0 {
			b[i/8] |= 0x80 >> (i % 8)
			n = i + 1
		}
	}
	return asn1.BitString{Bytes: b[:(n+7)/8], BitLength: n}
}
