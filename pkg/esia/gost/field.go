package gost

import (
	"encoding/binary"
	"math/big"
	"math/bits"
)

// fe is a 256-bit number as four little-endian 64-bit limbs. Field elements are kept in
// Montgomery form (x*R mod m, R = 2^256) between conversions.
type fe [4]uint64

// field is arithmetic modulo an odd m < 2^256 with Montgomery multiplication. One is
// built per curve prime p and per subgroup order q. All operations run in time
// independent of the values (inversion depends on the public modulus only).
type field struct {
	m    fe
	n0   uint64 // -m^-1 mod 2^64
	rr   fe     // R^2 mod m
	one  fe     // R mod m
	mBig *big.Int
	mm2  fe // m-2, the inversion exponent
	// c is set when m = 2^256 - c with c < 2^32. Such a field is kept in plain form
	// (R = 1, so one = rr = 1 and toMont/fromMont only reduce) and mul/sqr reduce by
	// folding instead of Montgomery reduction.
	c uint64
}

func newField(m *big.Int) *field {
	f := &field{mBig: new(big.Int).Set(m)}
	f.m = feFromBig(m)
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	inv := new(big.Int).ModInverse(new(big.Int).Mod(m, two64), two64)
	f.n0 = new(big.Int).Sub(two64, inv).Uint64()
	r := new(big.Int).Lsh(big.NewInt(1), 256)
	if c := new(big.Int).Sub(r, m); c.BitLen() <= 32 {
		f.c = c.Uint64()
		f.one, f.rr = fe{1}, fe{1}
		f.mm2 = feFromBig(new(big.Int).Sub(m, big.NewInt(2)))
		return f
	}
	f.one = feFromBig(new(big.Int).Mod(r, m))
	f.rr = feFromBig(new(big.Int).Mod(new(big.Int).Mul(r, r), m))
	f.mm2 = feFromBig(new(big.Int).Sub(m, big.NewInt(2)))
	return f
}

// feFromBig converts 0 <= x < 2^256 to limbs (no Montgomery conversion).
func feFromBig(x *big.Int) fe {
	var b [32]byte
	x.FillBytes(b[:])
	return feFromBE(&b)
}

func feFromBE(b *[32]byte) fe {
	return fe{
		binary.BigEndian.Uint64(b[24:]), binary.BigEndian.Uint64(b[16:]),
		binary.BigEndian.Uint64(b[8:]), binary.BigEndian.Uint64(b[0:]),
	}
}

func (x *fe) toBE(b *[32]byte) {
	binary.BigEndian.PutUint64(b[24:], x[0])
	binary.BigEndian.PutUint64(b[16:], x[1])
	binary.BigEndian.PutUint64(b[8:], x[2])
	binary.BigEndian.PutUint64(b[0:], x[3])
}

func (x *fe) toBig() *big.Int {
	var b [32]byte
	x.toBE(&b)
	return new(big.Int).SetBytes(b[:])
}

func (f *field) fromBig(x *big.Int) fe {
	v := feFromBig(new(big.Int).Mod(x, f.mBig))
	f.toMont(&v, &v)
	return v
}

func (f *field) toBig(x *fe) *big.Int {
	var v fe
	f.fromMont(&v, x)
	return v.toBig()
}

// toMont sets z = x*R mod m for any x < 2^256.
func (f *field) toMont(z, x *fe) { f.mul(z, x, &f.rr) }

// fromMont sets z = x/R mod m, the plain residue.
func (f *field) fromMont(z, x *fe) { f.mul(z, x, &fe{1}) }

// add sets z = x+y mod m for x, y < m.
func (f *field) add(z, x, y *fe) {
	var c, b uint64
	t0, c := bits.Add64(x[0], y[0], 0)
	t1, c := bits.Add64(x[1], y[1], c)
	t2, c := bits.Add64(x[2], y[2], c)
	t3, c := bits.Add64(x[3], y[3], c)
	r0, b := bits.Sub64(t0, f.m[0], 0)
	r1, b := bits.Sub64(t1, f.m[1], b)
	r2, b := bits.Sub64(t2, f.m[2], b)
	r3, b := bits.Sub64(t3, f.m[3], b)
	_, b = bits.Sub64(c, 0, b)
	mask := -b
	z[0] = t0&mask | r0&^mask
	z[1] = t1&mask | r1&^mask
	z[2] = t2&mask | r2&^mask
	z[3] = t3&mask | r3&^mask
}

// sub sets z = x-y mod m for x, y < m.
func (f *field) sub(z, x, y *fe) {
	var b, c uint64
	t0, b := bits.Sub64(x[0], y[0], 0)
	t1, b := bits.Sub64(x[1], y[1], b)
	t2, b := bits.Sub64(x[2], y[2], b)
	t3, b := bits.Sub64(x[3], y[3], b)
	mask := -b
	z[0], c = bits.Add64(t0, f.m[0]&mask, 0)
	z[1], c = bits.Add64(t1, f.m[1]&mask, c)
	z[2], c = bits.Add64(t2, f.m[2]&mask, c)
	z[3], _ = bits.Add64(t3, f.m[3]&mask, c)
}

func (f *field) neg(z, x *fe) { f.sub(z, &fe{}, x) }

// batchInv replaces every element of zs by its inverse with a single field
// inversion (Montgomery's trick); no element may be zero.
func (f *field) batchInv(zs []fe) {
	prefix := make([]fe, len(zs))
	acc := f.one
	for i := range zs {
		prefix[i] = acc
		f.mul(&acc, &acc, &zs[i])
	}
	var inv fe
	f.inv(&inv, &acc)
	for i := len(zs) - 1; i >= 0; i-- {
		var zi fe
		f.mul(&zi, &inv, &prefix[i])
		f.mul(&inv, &inv, &zs[i])
		zs[i] = zi
	}
}

// inv sets z = x^-1 mod m (0 for x = 0) by Fermat's little theorem, with a fixed 4-bit
// window over the public exponent m-2.
func (f *field) inv(z, x *fe) {
	var tab [16]fe
	tab[0] = f.one
	tab[1] = *x
	for i := 2; i < 16; i++ {
		f.mul(&tab[i], &tab[i-1], x)
	}
	acc := f.one
	for i := 63; i >= 0; i-- {
		for j := 0; j < 4; j++ {
			f.sqr(&acc, &acc)
		}
		nib := f.mm2[i/16] >> (4 * uint(i%16)) & 15
		f.mul(&acc, &acc, &tab[nib])
	}
	*z = acc
}

func (x *fe) isZero() uint64 {
	v := x[0] | x[1] | x[2] | x[3]
	return ((v | -v) >> 63) ^ 1 // 1 if zero
}

func (x *fe) equal(y *fe) uint64 {
	v := (x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])
	return ((v | -v) >> 63) ^ 1
}

// sel sets z = x if c == 1, y if c == 0.
func (z *fe) sel(x, y *fe, c uint64) {
	mask := -c
	z[0] = x[0]&mask | y[0]&^mask
	z[1] = x[1]&mask | y[1]&^mask
	z[2] = x[2]&mask | y[2]&^mask
	z[3] = x[3]&mask | y[3]&^mask
}

func addc(x, y, c uint64) (uint64, uint64) { return bits.Add64(x, y, c) }
func subb(x, y, b uint64) (uint64, uint64) { return bits.Sub64(x, y, b) }
