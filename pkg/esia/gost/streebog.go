package gost

import (
	"encoding/binary"
	"hash"
	"math/bits"
)

// Size256 and Size512 are the Streebog digest sizes in bytes.
const (
	Size256 = 32
	Size512 = 64
)

// BlockSize is Streebog's block size in bytes.
const BlockSize = 64

// streebog is the GOST R 34.11-2012 state (RFC 6986 section 8). Message bytes are read as a
// little-endian number, which is how OpenSSL's gost engine and every interoperable
// implementation feed a byte string to the algorithm the RFC writes with big-endian numbers.
type streebog struct {
	h     block // chaining value
	n     block // number of message bits processed so far, mod 2^512
	sigma block // sum of the processed blocks, mod 2^512
	buf   [BlockSize]byte
	nbuf  int
	size  int
}

// New256 returns a Streebog-256 hash.Hash. Sum appends the digest in the byte order
// `openssl dgst -engine gost -md_gost12_256` prints.
func New256() hash.Hash { d := &streebog{size: Size256}; d.Reset(); return d }

// New512 returns a Streebog-512 hash.Hash. Sum appends the digest in the byte order
// `openssl dgst -engine gost -md_gost12_512` prints.
func New512() hash.Hash { d := &streebog{size: Size512}; d.Reset(); return d }

// Sum256 returns the Streebog-256 digest of b in OpenSSL's byte order.
func Sum256(b []byte) [Size256]byte {
	d := streebog{size: Size256}
	d.Reset()
	d.Write(b)
	var out [Size256]byte
	d.sum(out[:0])
	return out
}

// Sum512 returns the Streebog-512 digest of b in OpenSSL's byte order.
func Sum512(b []byte) [Size512]byte {
	d := streebog{size: Size512}
	d.Reset()
	d.Write(b)
	var out [Size512]byte
	d.sum(out[:0])
	return out
}

func (d *streebog) Size() int      { return d.size }
func (d *streebog) BlockSize() int { return BlockSize }

func (d *streebog) Reset() {
	// The initialisation vector is 0^512 for the 512-bit hash and (00000001)^64 for the 256-bit one.
	iv := uint64(0)
	if d.size == Size256 {
		iv = 0x0101010101010101
	}
	for i := range d.h {
		d.h[i] = iv
	}
	d.n = block{}
	d.sigma = block{}
	d.nbuf = 0
}

func (d *streebog) Write(p []byte) (int, error) {
	written := len(p)
	if d.nbuf > 0 {
		c := copy(d.buf[d.nbuf:], p)
		d.nbuf += c
		p = p[c:]
		if d.nbuf < BlockSize {
			return written, nil
		}
		d.block(d.buf[:])
		d.nbuf = 0
	}
	// Every full block can be compressed as soon as it is complete: the final (padded)
	// block is always a separate, possibly empty, remainder.
	for len(p) >= BlockSize {
		d.block(p[:BlockSize])
		p = p[BlockSize:]
	}
	d.nbuf = copy(d.buf[:], p)
	return written, nil
}

func (d *streebog) Sum(in []byte) []byte {
	c := *d // Sum must not change the running state
	return c.sum(in)
}

