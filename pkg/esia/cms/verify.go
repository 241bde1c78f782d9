package cms

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// Errors of VerifyDetached; match them with errors.Is.
var (
	// ErrMalformed: not a DER ContentInfo with SignedData, or a part of it
	// (signed attributes included) is not what RFC 5652 requires.
	ErrMalformed = errors.New("cms: malformed SignedData")
	// ErrAttached: the SignedData carries its content; a detached signature
	// was expected.
	ErrAttached = errors.New("cms: encapsulated content present, a detached signature expected")
	// ErrNoSigner: no SignerInfo names the expected certificate (by issuer
	// and serial number or by subject key identifier).
	ErrNoSigner = errors.New("cms: no signer identifies the certificate")
	// ErrAlgorithm: a digest or signature algorithm that does not go with
	// the certificate's key.
	ErrAlgorithm = errors.New("cms: unsupported algorithm")
	// ErrDigest: the message-digest attribute is not the content's digest.
	ErrDigest = errors.New("cms: message digest does not match the content")
	// ErrSignature: the signature does not verify with the certificate's key.
	ErrSignature = errors.New("cms: signature invalid")
)

// Object identifiers used in SignedData (RFC 5652, RFC 5754, RFC 4490,
// RFC 9337).
var (
	OIDData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDContentType      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDSigningTime      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDSHA256           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDRSAEncryption    = oidRSAEncryption
	OIDSHA256WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDStreebog256      = gost.OIDDigestStreebog256     // 1.2.643.7.1.1.2.2
	OIDGost2012_256     = gost.OIDPublicKeyGost2012_256 // 1.2.643.7.1.1.1.1, what OpenSSL's gost engine writes as the signature algorithm
	OIDGost2012_256Sign = gost.OIDSignatureGost2012_256 // 1.2.643.7.1.1.3.2, id-tc26-signwithdigest-gost3410-12-256
)

// signerInfo is one parsed SignerInfo.
type signerInfo struct {
	issuer    []byte   // IssuerAndSerialNumber, or nil
	serial    *big.Int //
	keyID     []byte   // SubjectKeyIdentifier, or nil
	digestAlg asn1.ObjectIdentifier
	signedSet []byte // signed attributes re-tagged as SET OF (what is signed), or nil
	attrs     cryptobyte.String
	sigAlg    asn1.ObjectIdentifier
	signature []byte
}

