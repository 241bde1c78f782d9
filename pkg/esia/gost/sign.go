package gost

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
	"sync/atomic"
)

// SignatureSize is the size of a GOST R 34.10-2012 signature with a 256-bit key.
const SignatureSize = 64

// PublicKey is a GOST R 34.10-2012 public key: the point (X, Y) on Curve.
//
// A key made by NewPublicKey, NewPrivateKey, GenerateKey or a parser carries a cache:
// from its second verification on, Verify uses a precomputed table of the key (88 KiB,
// 132 KiB on tc26 set A; built once, in about a millisecond), which makes verification
// three to four times faster. This suits the broker, which verifies every ESIA token with the same few keys.
// The cache is safe for concurrent use and is ignored if X or Y are changed.
type PublicKey struct {
	Curve *Curve
	X, Y  *big.Int
	// ParamSet is the parameter-set OID the key was named with (several OIDs name the
	// same curve); MarshalPKIXPublicKey writes it. Nil means Curve.OID().
	ParamSet asn1.ObjectIdentifier

	cache *keyCache
}

// keyCache holds the lazily built fixed-base table of a public key (Edwards form on
// tc26 set A).
type keyCache struct {
	uses    atomic.Int64
	once    sync.Once
	point   affinePoint // the key the table is for, Montgomery form
	table   *baseTable
	edTable *edTable
}

// verifyTableAfter is the number of verifications with one key after which its table is
// built: a key used once (or parsed per request) never pays for it.
const verifyTableAfter = 2

// PrivateKey is a GOST R 34.10-2012 private key: the scalar D, 0 < D < q.
type PrivateKey struct {
	PublicKey
	D *big.Int
}

// *PrivateKey is a crypto.Signer over Streebog-256 digests.
var _ crypto.Signer = (*PrivateKey)(nil)

// Errors returned by key construction and signing; match them with errors.Is.
var (
	ErrInvalidKey    = errors.New("gost: invalid key")
	ErrInvalidDigest = errors.New("gost: digest must be 32 bytes (Streebog-256)")
)

// Equal reports whether pub and x (a *PublicKey) are the same key on the same curve.
func (pub *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	return ok && pub != nil && o != nil && pub.Curve == o.Curve && pub.X != nil && o.X != nil &&
		pub.Y != nil && o.Y != nil && pub.X.Cmp(o.X) == 0 && pub.Y.Cmp(o.Y) == 0
}

// Public returns the public half of priv; with Sign it makes *PrivateKey a crypto.Signer.
func (priv *PrivateKey) Public() crypto.PublicKey { return &priv.PublicKey }

// Equal reports whether priv and x (a *PrivateKey) hold the same key.
func (priv *PrivateKey) Equal(x crypto.PrivateKey) bool {
	o, ok := x.(*PrivateKey)
	return ok && priv != nil && o != nil && priv.D != nil && o.D != nil &&
		priv.PublicKey.Equal(&o.PublicKey) && priv.D.Cmp(o.D) == 0
}

// Sign implements crypto.Signer: digest must be the 32-byte Streebog-256 digest of the
// message (opts is ignored), and the result is the 64-byte signature in OpenSSL's order.
func (priv *PrivateKey) Sign(rand io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return Sign(rand, priv, digest)
}

// NewPrivateKey returns the key with scalar d on curve c, computing its public key.
func NewPrivateKey(c *Curve, d *big.Int) (*PrivateKey, error) {
	if c == nil || d == nil || d.Sign() <= 0 || d.Cmp(c.q) >= 0 {
		return nil, fmt.Errorf("%w: scalar out of range (0, q)", ErrInvalidKey)
	}
	k := feFromBig(d)
	x, y := c.baseMultAffine(&k)
	return &PrivateKey{
		PublicKey: PublicKey{Curve: c, X: c.fp.toBig(&x), Y: c.fp.toBig(&y), cache: new(keyCache)},
		D:         new(big.Int).Set(d),
	}, nil
}

