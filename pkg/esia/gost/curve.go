package gost

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sync"
)

// Curve is one of the GOST R 34.10-2012 elliptic curves for 256-bit keys, in short
// Weierstrass form y^2 = x^3 + ax + b over GF(p) with a base point of prime order q.
// Curves are package singletons; compare them by pointer.
type Curve struct {
	name     string
	oid      asn1.ObjectIdentifier
	p, a, b  *big.Int
	q        *big.Int
	gx, gy   *big.Int
	cofactor int64

	fp, fq      *field // arithmetic modulo p and modulo q
	aM, bM, b3M fe     // a, b and 3b in Montgomery form modulo p
	aIsMinus3   bool
	g           affinePoint // the base point in Montgomery form

	tableOnce sync.Once
	table     *baseTable // lazily built fixed-base table for G

	// ed is set for tc26 set A, whose arithmetic runs on its twisted Edwards form.
	ed      *edwardsParams
	edOnce  sync.Once
	edTable *edTable
}

// CurveParams are the domain parameters of a Curve. The values are copies: changing
// them changes nothing in the Curve.
type CurveParams struct {
	P, A, B  *big.Int // field prime and Weierstrass coefficients
	Q        *big.Int // order of the base point (the subgroup order)
	Gx, Gy   *big.Int // base point
	Cofactor int64    // group order divided by Q
}

// Name returns the curve's name as in RFC 4357 or RFC 7836.
func (c *Curve) Name() string { return c.name }

// String returns the curve's name.
func (c *Curve) String() string { return c.name }

// OID returns the parameter-set identifier written when a key on this curve is
// marshalled without a remembered identifier of its own.
func (c *Curve) OID() asn1.ObjectIdentifier { return append(asn1.ObjectIdentifier(nil), c.oid...) }

// Params returns a copy of the curve's domain parameters.
func (c *Curve) Params() *CurveParams {
	cp := func(x *big.Int) *big.Int { return new(big.Int).Set(x) }
	return &CurveParams{P: cp(c.p), A: cp(c.a), B: cp(c.b), Q: cp(c.q), Gx: cp(c.gx), Gy: cp(c.gy), Cofactor: c.cofactor}
}

// The parameter-set OIDs (RFC 4357 section 10.8, RFC 7836 appendix A, RFC 9215).
var (
	OIDTC26ParamSetA = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 1} // id-tc26-gost-3410-12-256-paramSetA
	OIDTC26ParamSetB = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 2} // = CryptoPro-A
	OIDTC26ParamSetC = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 3} // = CryptoPro-B
	OIDTC26ParamSetD = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 4} // = CryptoPro-C

	OIDCryptoProA    = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 1} // id-GostR3410-2001-CryptoPro-A-ParamSet
	OIDCryptoProB    = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 2} // id-GostR3410-2001-CryptoPro-B-ParamSet
	OIDCryptoProC    = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 3} // id-GostR3410-2001-CryptoPro-C-ParamSet
	OIDCryptoProXchA = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 36, 0} // = CryptoPro-A
	OIDCryptoProXchB = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 36, 1} // = CryptoPro-C
)

// curveDef holds the parameters as hex, from RFC 4357 section 11.4 (CryptoPro A, B, C),
// RFC 7836 appendix A.2 (tc26 set A, given there in the Weierstrass form we compute in)
// and RFC 7091 section 7.1 (the test curve of the worked example).
type curveDef struct {
	name               string
	oid                asn1.ObjectIdentifier
	p, a, b, q, gx, gy string
	cofactor           int64
	edD, edU, edV      string // twisted Edwards form, when the curve has one
}