// VerifyDetached checks that sig, a DER ContentInfo holding SignedData
// (PKCS#7), is a detached signature of content by cert's key:
//
//   - the encapsulated content is absent (else ErrAttached);
//   - a SignerInfo identifies cert by issuer and serial number or by subject
//     key identifier (else ErrNoSigner); other signers are ignored;
//   - its algorithms go with the key (else ErrAlgorithm): for RSA, SHA-256
//     with rsaEncryption or sha256WithRSAEncryption; for GOST R 34.10-2012
//     256-bit, Streebog-256 (1.2.643.7.1.1.2.2) with 1.2.643.7.1.1.1.1 (what
//     OpenSSL's gost engine writes) or 1.2.643.7.1.1.3.2;
//   - with signed attributes, content-type is the encapsulated content type
//     and message-digest is the digest of content (else ErrDigest), and the
//     signature covers the attributes; without them it covers content;
//   - the signature verifies (else ErrSignature). A GOST signature is s||r,
//     32 big-endian bytes each (RFC 4490 section 3.2, OpenSSL's order).
//
// Only DER is read (no BER indefinite lengths); certificates and CRLs in the
// SignedData are ignored: cert is the one the signature must be by.
func VerifyDetached(sig, content []byte, cert *Certificate) error {
	if cert == nil || cert.PublicKey == nil {
		return errors.New("cms: no certificate to verify against")
	}
	eContentType, signers, err := parseSignedData(sig)
	if err != nil {
		return err
	}
	var firstErr error
	matched := false
	for _, si := range signers {
		if !si.identifies(cert) {
			continue
		}
		matched = true
		err := si.verify(eContentType, content, cert)
		if err == nil {
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if !matched {
		return ErrNoSigner
	}
	return firstErr
}

func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

// parseSignedData reads ContentInfo { signedData, SignedData } and returns
// the encapsulated content type and the signer infos.
func parseSignedData(der []byte) (asn1.ObjectIdentifier, []signerInfo, error) {
	in := cryptobyte.String(der)
	var ci, explicit, sd cryptobyte.String
	var ctype asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, nil, malformed("not a DER ContentInfo")
	}
	if !ci.ReadASN1ObjectIdentifier(&ctype) {
		return nil, nil, malformed("ContentInfo content type")
	}
	if !ctype.Equal(OIDSignedData) {
		return nil, nil, malformed("content is not SignedData")
	}
	if !ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, nil, malformed("SignedData")
	}
	var version int64
	var digestAlgs, eci, infos cryptobyte.String
	var eContentType asn1.ObjectIdentifier
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sd.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&eContentType) {
		return nil, nil, malformed("SignedData header")
	}
	if !eci.Empty() {
		if eci.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, nil, ErrAttached
		}
		return nil, nil, malformed("EncapsulatedContentInfo")
	}
	if !sd.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) || // certificates
		!sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || // crls
		!sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() {
		return nil, nil, malformed("SignedData body")
	}
	var signers []signerInfo
	for !infos.Empty() {
		var raw cryptobyte.String
		if !infos.ReadASN1(&raw, cbasn1.SEQUENCE) {
			return nil, nil, malformed("SignerInfo")
		}
		si, err := parseSignerInfo(raw)
		if err != nil {
			return nil, nil, err
		}
		signers = append(signers, si)
	}
	if len(signers) == 0 {
		return nil, nil, malformed("no SignerInfo")
	}
	return eContentType, signers, nil
}

func parseSignerInfo(in cryptobyte.String) (signerInfo, error) {
	var si signerInfo
	var version int64
	if !in.ReadASN1Integer(&version) {
		return si, malformed("SignerInfo version")
	}
	switch {
	case in.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, issuer cryptobyte.String
		si.serial = new(big.Int)
		if !in.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(si.serial) || !ias.Empty() {
			return si, malformed("IssuerAndSerialNumber")
		}
		si.issuer = issuer
	case in.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		var ski cryptobyte.String
		if !in.ReadASN1(&ski, cbasn1.Tag(0).ContextSpecific()) || len(ski) == 0 {
			return si, malformed("SubjectKeyIdentifier")
		}
		si.keyID = ski
	default:
		return si, malformed("SignerIdentifier")
	}
	var err error
	if si.digestAlg, err = readAlgorithm(&in); err != nil {
		return si, err
	}
	attrTag := cbasn1.Tag(0).Constructed().ContextSpecific()
	if in.PeekASN1Tag(attrTag) {
		var full cryptobyte.String
		if !in.ReadASN1Element(&full, attrTag) {
			return si, malformed("signed attributes")
		}
		// What is signed is the DER of the attributes as a SET OF, i.e. the
		// same bytes with the universal SET tag (RFC 5652 section 5.4).
		si.signedSet = append([]byte{0x31}, full[1:]...)
		body := cryptobyte.String(si.signedSet)
		if !body.ReadASN1(&si.attrs, cbasn1.SET) {
			return si, malformed("signed attributes")
		}
	}
	if si.sigAlg, err = readAlgorithm(&in); err != nil {
		return si, err
	}
	var sig cryptobyte.String
	if !in.ReadASN1(&sig, cbasn1.OCTET_STRING) ||
		!in.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || !in.Empty() {
		return si, malformed("SignerInfo signature")
	}
	si.signature = sig
	return si, nil
}

// readAlgorithm reads an AlgorithmIdentifier and returns its OID; the
// parameters, when present, must be NULL.
func readAlgorithm(in *cryptobyte.String) (asn1.ObjectIdentifier, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, malformed("AlgorithmIdentifier")
	}
	if !alg.Empty() {
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 || !alg.Empty() {
			return nil, fmt.Errorf("%w: parameters of %v", ErrAlgorithm, oid)
		}
	}
	return oid, nil
}