// NewPublicKey returns the public key (x, y) on curve c after checking that it is a point
// of the curve's prime-order subgroup.
func NewPublicKey(c *Curve, x, y *big.Int) (*PublicKey, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no curve", ErrInvalidKey)
	}
	if err := c.checkPoint(x, y, true); err != nil {
		return nil, err
	}
	return &PublicKey{Curve: c, X: new(big.Int).Set(x), Y: new(big.Int).Set(y), cache: new(keyCache)}, nil
}

// GenerateKey returns a new key on c with the scalar drawn from rand
// (crypto/rand.Reader in production).
func GenerateKey(c *Curve, rand io.Reader) (*PrivateKey, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no curve", ErrInvalidKey)
	}
	var k fe
	if err := c.randScalar(rand, &k, make([]byte, 32)); err != nil {
		return nil, fmt.Errorf("gost: generate key: %w", err)
	}
	return NewPrivateKey(c, k.toBig())
}

// Sign signs a 32-byte Streebog-256 digest (in the byte order Sum256 and OpenSSL produce)
// with priv, drawing the nonce from rand. The signature is 64 bytes, s||r, each a 32-byte
// big-endian number: the order of `openssl dgst -engine gost -sign`. CryptoPro tools use
// the reverse order (see Reverse).
//
// The private scalar and the nonce only go through code without secret-dependent
// branches or memory accesses (fixed-base comb with full-row scans, Montgomery
// arithmetic with masked reductions).
func Sign(rand io.Reader, priv *PrivateKey, digest []byte) ([]byte, error) {
	if priv == nil || priv.Curve == nil || priv.D == nil || priv.D.Sign() <= 0 || priv.D.Cmp(priv.Curve.q) >= 0 {
		return nil, fmt.Errorf("gost: sign: %w", ErrInvalidKey)
	}
	if len(digest) != 32 {
		return nil, fmt.Errorf("gost: sign: %w", ErrInvalidDigest)
	}
	c := priv.Curve
	fq := c.fq
	var eM, dM fe
	c.digestScalar(digest, &eM)
	d := feFromBig(priv.D)
	fq.toMont(&dM, &d)
	// The nonce is read into the signature's own buffer (overwritten below), so a
	// signature costs one allocation: a buffer handed to an io.Reader escapes.
	sig := make([]byte, SignatureSize)
	for tries := 0; tries < 64; tries++ {
		var k, kM, rM, sM, t, r, s fe
		if err := c.randScalar(rand, &k, sig[:32]); err != nil {
			return nil, fmt.Errorf("gost: sign: %w", err)
		}
		x, _ := c.baseMultAffine(&k)
		c.fp.fromMont(&x, &x)
		fq.toMont(&rM, &x) // r = x mod q, in Montgomery form
		fq.fromMont(&r, &rM)
		if r.isZero() == 1 {
			continue
		}
		fq.toMont(&kM, &k)
		fq.mul(&sM, &rM, &dM)
		fq.mul(&t, &kM, &eM)
		fq.add(&sM, &sM, &t) // s = r*d + k*e mod q
		fq.fromMont(&s, &sM)
		if s.isZero() == 1 {
			continue
		}
		s.toBE((*[32]byte)(sig[:32]))
		r.toBE((*[32]byte)(sig[32:]))
		return sig, nil
	}
	return nil, errors.New("gost: sign: no valid nonce after 64 tries: broken random source")
}