var (
	tc26A = newCurve(curveDef{
		name:     "id-tc26-gost-3410-12-256-paramSetA",
		oid:      OIDTC26ParamSetA,
		p:        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
		a:        "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
		b:        "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
		q:        "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
		gx:       "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
		gy:       "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C",
		cofactor: 4,
		// RFC 7836 appendix A.2: the twisted Edwards form (e = 1) and its base point (u, v).
		edD: "0605F6B7C183FA81578BC39CFAD518132B9DF62897009AF7E522C32D6DC7BFFB",
		edU: "0D",
		edV: "60CA1E32AA475B348488C38FAB07649CE7EF8DBE87F22E81F92B2592DBA300E7",
	})
	cryptoProA = newCurve(curveDef{
		name:     "id-GostR3410-2001-CryptoPro-A-ParamSet",
		oid:      OIDCryptoProA,
		p:        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
		a:        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
		b:        "A6",
		q:        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
		gx:       "1",
		gy:       "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
		cofactor: 1,
	})
	cryptoProB = newCurve(curveDef{
		name:     "id-GostR3410-2001-CryptoPro-B-ParamSet",
		oid:      OIDCryptoProB,
		p:        "8000000000000000000000000000000000000000000000000000000000000C99",
		a:        "8000000000000000000000000000000000000000000000000000000000000C96",
		b:        "3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B",
		q:        "800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
		gx:       "1",
		gy:       "3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC",
		cofactor: 1,
	})
	cryptoProC = newCurve(curveDef{
		name:     "id-GostR3410-2001-CryptoPro-C-ParamSet",
		oid:      OIDCryptoProC,
		p:        "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
		a:        "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598",
		b:        "805A",
		q:        "9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
		gx:       "0",
		gy:       "41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67",
		cofactor: 1,
	})
	// testCurve is id-GostR3410-2001-TestParamSet, used only by the RFC 7091 example;
	// CurveByOID does not resolve it.
	testCurve = newCurve(curveDef{
		name:     "id-GostR3410-2001-TestParamSet",
		oid:      asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 0},
		p:        "8000000000000000000000000000000000000000000000000000000000000431",
		a:        "7",
		b:        "5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E",
		q:        "8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3",
		gx:       "2",
		gy:       "08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8",
		cofactor: 1,
	})
)

// TC26A returns the tc26 256-bit parameter set A: the twisted Edwards curve of RFC 7836,
// handled in its birationally equivalent Weierstrass form.
func TC26A() *Curve { return tc26A }

// CryptoProA returns the CryptoPro-A curve (also tc26 set B and CryptoPro-XchA).
func CryptoProA() *Curve { return cryptoProA }

// CryptoProB returns the CryptoPro-B curve (also tc26 set C).
func CryptoProB() *Curve { return cryptoProB }

// CryptoProC returns the CryptoPro-C curve (also tc26 set D and CryptoPro-XchB).
func CryptoProC() *Curve { return cryptoProC }

// Curves returns the four supported curves: tc26 set A, CryptoPro A, B and C.
func Curves() []*Curve { return []*Curve{tc26A, cryptoProA, cryptoProB, cryptoProC} }

// ErrUnknownCurve is returned for a parameter-set OID that names no supported 256-bit curve.
var ErrUnknownCurve = errors.New("gost: unknown or unsupported parameter set")

// CurveByOID returns the curve a parameter-set OID names. Every OID of a supported curve is
// accepted: tc26 sets A-D, CryptoPro A-C and CryptoPro XchA/XchB.
func CurveByOID(oid asn1.ObjectIdentifier) (*Curve, error) {
	switch {
	case oid.Equal(OIDTC26ParamSetA):
		return tc26A, nil
	case oid.Equal(OIDTC26ParamSetB), oid.Equal(OIDCryptoProA), oid.Equal(OIDCryptoProXchA):
		return cryptoProA, nil
	case oid.Equal(OIDTC26ParamSetC), oid.Equal(OIDCryptoProB):
		return cryptoProB, nil
	case oid.Equal(OIDTC26ParamSetD), oid.Equal(OIDCryptoProC), oid.Equal(OIDCryptoProXchB):
		return cryptoProC, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrUnknownCurve, oid)
}

func mustHex(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("gost: bad curve constant " + s) // constants above only; never on input
	}
	return v
}

func newCurve(d curveDef) *Curve {
	c := &Curve{
		name: d.name, oid: d.oid,
		p: mustHex(d.p), a: mustHex(d.a), b: mustHex(d.b), q: mustHex(d.q),
		gx: mustHex(d.gx), gy: mustHex(d.gy), cofactor: d.cofactor,
	}
	c.fp = newField(c.p)
	c.fq = newField(c.q)
	c.aM = c.fp.fromBig(c.a)
	c.bM = c.fp.fromBig(c.b)
	b3 := new(big.Int).Mul(c.b, big.NewInt(3))
	c.b3M = c.fp.fromBig(b3.Mod(b3, c.p))
	c.aIsMinus3 = new(big.Int).Sub(c.p, c.a).Cmp(big.NewInt(3)) == 0
	c.g = affinePoint{x: c.fp.fromBig(c.gx), y: c.fp.fromBig(c.gy)}
	if d.edD != "" {
		c.ed = newEdwards(c, d.edD, d.edU, d.edV)
	}
	return c
}