func (d *streebog) sum(in []byte) []byte {
	// Pad the remainder as 0...01||M (the number) = M || 0x01 || 0x00... (the bytes).
	var last [BlockSize]byte
	copy(last[:], d.buf[:d.nbuf])
	last[d.nbuf] = 1
	var m block
	loadBlock(&m, last[:])
	compress(&d.h, &m, &d.n)
	addBits(&d.n, uint64(d.nbuf)*8)
	add512(&d.sigma, &m)
	var zero block
	compress(&d.h, &d.n, &zero)
	compress(&d.h, &d.sigma, &zero)

	var out [Size512]byte
	for i, w := range d.h {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
	if d.size == Size256 {
		return append(in, out[32:]...) // the most significant half of the number
	}
	return append(in, out[:]...)
}

func (d *streebog) block(p []byte) {
	var m block
	loadBlock(&m, p)
	compress(&d.h, &m, &d.n)
	addBits(&d.n, 512)
	add512(&d.sigma, &m)
}

func loadBlock(m *block, p []byte) {
	_ = p[63]
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
}

func addBits(n *block, v uint64) {
	var c uint64
	n[0], c = bits.Add64(n[0], v, 0)
	for i := 1; i < 8 && c != 0; i++ {
		n[i], c = bits.Add64(n[i], 0, c)
	}
}

func add512(a, b *block) {
	var c uint64
	for i := range a {
		a[i], c = bits.Add64(a[i], b[i], c)
	}
}

// compress is g_N(h, m) = E(LPS(h xor N), m) xor h xor m (RFC 6986 section 7), with the
// round key and the state held in registers.
func compress(h, m, n *block) {
	k0, k1, k2, k3, k4, k5, k6, k7 := lps(h[0]^n[0], h[1]^n[1], h[2]^n[2], h[3]^n[3], h[4]^n[4], h[5]^n[5], h[6]^n[6], h[7]^n[7])
	s0, s1, s2, s3, s4, s5, s6, s7 := m[0]^k0, m[1]^k1, m[2]^k2, m[3]^k3, m[4]^k4, m[5]^k5, m[6]^k6, m[7]^k7
	for r := range roundC {
		c := &roundC[r]
		s0, s1, s2, s3, s4, s5, s6, s7 = lps(s0, s1, s2, s3, s4, s5, s6, s7)
		k0, k1, k2, k3, k4, k5, k6, k7 = lps(k0^c[0], k1^c[1], k2^c[2], k3^c[3], k4^c[4], k5^c[5], k6^c[6], k7^c[7])
		s0, s1, s2, s3, s4, s5, s6, s7 = s0^k0, s1^k1, s2^k2, s3^k3, s4^k4, s5^k5, s6^k6, s7^k7
	}
	h[0] ^= s0 ^ m[0]
	h[1] ^= s1 ^ m[1]
	h[2] ^= s2 ^ m[2]
	h[3] ^= s3 ^ m[3]
	h[4] ^= s4 ^ m[4]
	h[5] ^= s5 ^ m[5]
	h[6] ^= s6 ^ m[6]
	h[7] ^= s7 ^ m[7]
}

// lps is L(P(S(x))) on a block held in eight words: P transposes the 8x8 byte matrix, so
// output word k gathers byte k of every input word, and lpsTable folds S and L into
// one look-up per byte.
func lps(x0, x1, x2, x3, x4, x5, x6, x7 uint64) (y0, y1, y2, y3, y4, y5, y6, y7 uint64) {
	t := &lpsTable
	y0 = t[0][byte(x0)] ^ t[1][byte(x1)] ^ t[2][byte(x2)] ^ t[3][byte(x3)] ^
		t[4][byte(x4)] ^ t[5][byte(x5)] ^ t[6][byte(x6)] ^ t[7][byte(x7)]
	y1 = t[0][byte(x0>>8)] ^ t[1][byte(x1>>8)] ^ t[2][byte(x2>>8)] ^ t[3][byte(x3>>8)] ^
		t[4][byte(x4>>8)] ^ t[5][byte(x5>>8)] ^ t[6][byte(x6>>8)] ^ t[7][byte(x7>>8)]
	y2 = t[0][byte(x0>>16)] ^ t[1][byte(x1>>16)] ^ t[2][byte(x2>>16)] ^ t[3][byte(x3>>16)] ^
		t[4][byte(x4>>16)] ^ t[5][byte(x5>>16)] ^ t[6][byte(x6>>16)] ^ t[7][byte(x7>>16)]
	y3 = t[0][byte(x0>>24)] ^ t[1][byte(x1>>24)] ^ t[2][byte(x2>>24)] ^ t[3][byte(x3>>24)] ^
		t[4][byte(x4>>24)] ^ t[5][byte(x5>>24)] ^ t[6][byte(x6>>24)] ^ t[7][byte(x7>>24)]
	y4 = t[0][byte(x0>>32)] ^ t[1][byte(x1>>32)] ^ t[2][byte(x2>>32)] ^ t[3][byte(x3>>32)] ^
		t[4][byte(x4>>32)] ^ t[5][byte(x5>>32)] ^ t[6][byte(x6>>32)] ^ t[7][byte(x7>>32)]
	y5 = t[0][byte(x0>>40)] ^ t[1][byte(x1>>40)] ^ t[2][byte(x2>>40)] ^ t[3][byte(x3>>40)] ^
		t[4][byte(x4>>40)] ^ t[5][byte(x5>>40)] ^ t[6][byte(x6>>40)] ^ t[7][byte(x7>>40)]
	y6 = t[0][byte(x0>>48)] ^ t[1][byte(x1>>48)] ^ t[2][byte(x2>>48)] ^ t[3][byte(x3>>48)] ^
		t[4][byte(x4>>48)] ^ t[5][byte(x5>>48)] ^ t[6][byte(x6>>48)] ^ t[7][byte(x7>>48)]
	y7 = t[0][byte(x0>>56)] ^ t[1][byte(x1>>56)] ^ t[2][byte(x2>>56)] ^ t[3][byte(x3>>56)] ^
		t[4][byte(x4>>56)] ^ t[5][byte(x5>>56)] ^ t[6][byte(x6>>56)] ^ t[7][byte(x7>>56)]
	return y0, y1, y2, y3, y4, y5, y6, y7
}
