package cms

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// Certificate is what CMS needs of a signer's X.509 certificate: the names
// a SignerInfo may identify it by and its public key.
type Certificate struct {
	Raw          []byte   // the DER certificate
	RawIssuer    []byte   // the DER issuer Name
	SerialNumber *big.Int // may be negative in certificates of some CAs
	// SubjectKeyID is the subjectKeyIdentifier extension, or, when the
	// certificate has none, the SHA-1 of the public key bits (RFC 5280
	// section 4.2.1.2 method 1).
	SubjectKeyID []byte
	// PublicKey is an *rsa.PublicKey or a *gost.PublicKey.
	PublicKey any
}

var (
	oidRSAEncryption  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSubjectKeyID   = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidGost2001PubKey = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}
)

// ParseCertificate reads the fields of a DER certificate that CMS needs. It
// parses the structure itself rather than through crypto/x509, which refuses
// some certificates of Russian CAs and reports GOST keys as unknown. Keys
// other than RSA and GOST R 34.10-2012 256-bit fail with ErrAlgorithm.
func ParseCertificate(der []byte) (*Certificate, error) {
	malformed := func(what string) (*Certificate, error) {
		return nil, fmt.Errorf("%w: certificate: %s", ErrMalformed, what)
	}
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return malformed("not a DER SEQUENCE")
	}
	if !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return malformed("no TBSCertificate")
	}
	c := &Certificate{Raw: der, SerialNumber: new(big.Int)}
	var issuer, spki cryptobyte.String
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.ReadASN1Integer(c.SerialNumber) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature algorithm
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // validity
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // subject
		!tbs.ReadASN1Element(&spki, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) {
		return malformed("TBSCertificate")
	}
	c.RawIssuer = issuer
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, cbasn1.Tag(3).Constructed().ContextSpecific()) || !tbs.Empty() {
		return malformed("extensions")
	}
	if hasExts {
		ski, err := subjectKeyID(exts)
		if err != nil {
			return nil, err
		}
		c.SubjectKeyID = ski
	}
	alg, bits, err := readSPKI(spki)
	if err != nil {
		return nil, err
	}
	if c.SubjectKeyID == nil {
		sum := sha1.Sum(bits)
		c.SubjectKeyID = sum[:]
	}
	switch {
	case alg.Equal(oidRSAEncryption):
		pub, err := x509.ParsePKIXPublicKey(spki)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate RSA key: %w", ErrMalformed, err)
		}
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return malformed("RSA key")
		}
		c.PublicKey = rsaPub
	case alg.Equal(gost.OIDPublicKeyGost2012_256), alg.Equal(oidGost2001PubKey):
		pub, err := gost.ParsePKIXPublicKey(spki)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate GOST key: %w", ErrMalformed, err)
		}
		c.PublicKey = pub
	default:
		return nil, fmt.Errorf("%w: certificate key algorithm %v", ErrAlgorithm, alg)
	}
	return c, nil
}

// readSPKI returns the algorithm OID of a SubjectPublicKeyInfo and the
// bytes of its subjectPublicKey BIT STRING.
func readSPKI(spki cryptobyte.String) (asn1.ObjectIdentifier, []byte, error) {
	var body, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !spki.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) || !body.ReadASN1BitString(&bits) || !body.Empty() {
		return nil, nil, fmt.Errorf("%w: certificate: SubjectPublicKeyInfo", ErrMalformed)
	}
	return oid, bits.RightAlign(), nil
}

// subjectKeyID finds the subjectKeyIdentifier in Extensions; nil if absent.
func subjectKeyID(exts cryptobyte.String) ([]byte, error) {
	var list cryptobyte.String
	if !exts.ReadASN1(&list, cbasn1.SEQUENCE) || !exts.Empty() {
		return nil, fmt.Errorf("%w: certificate: extensions", ErrMalformed)
	}
	for !list.Empty() {
		var ext, value cryptobyte.String
		var id asn1.ObjectIdentifier
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) ||
			!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, fmt.Errorf("%w: certificate: extension", ErrMalformed)
		}
		if !id.Equal(oidSubjectKeyID) {
			continue
		}
		var ski cryptobyte.String
		if !value.ReadASN1(&ski, cbasn1.OCTET_STRING) || !value.Empty() {
			return nil, errors.Join(ErrMalformed, errors.New("certificate: subjectKeyIdentifier"))
		}
		return ski, nil
	}
	return nil, nil
}
