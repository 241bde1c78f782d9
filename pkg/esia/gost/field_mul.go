package gost

import "math/bits"

// mul sets z = x*y/R mod m: the full 512-bit product by rows with carry chains, then
// the reduction. For m = 2^256 - c (f.c != 0, R = 1) the product H*2^256 + L is folded
// as H*c + L twice, since 2^256 = c mod m; otherwise four word-by-word Montgomery steps
// divide by R = 2^256, which needs x*y < m*R (true when either input is below m). Both
// end in a masked final subtraction: the result is fully reduced, with no branches on
// the values (the f.c test depends on the modulus only).
func (f *field) mul(z, x, y *fe) {
	x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
	y0, y1, y2, y3 := y[0], y[1], y[2], y[3]
	var c uint64
	// row 0
	h0, t0 := bits.Mul64(x0, y0)
	h1, l1 := bits.Mul64(x1, y0)
	h2, l2 := bits.Mul64(x2, y0)
	h3, l3 := bits.Mul64(x3, y0)
	t1, c := bits.Add64(l1, h0, 0)
	t2, c := bits.Add64(l2, h1, c)
	t3, c := bits.Add64(l3, h2, c)
	t4, _ := bits.Add64(h3, 0, c)
	// row 1
	h0, l0 := bits.Mul64(x0, y1)
	h1, l1 = bits.Mul64(x1, y1)
	h2, l2 = bits.Mul64(x2, y1)
	h3, l3 = bits.Mul64(x3, y1)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	h3, _ = bits.Add64(h3, 0, c)
	t1, c = bits.Add64(t1, l0, 0)
	t2, c = bits.Add64(t2, l1, c)
	t3, c = bits.Add64(t3, l2, c)
	t4, c = bits.Add64(t4, l3, c)
	t5, _ := bits.Add64(h3, 0, c)
	// row 2
	h0, l0 = bits.Mul64(x0, y2)
	h1, l1 = bits.Mul64(x1, y2)
	h2, l2 = bits.Mul64(x2, y2)
	h3, l3 = bits.Mul64(x3, y2)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	h3, _ = bits.Add64(h3, 0, c)
	t2, c = bits.Add64(t2, l0, 0)
	t3, c = bits.Add64(t3, l1, c)
	t4, c = bits.Add64(t4, l2, c)
	t5, c = bits.Add64(t5, l3, c)
	t6, _ := bits.Add64(h3, 0, c)
	// row 3
	h0, l0 = bits.Mul64(x0, y3)
	h1, l1 = bits.Mul64(x1, y3)
	h2, l2 = bits.Mul64(x2, y3)
	h3, l3 = bits.Mul64(x3, y3)
	l1, c = bits.Add64(l1, h0, 0)
	l2, c = bits.Add64(l2, h1, c)
	l3, c = bits.Add64(l3, h2, c)
	h3, _ = bits.Add64(h3, 0, c)
	t3, c = bits.Add64(t3, l0, 0)
	t4, c = bits.Add64(t4, l1, c)
	t5, c = bits.Add64(t5, l2, c)
	t6, c = bits.Add64(t6, l3, c)
	t7, _ := bits.Add64(h3, 0, c)
	// The reduction is written out here, not called, so the eight product words stay in
	// registers; the copies in mul and sqr are identical.
	if f.c != 0 {
		c := f.c
		h0, l0 := bits.Mul64(t4, c)
		h1, l1 := bits.Mul64(t5, c)
		h2, l2 := bits.Mul64(t6, c)
		h3, l3 := bits.Mul64(t7, c)
		var cc uint64
		r0, cc := bits.Add64(t0, l0, 0)
		r1, cc := bits.Add64(t1, l1, cc)
		r2, cc := bits.Add64(t2, l2, cc)
		r3, cc := bits.Add64(t3, l3, cc)
		top, _ := bits.Add64(h3, 0, cc)
		r1, cc = bits.Add64(r1, h0, 0)
		r2, cc = bits.Add64(r2, h1, cc)
		r3, cc = bits.Add64(r3, h2, cc)
		top += cc
		// value = top*2^256 + r with top <= c: fold top once more.
		r0, cc = bits.Add64(r0, top*c, 0)
		r1, cc = bits.Add64(r1, 0, cc)
		r2, cc = bits.Add64(r2, 0, cc)
		r3, cc = bits.Add64(r3, 0, cc)
		// A carry out means the sum wrapped: r is now tiny, and 2^256 = c is added back.
		r0 += cc * c
		var b uint64
		s0, b := bits.Sub64(r0, f.m[0], 0)
		s1, b := bits.Sub64(r1, f.m[1], b)
		s2, b := bits.Sub64(r2, f.m[2], b)
		s3, b := bits.Sub64(r3, f.m[3], b)
		mask := -b // keep r when r < m
		z[0] = r0&mask | s0&^mask
		z[1] = r1&mask | s1&^mask
		z[2] = r2&mask | s2&^mask
		z[3] = r3&mask | s3&^mask
		return
	}
	{
		m0, m1, m2, m3 := f.m[0], f.m[1], f.m[2], f.m[3]
		n0 := f.n0
		var c, top uint64
		{
			u := t0 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t0, l0, 0)
			t1, c = bits.Add64(t1, l1, c)
			t2, c = bits.Add64(t2, l2, c)
			t3, c = bits.Add64(t3, l3, c)
			t4, c = bits.Add64(t4, h3, c)
			t5, c = bits.Add64(t5, 0, c)
			t6, c = bits.Add64(t6, 0, c)
			t7, c = bits.Add64(t7, 0, c)
			top += c
		}
		{
			u := t1 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t1, l0, 0)
			t2, c = bits.Add64(t2, l1, c)
			t3, c = bits.Add64(t3, l2, c)
			t4, c = bits.Add64(t4, l3, c)
			t5, c = bits.Add64(t5, h3, c)
			t6, c = bits.Add64(t6, 0, c)
			t7, c = bits.Add64(t7, 0, c)
			top += c
		}
		{
			u := t2 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t2, l0, 0)
			t3, c = bits.Add64(t3, l1, c)
			t4, c = bits.Add64(t4, l2, c)
			t5, c = bits.Add64(t5, l3, c)
			t6, c = bits.Add64(t6, h3, c)
			t7, c = bits.Add64(t7, 0, c)
			top += c
		}
		{
			u := t3 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t3, l0, 0)
			t4, c = bits.Add64(t4, l1, c)
			t5, c = bits.Add64(t5, l2, c)
			t6, c = bits.Add64(t6, l3, c)
			t7, c = bits.Add64(t7, h3, c)
			top += c
		}
		var b uint64
		r0, b := bits.Sub64(t4, m0, 0)
		r1, b := bits.Sub64(t5, m1, b)
		r2, b := bits.Sub64(t6, m2, b)
		r3, b := bits.Sub64(t7, m3, b)
		_, b = bits.Sub64(top, 0, b)
		mask := -b
		z[0] = t4&mask | r0&^mask
		z[1] = t5&mask | r1&^mask
		z[2] = t6&mask | r2&^mask
		z[3] = t7&mask | r3&^mask
	}
}

