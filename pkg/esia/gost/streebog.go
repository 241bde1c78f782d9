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

// compress is g_N(h, m) = E(LPS(h xor N), m) xor h xor m (RFC 6986 section 7).
func compress(h, m, n *block) {
	var k, s block
	for i := range k {
		k[i] = h[i] ^ n[i]
	}
	lps(&k)
	for i := range s {
		s[i] = m[i] ^ k[i]
	}
	for r := 0; r < 12; r++ {
		lps(&s)
		c := &roundC[r]
		for i := range k {
			k[i] ^= c[i]
		}
		lps(&k)
		for i := range s {
			s[i] ^= k[i]
		}
	}
	for i := range h {
		h[i] ^= s[i] ^ m[i]
	}
}

// lps applies L(P(S(x))) in place using lpsTable.
func lps(x *block) {
	x0, x1, x2, x3, x4, x5, x6, x7 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
	t0, t1, t2, t3 := &lpsTable[0], &lpsTable[1], &lpsTable[2], &lpsTable[3]
	t4, t5, t6, t7 := &lpsTable[4], &lpsTable[5], &lpsTable[6], &lpsTable[7]
	for k := 0; k < 8; k++ {
		sh := uint(8 * k)
		x[k] = t0[byte(x0>>sh)] ^ t1[byte(x1>>sh)] ^ t2[byte(x2>>sh)] ^ t3[byte(x3>>sh)] ^
			t4[byte(x4>>sh)] ^ t5[byte(x5>>sh)] ^ t6[byte(x6>>sh)] ^ t7[byte(x7>>sh)]
	}
}