// Verify reports whether sig (64 bytes, OpenSSL's order s||r) is a valid signature by pub
// of the 32-byte Streebog-256 digest. Malformed input yields false, never a panic.
func Verify(pub *PublicKey, digest, sig []byte) bool {
	if pub == nil || pub.Curve == nil || len(digest) != 32 || len(sig) != SignatureSize {
		return false
	}
	c := pub.Curve
	fq := c.fq
	s := feFromBE((*[32]byte)(sig[:32]))
	r := feFromBE((*[32]byte)(sig[32:]))
	if r.isZero() == 1 || s.isZero() == 1 || !feLess(&r, &fq.m) || !feLess(&s, &fq.m) {
		return false
	}
	if c.checkPoint(pub.X, pub.Y, false) != nil {
		return false
	}
	q := affinePoint{x: feFromBig(pub.X), y: feFromBig(pub.Y)}
	c.fp.toMont(&q.x, &q.x)
	c.fp.toMont(&q.y, &q.y)

	var eM, vM, sM, rM, z1, z2 fe
	c.digestScalar(digest, &eM)
	c.invPublic(&vM, &eM)
	fq.toMont(&sM, &s)
	fq.toMont(&rM, &r)
	fq.mul(&z1, &sM, &vM)
	fq.fromMont(&z1, &z1) // z1 = s/e
	fq.mul(&z2, &rM, &vM)
	fq.neg(&z2, &z2)
	fq.fromMont(&z2, &z2) // z2 = -r/e

	kc := pub.table(&q)
	if c.ed != nil {
		if kc != nil {
			C := c.edIdentity()
			c.edAddTableMult(&C, c.edBaseTable(), &z1)
			c.edAddTableMult(&C, kc.edTable, &z2)
			return c.edXModQEquals(&C, &r)
		}
		if qe, ok := c.edFromWeierstrass(&q); ok {
			C := c.edDoubleScalarMult(&z1, &z2, &qe)
			return c.edXModQEquals(&C, &r)
		}
	}
	var C jacPoint
	if kc != nil {
		C = c.doubleTableMult(&z1, &z2, kc.table)
	} else {
		C = c.doubleScalarMult(&z1, &z2, &q)
	}
	if C.z.isZero() == 1 {
		return false
	}
	return c.jacXModQEquals(&C, &r)
}

// table returns the key's cache with its precomputed table once the key has been used
// often enough, or nil. q is the key in Montgomery form, already checked to be on the
// curve; a table built for other coordinates (X or Y changed since) is not used. Tables
// are built only for keys in the prime-order subgroup.
func (pub *PublicKey) table(q *affinePoint) *keyCache {
	kc := pub.cache
	if kc == nil || kc.uses.Add(1) < verifyTableAfter {
		return nil
	}
	kc.once.Do(func() {
		c := pub.Curve
		if c.cofactor != 1 && c.checkPoint(pub.X, pub.Y, true) != nil {
			return
		}
		if c.ed != nil {
			qe, ok := c.edFromWeierstrass(q)
			if !ok {
				return
			}
			kc.edTable = c.edBuildTable(&qe)
		} else {
			kc.table = c.buildTable(q)
		}
		kc.point = *q
	})
	if (kc.table == nil && kc.edTable == nil) || kc.point.x.equal(&q.x) != 1 || kc.point.y.equal(&q.y) != 1 {
		return nil
	}
	return kc
}

// SignMessage hashes msg with Streebog-256 and signs the digest (see Sign).
func SignMessage(rand io.Reader, priv *PrivateKey, msg []byte) ([]byte, error) {
	h := Sum256(msg)
	return Sign(rand, priv, h[:])
}

// VerifyMessage hashes msg with Streebog-256 and verifies sig over the digest (see Verify).
func VerifyMessage(pub *PublicKey, msg, sig []byte) bool {
	h := Sum256(msg)
	return Verify(pub, h[:], sig)
}

// Reverse returns a reversed copy of sig. A signature from CryptoPro CSP (the
// little-endian encoding of the number r*2^256 + s) reversed is in OpenSSL's order, and
// an OpenSSL-order signature reversed is what CryptoPro expects.
func Reverse(sig []byte) []byte {
	out := make([]byte, len(sig))
	for i, b := range sig {
		out[len(sig)-1-i] = b
	}
	return out
}

