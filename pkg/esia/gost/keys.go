package gost

import (
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// Algorithm and digest OIDs (RFC 9215 section 3, RFC 4357).
var (
	OIDPublicKeyGost2012_256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1} // id-tc26-gost3410-12-256
	OIDPublicKeyGost2001     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}      // id-GostR3410-2001 (read only)
	OIDDigestStreebog256     = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2} // id-tc26-gost3411-12-256
	OIDSignatureGost2012_256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 2} // id-tc26-signwithdigest-gost3410-12-256

	oidPublicKeyGost2012_512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
	oidTC26ParamSet256Prefix = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1}
)

// ErrMalformed is wrapped by every parse error caused by the input's encoding.
var ErrMalformed = errors.New("gost: malformed encoding")

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// keyParams is GostR3410-2012-PublicKeyParameters (RFC 9215 section 4.2.2).
type keyParams struct {
	PublicKeyParamSet  asn1.ObjectIdentifier
	DigestParamSet     asn1.ObjectIdentifier `asn1:"optional"`
	EncryptionParamSet asn1.ObjectIdentifier `asn1:"optional"`
}

type pkcs8 struct {
	Version    int
	Algo       algorithmIdentifier
	PrivateKey []byte
	Attributes asn1.RawValue `asn1:"optional,tag:0"`
	PublicKey  asn1.RawValue `asn1:"optional,tag:1"`
}

type subjectPublicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

// parseAlgorithm resolves a GOST key AlgorithmIdentifier to the curve and the
// parameter-set OID it names.
func parseAlgorithm(a algorithmIdentifier) (*Curve, asn1.ObjectIdentifier, error) {
	switch {
	case a.Algorithm.Equal(OIDPublicKeyGost2012_256), a.Algorithm.Equal(OIDPublicKeyGost2001):
	case a.Algorithm.Equal(oidPublicKeyGost2012_512):
		return nil, nil, fmt.Errorf("gost: 512-bit GOST keys are not supported: %w", ErrUnknownCurve)
	default:
		return nil, nil, fmt.Errorf("%w: not a GOST R 34.10 256-bit key (algorithm %v)", ErrMalformed, a.Algorithm)
	}
	var p keyParams
	rest, err := asn1.Unmarshal(a.Parameters.FullBytes, &p)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: key parameters: %w", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: trailing data after key parameters", ErrMalformed)
	}
	c, err := CurveByOID(p.PublicKeyParamSet)
	if err != nil {
		return nil, nil, err
	}
	return c, p.PublicKeyParamSet, nil
}

// marshalAlgorithm writes the AlgorithmIdentifier the way the gost engine does: the
// digest parameter set is present for CryptoPro parameter sets and absent for the tc26
// ones (RFC 9215 section 4.2.2).
func marshalAlgorithm(paramSet asn1.ObjectIdentifier) (algorithmIdentifier, error) {
	p := keyParams{PublicKeyParamSet: paramSet}
	if !hasPrefix(paramSet, oidTC26ParamSet256Prefix) {
		p.DigestParamSet = OIDDigestStreebog256
	}
	der, err := asn1.Marshal(p)
	if err != nil {
		return algorithmIdentifier{}, fmt.Errorf("gost: marshal key parameters: %w", err)
	}
	return algorithmIdentifier{Algorithm: OIDPublicKeyGost2012_256, Parameters: asn1.RawValue{FullBytes: der}}, nil
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}

// paramSetOf returns the OID to write for pub: its own if it names pub's curve.
func paramSetOf(pub *PublicKey) asn1.ObjectIdentifier {
	if len(pub.ParamSet) > 0 {
		if c, err := CurveByOID(pub.ParamSet); err == nil && c == pub.Curve {
			return pub.ParamSet
		}
	}
	return pub.Curve.oid
}

// ParsePKCS8PrivateKey parses an unencrypted PKCS#8 GOST R 34.10-2012 256-bit private
// key in DER. It accepts every form OpenSSL's gost engine reads: the 32 little-endian
// bytes it writes by default, the same wrapped in an OCTET STRING (its
// GOST_PK_FORMAT=LEGACY_PK_WRAP output), a big-endian INTEGER, and CryptoPro's masked form
// (the key followed by one or more 32-byte masks, all little-endian; the key is their
// product mod q).
func ParsePKCS8PrivateKey(der []byte) (*PrivateKey, error) {
	var k pkcs8
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#8: %w", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data after PKCS#8", ErrMalformed)
	}
	if k.Version != 0 && k.Version != 1 {
		return nil, fmt.Errorf("%w: PKCS#8 version %d", ErrMalformed, k.Version)
	}
	c, paramSet, err := parseAlgorithm(k.Algo)
	if err != nil {
		return nil, err
	}
	d, err := decodePrivateScalar(c, k.PrivateKey)
	if err != nil {
		return nil, err
	}
	priv, err := NewPrivateKey(c, d)
	if err != nil {
		return nil, err
	}
	priv.ParamSet = paramSet
	return priv, nil
}