// sqr sets z = x*x/R mod m, computing each cross product x_i*x_j once.
func (f *field) sqr(z, x *fe) {
	x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
	var c uint64
	// cross products x_i*x_j, i<j, at positions 1..6
	h01, l01 := bits.Mul64(x0, x1)
	h02, l02 := bits.Mul64(x0, x2)
	h03, l03 := bits.Mul64(x0, x3)
	h12, l12 := bits.Mul64(x1, x2)
	h13, l13 := bits.Mul64(x1, x3)
	h23, l23 := bits.Mul64(x2, x3)
	// row x0: l01 | h01+l02 | h02+l03 | h03
	t1 := l01
	t2, c := bits.Add64(h01, l02, 0)
	t3, c := bits.Add64(h02, l03, c)
	t4, _ := bits.Add64(h03, 0, c)
	// row x1: at positions 3..5: l12 | h12+l13 | h13
	a4, c := bits.Add64(h12, l13, 0)
	a5, _ := bits.Add64(h13, 0, c)
	t3, c = bits.Add64(t3, l12, 0)
	t4, c = bits.Add64(t4, a4, c)
	t5, c := bits.Add64(a5, 0, c)
	// row x2: positions 5..6: l23 | h23
	t5, c = bits.Add64(t5, l23, 0)
	t6, _ := bits.Add64(h23, 0, c)
	// double
	t7 := t6 >> 63
	t6 = t6<<1 | t5>>63
	t5 = t5<<1 | t4>>63
	t4 = t4<<1 | t3>>63
	t3 = t3<<1 | t2>>63
	t2 = t2<<1 | t1>>63
	t1 <<= 1
	// add squares
	h0, t0 := bits.Mul64(x0, x0)
	h1, l1 := bits.Mul64(x1, x1)
	h2, l2 := bits.Mul64(x2, x2)
	h3, l3 := bits.Mul64(x3, x3)
	t1, c = bits.Add64(t1, h0, 0)
	t2, c = bits.Add64(t2, l1, c)
	t3, c = bits.Add64(t3, h1, c)
	t4, c = bits.Add64(t4, l2, c)
	t5, c = bits.Add64(t5, h2, c)
	t6, c = bits.Add64(t6, l3, c)
	t7, _ = bits.Add64(t7, h3, c)
	// The reduction is written out here, not called, so the eight product words stay in
	// registers; the copies in mul and sqr are identical.
	if f.c != 0 {
		c := f.c
		h0, l0 := bits.Mul64(t4, c)
		h1, l1 := bits.Mul64(t5, c)
		h2, l2 := bits.Mul64(t6, c)
		h3, l3 := bits.Mul64(t7, c)
		var cc uint64
		r0, cc := bits.Add64(t0, l0, 0)
		r1, cc := bits.Add64(t1, l1, cc)
		r2, cc := bits.Add64(t2, l2, cc)
		r3, cc := bits.Add64(t3, l3, cc)
		top, _ := bits.Add64(h3, 0, cc)
		r1, cc = bits.Add64(r1, h0, 0)
		r2, cc = bits.Add64(r2, h1, cc)
		r3, cc = bits.Add64(r3, h2, cc)
		top += cc
		// value = top*2^256 + r with top <= c: fold top once more.
		r0, cc = bits.Add64(r0, top*c, 0)
		r1, cc = bits.Add64(r1, 0, cc)
		r2, cc = bits.Add64(r2, 0, cc)
		r3, cc = bits.Add64(r3, 0, cc)
		// A carry out means the sum wrapped: r is now tiny, and 2^256 = c is added back.
		r0 += cc * c
		var b uint64
		s0, b := bits.Sub64(r0, f.m[0], 0)
		s1, b := bits.Sub64(r1, f.m[1], b)
		s2, b := bits.Sub64(r2, f.m[2], b)
		s3, b := bits.Sub64(r3, f.m[3], b)
		mask := -b // keep r when r < m
		z[0] = r0&mask | s0&^mask
		z[1] = r1&mask | s1&^mask
		z[2] = r2&mask | s2&^mask
		z[3] = r3&mask | s3&^mask
		return
	}
	{
		m0, m1, m2, m3 := f.m[0], f.m[1], f.m[2], f.m[3]
		n0 := f.n0
		var c, top uint64
		{
			u := t0 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t0, l0, 0)
			t1, c = bits.Add64(t1, l1, c)
			t2, c = bits.Add64(t2, l2, c)
			t3, c = bits.Add64(t3, l3, c)
			t4, c = bits.Add64(t4, h3, c)
			t5, c = bits.Add64(t5, 0, c)
			t6, c = bits.Add64(t6, 0, c)
			t7, c = bits.Add64(t7, 0, c)
			top += c
		}
		{
			u := t1 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t1, l0, 0)
			t2, c = bits.Add64(t2, l1, c)
			t3, c = bits.Add64(t3, l2, c)
			t4, c = bits.Add64(t4, l3, c)
			t5, c = bits.Add64(t5, h3, c)
			t6, c = bits.Add64(t6, 0, c)
			t7, c = bits.Add64(t7, 0, c)
			top += c
		}
		{
			u := t2 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t2, l0, 0)
			t3, c = bits.Add64(t3, l1, c)
			t4, c = bits.Add64(t4, l2, c)
			t5, c = bits.Add64(t5, l3, c)
			t6, c = bits.Add64(t6, h3, c)
			t7, c = bits.Add64(t7, 0, c)
			top += c
		}
		{
			u := t3 * n0
			h0, l0 := bits.Mul64(u, m0)
			h1, l1 := bits.Mul64(u, m1)
			h2, l2 := bits.Mul64(u, m2)
			h3, l3 := bits.Mul64(u, m3)
			l1, c = bits.Add64(l1, h0, 0)
			l2, c = bits.Add64(l2, h1, c)
			l3, c = bits.Add64(l3, h2, c)
			h3, _ = bits.Add64(h3, 0, c)
			_, c = bits.Add64(t3, l0, 0)
			t4, c = bits.Add64(t4, l1, c)
			t5, c = bits.Add64(t5, l2, c)
			t6, c = bits.Add64(t6, l3, c)
			t7, c = bits.Add64(t7, h3, c)
			top += c
		}
		var b uint64
		r0, b := bits.Sub64(t4, m0, 0)
		r1, b := bits.Sub64(t5, m1, b)
		r2, b := bits.Sub64(t6, m2, b)
		r3, b := bits.Sub64(t7, m3, b)
		_, b = bits.Sub64(top, 0, b)
		mask := -b
		z[0] = t4&mask | r0&^mask
		z[1] = t5&mask | r1&^mask
		z[2] = t6&mask | r2&^mask
		z[3] = t7&mask | r3&^mask
	}
}