// identifies reports whether the SignerInfo names cert.
func (si *signerInfo) identifies(cert *Certificate) bool {
	if si.keyID != nil {
		return len(cert.SubjectKeyID) > 0 && bytes.Equal(si.keyID, cert.SubjectKeyID)
	}
	return cert.SerialNumber != nil && si.serial.Cmp(cert.SerialNumber) == 0 && sameName(si.issuer, cert.RawIssuer)
}

// sameName compares two DER Names: equal bytes, or equal once parsed (a
// writer may re-encode the issuer's strings).
func sameName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var na, nb pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &na); err != nil || len(rest) != 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &nb); err != nil || len(rest) != 0 {
		return false
	}
	return na.String() == nb.String()
}

// verify checks one SignerInfo that identifies cert.
func (si *signerInfo) verify(eContentType asn1.ObjectIdentifier, content []byte, cert *Certificate) error {
	var hash func([]byte) []byte
	var check func(digest []byte) bool
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if !si.digestAlg.Equal(OIDSHA256) || !(si.sigAlg.Equal(OIDRSAEncryption) || si.sigAlg.Equal(OIDSHA256WithRSA)) {
			return fmt.Errorf("%w: %v with %v for an RSA key (want SHA-256 with RSA)", ErrAlgorithm, si.digestAlg, si.sigAlg)
		}
		hash = func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }
		check = func(d []byte) bool { return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d, si.signature) == nil }
	case *gost.PublicKey:
		if !si.digestAlg.Equal(OIDStreebog256) || !(si.sigAlg.Equal(OIDGost2012_256) || si.sigAlg.Equal(OIDGost2012_256Sign)) {
			return fmt.Errorf("%w: %v with %v for a GOST key (want Streebog-256 with GOST R 34.10-2012)", ErrAlgorithm, si.digestAlg, si.sigAlg)
		}
		hash = func(b []byte) []byte { h := gost.Sum256(b); return h[:] }
		check = func(d []byte) bool { return gost.Verify(pub, d, si.signature) }
	default:
		return fmt.Errorf("%w: certificate key %T", ErrAlgorithm, cert.PublicKey)
	}
	digest := hash(content)
	if si.signedSet != nil {
		if err := checkAttributes(si.attrs, eContentType, digest); err != nil {
			return err
		}
		digest = hash(si.signedSet)
	}
	if !check(digest) {
		return ErrSignature
	}
	return nil
}

// checkAttributes checks the signed attributes RFC 5652 section 5.3
// requires: exactly one content-type, equal to the encapsulated content
// type, and exactly one message-digest, equal to digest. Other attributes
// (signing-time, S/MIME capabilities, …) are allowed.
func checkAttributes(attrs cryptobyte.String, eContentType asn1.ObjectIdentifier, digest []byte) error {
	var ctypes, digests int
	for !attrs.Empty() {
		var attr, values cryptobyte.String
		var typ asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&typ) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return malformed("signed attribute")
		}
		switch {
		case typ.Equal(OIDContentType):
			ctypes++
			var v asn1.ObjectIdentifier
			if !values.ReadASN1ObjectIdentifier(&v) || !values.Empty() {
				return malformed("content-type attribute")
			}
			if !v.Equal(eContentType) {
				return malformed("content-type attribute differs from the encapsulated content type")
			}
		case typ.Equal(OIDMessageDigest):
			digests++
			var v cryptobyte.String
			if !values.ReadASN1(&v, cbasn1.OCTET_STRING) || !values.Empty() {
				return malformed("message-digest attribute")
			}
			if !bytes.Equal(v, digest) {
				return ErrDigest
			}
		}
	}
	if ctypes != 1 || digests != 1 {
		return malformed("signed attributes need exactly one content-type and one message-digest")
	}
	return nil
}