func decodePrivateScalar(c *Curve, b []byte) (*big.Int, error) {
	switch {
	case len(b) == 32:
		return leBig(b), nil
	case len(b) > 32 && len(b)%32 == 0 && len(b) <= 32*16:
		// Masked: the key times its masks, decided by length before any tag byte is
		// read (as the gost engine does), since a masked key may begin with 0x04 or 0x02.
		d := leBig(b[:32])
		for off := 32; off < len(b); off += 32 {
			d.Mul(d, leBig(b[off:off+32]))
			d.Mod(d, c.q)
		}
		return d, nil
	case len(b) > 0 && b[0] == asn1.TagOctetString:
		var inner []byte
		rest, err := asn1.Unmarshal(b, &inner)
		if err != nil || len(rest) != 0 || len(inner) != 32 {
			return nil, fmt.Errorf("%w: wrapped private key must be a 32-byte OCTET STRING", ErrMalformed)
		}
		return leBig(inner), nil
	case len(b) > 0 && b[0] == asn1.TagInteger:
		var d *big.Int
		rest, err := asn1.Unmarshal(b, &d)
		if err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: private key INTEGER", ErrMalformed)
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: private key of %d bytes in no known form", ErrMalformed, len(b))
}

// MarshalPKCS8PrivateKey encodes priv as unencrypted PKCS#8 DER in the gost engine's
// default form (32 little-endian bytes).
func MarshalPKCS8PrivateKey(priv *PrivateKey) ([]byte, error) {
	if priv == nil || priv.Curve == nil || priv.D == nil || priv.D.Sign() <= 0 || priv.D.Cmp(priv.Curve.q) >= 0 {
		return nil, fmt.Errorf("gost: marshal private key: %w", ErrInvalidKey)
	}
	algo, err := marshalAlgorithm(paramSetOf(&priv.PublicKey))
	if err != nil {
		return nil, err
	}
	der, err := asn1.Marshal(pkcs8{Algo: algo, PrivateKey: Reverse(priv.D.FillBytes(make([]byte, 32)))})
	if err != nil {
		return nil, fmt.Errorf("gost: marshal private key: %w", err)
	}
	return der, nil
}

// ParsePKIXPublicKey parses a DER SubjectPublicKeyInfo holding a GOST R 34.10 256-bit key:
// the BIT STRING holds an OCTET STRING of 64 bytes, X then Y, each little-endian.
func ParsePKIXPublicKey(der []byte) (*PublicKey, error) {
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil {
		return nil, fmt.Errorf("%w: SubjectPublicKeyInfo: %w", ErrMalformed, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing data after SubjectPublicKeyInfo", ErrMalformed)
	}
	c, paramSet, err := parseAlgorithm(spki.Algorithm)
	if err != nil {
		return nil, err
	}
	if spki.PublicKey.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: public key BIT STRING has unused bits", ErrMalformed)
	}
	var raw []byte
	rest, err = asn1.Unmarshal(spki.PublicKey.Bytes, &raw)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: public key is not an OCTET STRING", ErrMalformed)
	}
	pub, err := parseRawPublicKey(c, raw)
	if err != nil {
		return nil, err
	}
	pub.ParamSet = paramSet
	return pub, nil
}

// parseRawPublicKey decodes X||Y, 32 little-endian bytes each, and validates the point.
func parseRawPublicKey(c *Curve, raw []byte) (*PublicKey, error) {
	if len(raw) != 64 {
		return nil, fmt.Errorf("%w: public key of %d bytes, want 64", ErrMalformed, len(raw))
	}
	return NewPublicKey(c, leBig(raw[:32]), leBig(raw[32:]))
}

// rawPublicKey returns X||Y, each 32 little-endian bytes.
func rawPublicKey(pub *PublicKey) []byte {
	out := make([]byte, 64)
	copy(out, Reverse(pub.X.FillBytes(make([]byte, 32))))
	copy(out[32:], Reverse(pub.Y.FillBytes(make([]byte, 32))))
	return out
}

// MarshalPKIXPublicKey encodes pub as a DER SubjectPublicKeyInfo, as the gost engine does.
func MarshalPKIXPublicKey(pub *PublicKey) ([]byte, error) {
	if pub == nil || pub.Curve == nil {
		return nil, fmt.Errorf("gost: marshal public key: %w", ErrInvalidKey)
	}
	if err := pub.Curve.checkPoint(pub.X, pub.Y, false); err != nil {
		return nil, fmt.Errorf("gost: marshal public key: %w", err)
	}
	algo, err := marshalAlgorithm(paramSetOf(pub))
	if err != nil {
		return nil, err
	}
	octets, err := asn1.Marshal(rawPublicKey(pub))
	if err != nil {
		return nil, fmt.Errorf("gost: marshal public key: %w", err)
	}
	der, err := asn1.Marshal(subjectPublicKeyInfo{Algorithm: algo, PublicKey: asn1.BitString{Bytes: octets, BitLength: 8 * len(octets)}})
	if err != nil {
		return nil, fmt.Errorf("gost: marshal public key: %w", err)
	}
	return der, nil
}

// ParsePrivateKeyPEM parses the first "PRIVATE KEY" PEM block in data (other blocks, such
// as certificates kept in the same file, are skipped). Encrypted keys are not supported.
func ParsePrivateKeyPEM(data []byte) (*PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%w: no PRIVATE KEY PEM block", ErrMalformed)
		}
		switch block.Type {
		case "PRIVATE KEY":
			return ParsePKCS8PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("gost: encrypted private keys are not supported: decrypt with openssl pkcs8 first")
		}
	}
}

// MarshalPrivateKeyPEM encodes priv as a "PRIVATE KEY" PEM block (PKCS#8).
func MarshalPrivateKeyPEM(priv *PrivateKey) ([]byte, error) {
	der, err := MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePublicKeyPEM parses the first "PUBLIC KEY" PEM block in data.
func ParsePublicKeyPEM(data []byte) (*PublicKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%w: no PUBLIC KEY PEM block", ErrMalformed)
		}
		if block.Type == "PUBLIC KEY" {
			return ParsePKIXPublicKey(block.Bytes)
		}
	}
}

// MarshalPublicKeyPEM encodes pub as a "PUBLIC KEY" PEM block (SubjectPublicKeyInfo).
func MarshalPublicKeyPEM(pub *PublicKey) ([]byte, error) {
	der, err := MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

func leBig(b []byte) *big.Int { return new(big.Int).SetBytes(Reverse(b)) }