// digestScalar sets eM to e = alpha mod q in Montgomery form, alpha being the digest read
// as a little-endian number, and e = 1 when that is zero (GOST R 34.10-2012, 6.1 step 2).
func (c *Curve) digestScalar(digest []byte, eM *fe) {
	var be [32]byte
	for i := 0; i < 32; i++ {
		be[31-i] = digest[i]
	}
	alpha := feFromBE(&be)
	c.fq.toMont(eM, &alpha)
	eM.sel(&c.fq.one, eM, eM.isZero())
}

// randScalar draws 0 < k < q from rand by rejection sampling, reading into buf (32 bytes).
func (c *Curve) randScalar(rand io.Reader, k *fe, buf []byte) error {
	if rand == nil {
		return errors.New("nil random source")
	}
	bitLen := c.q.BitLen()
	for tries := 0; tries < 256; tries++ {
		if _, err := io.ReadFull(rand, buf[:32]); err != nil {
			return fmt.Errorf("reading random scalar: %w", err)
		}
		buf[0] &= byte(0xff >> (256 - bitLen))
		*k = feFromBE((*[32]byte)(buf[:32]))
		if k.isZero() == 0 && feLess(k, &c.fq.m) {
			return nil
		}
	}
	return errors.New("random source never produced a scalar below q")
}

// checkPoint verifies 0 <= x, y < p and that (x, y) is on the curve; with subgroup it also
// checks q*(x, y) = O, which matters only for tc26 set A (cofactor 4).
func (c *Curve) checkPoint(x, y *big.Int, subgroup bool) error {
	if x == nil || y == nil || x.Sign() < 0 || y.Sign() < 0 || x.Cmp(c.p) >= 0 || y.Cmp(c.p) >= 0 {
		return fmt.Errorf("%w: coordinates out of range", ErrInvalidKey)
	}
	f := c.fp
	xm, ym := feFromBig(x), feFromBig(y) // in range: no reduction, no allocation
	f.toMont(&xm, &xm)
	f.toMont(&ym, &ym)
	var l, r fe
	f.sqr(&l, &ym)
	f.sqr(&r, &xm)
	f.add(&r, &r, &c.aM)
	f.mul(&r, &r, &xm)
	f.add(&r, &r, &c.bM)
	if l.equal(&r) != 1 {
		return fmt.Errorf("%w: point not on %s", ErrInvalidKey, c.name)
	}
	if subgroup && c.cofactor != 1 {
		var zero fe
		qm := c.fq.m
		subSmall(&qm, 1) // (q-1)*P = -P exactly when P has order q
		P := affinePoint{x: xm, y: ym}
		R := c.doubleScalarMult(&zero, &qm, &P)
		var negY fe
		f.neg(&negY, &ym)
		var want = jacPoint{x: xm, y: negY, z: f.one}
		if !c.jacEqual(&R, &want) {
			return fmt.Errorf("%w: point not in the prime-order subgroup of %s", ErrInvalidKey, c.name)
		}
	}
	return nil
}

// invPublic sets zM = xM^-1 in the Montgomery domain modulo q for a public, non-zero xM.
// math/big's Lehmer extended GCD takes a quarter of the time of the constant-time
// Fermat inversion; verification handles only public values, so variable time is fine.
func (c *Curve) invPublic(zM, xM *fe) {
	var x fe
	c.fq.fromMont(&x, xM)
	inv := new(big.Int).ModInverse(x.toBig(), c.q)
	if inv == nil { // x = 0 mod q cannot happen (digestScalar maps 0 to 1)
		*zM = fe{}
		return
	}
	*zM = feFromBig(inv)
	c.fq.toMont(zM, zM)
}

// feLess reports x < y for plain 256-bit numbers.
func feLess(x, y *fe) bool {
	_, b := subb(x[0], y[0], 0)
	_, b = subb(x[1], y[1], b)
	_, b = subb(x[2], y[2], b)
	_, b = subb(x[3], y[3], b)
	return b == 1
}
