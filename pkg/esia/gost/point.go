package gost

// Points in three coordinate systems, all with field elements in Montgomery form:
//   - affinePoint (x, y): table entries and the base point;
//   - projPoint (X:Y:Z), x = X/Z, y = Y/Z, identity (0:1:0): used with the complete
//     addition formulas of Renes, Costello and Batina (EUROCRYPT 2016, algorithms 1-2),
//     which have no exceptional cases for points of odd order, so secret-dependent code
//     has no branches;
//   - jacPoint (X:Y:Z), x = X/Z^2, y = Y/Z^3, identity Z = 0: faster, variable-time
//     formulas (Explicit-Formulas Database: dbl-2001-b, dbl-2007-bl, add-2007-bl,
//     madd-2007-bl) for verification, where every input is public.
type affinePoint struct{ x, y fe }

type projPoint struct{ x, y, z fe }

type jacPoint struct{ x, y, z fe }

// projIdentity returns the neutral element (0:1:0).
func (c *Curve) projIdentity() projPoint { return projPoint{y: c.fp.one} }

// projAdd sets r = p1 + p2 (complete for the odd-order subgroup; r may alias inputs).
func (c *Curve) projAdd(r, p1, p2 *projPoint) {
	f := c.fp
	var t0, t1, t2, t3, t4, t5, x3, y3, z3 fe
	f.mul(&t0, &p1.x, &p2.x)
	f.mul(&t1, &p1.y, &p2.y)
	f.mul(&t2, &p1.z, &p2.z)
	f.add(&t3, &p1.x, &p1.y)
	f.add(&t4, &p2.x, &p2.y)
	f.mul(&t3, &t3, &t4)
	f.add(&t4, &t0, &t1)
	f.sub(&t3, &t3, &t4)
	f.add(&t4, &p1.x, &p1.z)
	f.add(&t5, &p2.x, &p2.z)
	f.mul(&t4, &t4, &t5)
	f.add(&t5, &t0, &t2)
	f.sub(&t4, &t4, &t5)
	f.add(&t5, &p1.y, &p1.z)
	f.add(&x3, &p2.y, &p2.z)
	f.mul(&t5, &t5, &x3)
	f.add(&x3, &t1, &t2)
	f.sub(&t5, &t5, &x3)
	c.projAddTail(r, &t0, &t1, &t2, &t3, &t4, &t5, &x3, &y3, &z3)
}

// projAddMixed sets r = p1 + p2 for an affine p2 (which cannot be the identity).
func (c *Curve) projAddMixed(r, p1 *projPoint, p2 *affinePoint) {
	f := c.fp
	var t0, t1, t2, t3, t4, t5, x3, y3, z3 fe
	f.mul(&t0, &p1.x, &p2.x)
	f.mul(&t1, &p1.y, &p2.y)
	t2 = p1.z
	f.add(&t3, &p1.x, &p1.y)
	f.add(&t4, &p2.x, &p2.y)
	f.mul(&t3, &t3, &t4)
	f.add(&t4, &t0, &t1)
	f.sub(&t3, &t3, &t4)
	f.mul(&t4, &p2.x, &p1.z)
	f.add(&t4, &t4, &p1.x)
	f.mul(&t5, &p2.y, &p1.z)
	f.add(&t5, &t5, &p1.y)
	c.projAddTail(r, &t0, &t1, &t2, &t3, &t4, &t5, &x3, &y3, &z3)
}

// projAddMixedMinus3 is projAddMixed for a = -3 (RCB algorithm 5): 11M + 2 m_b
// instead of 11M + 3 m_a + 2 m_3b.
func (c *Curve) projAddMixedMinus3(r, p1 *projPoint, p2 *affinePoint) {
	f := c.fp
	var t0, t1, t2, t3, t4, x3, y3, z3 fe
	f.mul(&t0, &p1.x, &p2.x)
	f.mul(&t1, &p1.y, &p2.y)
	f.add(&t3, &p2.x, &p2.y)
	f.add(&t4, &p1.x, &p1.y)
	f.mul(&t3, &t3, &t4)
	f.add(&t4, &t0, &t1)
	f.sub(&t3, &t3, &t4) // X1Y2 + X2Y1
	f.mul(&t4, &p2.y, &p1.z)
	f.add(&t4, &t4, &p1.y) // Y1 + Y2Z1
	f.mul(&y3, &p2.x, &p1.z)
	f.add(&y3, &y3, &p1.x) // X1 + X2Z1
	t2 = p1.z
	f.mul(&z3, &c.bM, &t2)
	f.sub(&x3, &y3, &z3)
	f.add(&z3, &x3, &x3)
	f.add(&x3, &x3, &z3)
	f.sub(&z3, &t1, &x3)
	f.add(&x3, &t1, &x3)
	f.mul(&y3, &c.bM, &y3)
	f.add(&t1, &t2, &t2)
	f.add(&t2, &t1, &t2)
	f.sub(&y3, &y3, &t2)
	f.sub(&y3, &y3, &t0)
	f.add(&t1, &y3, &y3)
	f.add(&y3, &t1, &y3)
	f.add(&t1, &t0, &t0)
	f.add(&t0, &t1, &t0)
	f.sub(&t0, &t0, &t2)
	f.mul(&t1, &t4, &y3)
	f.mul(&t2, &t0, &y3)
	f.mul(&y3, &x3, &z3)
	f.add(&y3, &y3, &t2)
	f.mul(&x3, &t3, &x3)
	f.sub(&x3, &x3, &t1)
	f.mul(&z3, &t4, &z3)
	f.mul(&t1, &t3, &t0)
	f.add(&z3, &z3, &t1)
	r.x, r.y, r.z = x3, y3, z3
}

// projAddTail is the part of RCB algorithm 1 shared by the full and the mixed addition.
func (c *Curve) projAddTail(r *projPoint, t0, t1, t2, t3, t4, t5, x3, y3, z3 *fe) {
	f := c.fp
	f.mul(z3, &c.aM, t4)
	f.mul(x3, &c.b3M, t2)
	f.add(z3, x3, z3)
	f.sub(x3, t1, z3)
	f.add(z3, t1, z3)
	f.mul(y3, x3, z3)
	f.add(t1, t0, t0)
	f.add(t1, t1, t0)
	f.mul(t2, &c.aM, t2)
	f.mul(t4, &c.b3M, t4)
	f.add(t1, t1, t2)
	f.sub(t2, t0, t2)
	f.mul(t2, &c.aM, t2)
	f.add(t4, t4, t2)
	f.mul(t0, t1, t4)
	f.add(y3, y3, t0)
	f.mul(t0, t5, t4)
	f.mul(x3, t3, x3)
	f.sub(x3, x3, t0)
	f.mul(t0, t3, t1)
	f.mul(z3, t5, z3)
	f.add(z3, z3, t0)
	r.x, r.y, r.z = *x3, *y3, *z3
}

// projToAffine returns x and y of p (both zero for the identity).
func (c *Curve) projToAffine(p *projPoint) (x, y fe) {
	var zi fe
	c.fp.inv(&zi, &p.z)
	c.fp.mul(&x, &p.x, &zi)
	c.fp.mul(&y, &p.y, &zi)
	return x, y
}

// Fixed-base multiplication by G uses signed radix-2^6 digits of the scalar: 43 digits
// d_i in [-32, 31], k = sum d_i 2^(6i), and a table of j*2^(6i)*G for j = 1..32, so k*G
// costs 43 mixed additions and no doublings.
const (
	baseWindow  = 6
	baseDigits  = 43 // ceil(257/6): 256-bit scalars plus the final carry
	baseEntries = 1 << (baseWindow - 1)
)

type baseTable [baseDigits][baseEntries]affinePoint

// baseTable returns the curve's fixed-base table, building it on first use.
func (c *Curve) baseTable() *baseTable {
	c.tableOnce.Do(func() { c.table = c.buildBaseTable() })
	return c.table
}

func (c *Curve) buildBaseTable() *baseTable { return c.buildTable(&c.g) }

// buildTable returns the signed radix-2^6 table of P (j*2^(6i)*P, j = 1..32) for a point
// of the odd-order subgroup.
func (c *Curve) buildTable(P *affinePoint) *baseTable {
	f := c.fp
	const n = baseDigits * baseEntries
	pts := make([]projPoint, n)
	base := projPoint{x: P.x, y: P.y, z: f.one}
	for i := 0; i < baseDigits; i++ {
		row := pts[i*baseEntries : (i+1)*baseEntries]
		row[0] = base
		for j := 1; j < baseEntries; j++ {
			c.projAdd(&row[j], &row[j-1], &base)
		}
		c.projAdd(&base, &row[baseEntries-1], &row[baseEntries-1]) // 64 * base
	}
	// Convert to affine with a single inversion.
	zs := make([]fe, n)
	for i := range pts {
		zs[i] = pts[i].z
	}
	f.batchInv(zs)
	t := new(baseTable)
	for i := range pts {
		e := &t[i/baseEntries][i%baseEntries]
		f.mul(&e.x, &pts[i].x, &zs[i])
		f.mul(&e.y, &pts[i].y, &zs[i])
	}
	return t
}

// recodeBase writes the signed radix-2^6 digits of k (k < 2^256, plain limbs) without
// branching on k.
func recodeBase(k *fe, digits *[baseDigits]int8) {
	var carry uint64
	for i := 0; i < baseDigits; i++ {
		pos := baseWindow * i
		limb, off := pos/64, uint(pos%64)
		v := k[limb] >> off
		if off > 64-baseWindow && limb+1 < 4 { // depends on the position only
			v |= k[limb+1] << (64 - off)
		}
		v = v&(1<<baseWindow-1) + carry
		carry = (v + baseEntries) >> baseWindow
		digits[i] = int8(int64(v) - int64(carry<<baseWindow))
	}
}

// scalarBaseMult returns k*G in projective coordinates for a secret k < 2^256, in time
// independent of k: every digit scans its whole table row and adds, and a zero digit
// discards the sum by a masked select.
func (c *Curve) scalarBaseMult(k *fe) projPoint {
	f := c.fp
	t := c.baseTable()
	var digits [baseDigits]int8
	recodeBase(k, &digits)
	acc := c.projIdentity()
	for i := 0; i < baseDigits; i++ {
		d := int64(digits[i])
		sign := uint64(d) >> 63
		abs := uint64((d ^ -int64(sign)) + int64(sign))
		var sel affinePoint
		row := &t[i]
		for j := 0; j < baseEntries; j++ {
			hit := ctEq(uint64(j+1), abs)
			sel.x.sel(&row[j].x, &sel.x, hit)
			sel.y.sel(&row[j].y, &sel.y, hit)
		}
		var ny fe
		f.neg(&ny, &sel.y)
		sel.y.sel(&ny, &sel.y, sign)
		var sum projPoint
		if c.aIsMinus3 {
			c.projAddMixedMinus3(&sum, &acc, &sel)
		} else {
			c.projAddMixed(&sum, &acc, &sel)
		}
		keep := ctEq(abs, 0)
		acc.x.sel(&acc.x, &sum.x, keep)
		acc.y.sel(&acc.y, &sum.y, keep)
		acc.z.sel(&acc.z, &sum.z, keep)
	}
	return acc
}

// ctEq returns 1 if a == b and 0 otherwise, without branching.
func ctEq(a, b uint64) uint64 {
	v := a ^ b
	return ((v | -v) >> 63) ^ 1
}

// jacDouble sets r = 2p (variable time).
func (c *Curve) jacDouble(r, p *jacPoint) {
	f := c.fp
	if c.aIsMinus3 {
		var delta, gamma, beta, alpha, t, u fe
		f.sqr(&delta, &p.z)
		f.sqr(&gamma, &p.y)
		f.mul(&beta, &p.x, &gamma)
		f.sub(&t, &p.x, &delta)
		f.add(&u, &p.x, &delta)
		f.mul(&alpha, &t, &u)
		f.add(&t, &alpha, &alpha)
		f.add(&alpha, &alpha, &t)
		// Z3 = (Y+Z)^2 - gamma - delta
		f.add(&t, &p.y, &p.z)
		f.sqr(&t, &t)
		f.sub(&t, &t, &gamma)
		f.sub(&r.z, &t, &delta)
		// X3 = alpha^2 - 8 beta
		f.add(&beta, &beta, &beta)
		f.add(&beta, &beta, &beta) // 4 beta
		f.add(&u, &beta, &beta)    // 8 beta
		f.sqr(&t, &alpha)
		f.sub(&r.x, &t, &u)
		// Y3 = alpha (4 beta - X3) - 8 gamma^2
		f.sub(&t, &beta, &r.x)
		f.mul(&t, &alpha, &t)
		f.sqr(&gamma, &gamma)
		f.add(&gamma, &gamma, &gamma)
		f.add(&gamma, &gamma, &gamma)
		f.add(&gamma, &gamma, &gamma)
		f.sub(&r.y, &t, &gamma)
		return
	}
	var xx, yy, yyyy, zz, s, m, t fe
	f.sqr(&xx, &p.x)
	f.sqr(&yy, &p.y)
	f.sqr(&yyyy, &yy)
	f.sqr(&zz, &p.z)
	f.add(&s, &p.x, &yy)
	f.sqr(&s, &s)
	f.sub(&s, &s, &xx)
	f.sub(&s, &s, &yyyy)
	f.add(&s, &s, &s)
	f.sqr(&t, &zz)
	f.mul(&m, &c.aM, &t)
	f.add(&m, &m, &xx)
	f.add(&m, &m, &xx)
	f.add(&m, &m, &xx)
	// Z3 = (Y+Z)^2 - YY - ZZ
	f.add(&t, &p.y, &p.z)
	f.sqr(&t, &t)
	f.sub(&t, &t, &yy)
	f.sub(&r.z, &t, &zz)
	// X3 = M^2 - 2S
	f.sqr(&t, &m)
	f.sub(&t, &t, &s)
	f.sub(&r.x, &t, &s)
	// Y3 = M (S - X3) - 8 YYYY
	f.sub(&t, &s, &r.x)
	f.mul(&t, &m, &t)
	f.add(&yyyy, &yyyy, &yyyy)
	f.add(&yyyy, &yyyy, &yyyy)
	f.add(&yyyy, &yyyy, &yyyy)
	f.sub(&r.y, &t, &yyyy)
}

// jacDoubleW doubles p in place for a general a, with w = a*Z^4 carried along and updated
// (modified Jacobian coordinates, Cohen-Miyaji-Ono): 4M + 4S instead of 2M + 8S.
func (c *Curve) jacDoubleW(p *jacPoint, w *fe) {
	f := c.fp
	var xx, yy, u, s, m, t fe
	f.sqr(&xx, &p.x)
	f.sqr(&yy, &p.y)
	f.sqr(&u, &yy)
	f.add(&u, &u, &u)
	f.add(&u, &u, &u)
	f.add(&u, &u, &u) // U = 8 Y^4
	f.mul(&s, &p.x, &yy)
	f.add(&s, &s, &s)
	f.add(&s, &s, &s) // S = 4 X Y^2
	f.add(&m, &xx, &xx)
	f.add(&m, &m, &xx)
	f.add(&m, &m, w) // M = 3 X^2 + a Z^4
	f.mul(&p.z, &p.y, &p.z)
	f.add(&p.z, &p.z, &p.z) // Z3 = 2 Y Z
	f.sqr(&t, &m)
	f.sub(&t, &t, &s)
	f.sub(&p.x, &t, &s) // X3 = M^2 - 2S
	f.sub(&t, &s, &p.x)
	f.mul(&t, &m, &t)
	f.sub(&p.y, &t, &u) // Y3 = M (S - X3) - U
	f.mul(w, w, &u)
	f.add(w, w, w) // W3 = a (2YZ)^4 = 2 U W
}

// jacAdd sets r = p + q (variable time, all cases).
func (c *Curve) jacAdd(r, p, q *jacPoint) {
	f := c.fp
	if p.z.isZero() == 1 {
		*r = *q
		return
	}
	if q.z.isZero() == 1 {
		*r = *p
		return
	}
	var z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t fe
	f.sqr(&z1z1, &p.z)
	f.sqr(&z2z2, &q.z)
	f.mul(&u1, &p.x, &z2z2)
	f.mul(&u2, &q.x, &z1z1)
	f.mul(&s1, &p.y, &q.z)
	f.mul(&s1, &s1, &z2z2)
	f.mul(&s2, &q.y, &p.z)
	f.mul(&s2, &s2, &z1z1)
	f.sub(&h, &u2, &u1)
	f.sub(&rr, &s2, &s1)
	if h.isZero() == 1 {
		if rr.isZero() == 1 {
			c.jacDouble(r, p)
			return
		}
		*r = jacPoint{}
		return
	}
	f.add(&rr, &rr, &rr)
	f.add(&i, &h, &h)
	f.sqr(&i, &i)
	f.mul(&j, &h, &i)
	f.mul(&v, &u1, &i)
	// Z3 = ((Z1+Z2)^2 - Z1Z1 - Z2Z2) H
	f.add(&t, &p.z, &q.z)
	f.sqr(&t, &t)
	f.sub(&t, &t, &z1z1)
	f.sub(&t, &t, &z2z2)
	f.mul(&r.z, &t, &h)
	// X3 = r^2 - J - 2V
	f.sqr(&t, &rr)
	f.sub(&t, &t, &j)
	f.sub(&t, &t, &v)
	f.sub(&t, &t, &v)
	// Y3 = r (V - X3) - 2 S1 J
	f.sub(&v, &v, &t)
	r.x = t
	f.mul(&v, &rr, &v)
	f.mul(&s1, &s1, &j)
	f.add(&s1, &s1, &s1)
	f.sub(&r.y, &v, &s1)
}

// jacAddAffine sets r = p + q for an affine q (variable time, all cases).
func (c *Curve) jacAddAffine(r, p *jacPoint, q *affinePoint) {
	f := c.fp
	if p.z.isZero() == 1 {
		r.x, r.y, r.z = q.x, q.y, f.one
		return
	}
	var z1z1, u2, s2, h, hh, i, j, rr, v, t fe
	f.sqr(&z1z1, &p.z)
	f.mul(&u2, &q.x, &z1z1)
	f.mul(&s2, &q.y, &p.z)
	f.mul(&s2, &s2, &z1z1)
	f.sub(&h, &u2, &p.x)
	f.sub(&rr, &s2, &p.y)
	if h.isZero() == 1 {
		if rr.isZero() == 1 {
			c.jacDouble(r, p)
			return
		}
		*r = jacPoint{}
		return
	}
	f.add(&rr, &rr, &rr)
	f.sqr(&hh, &h)
	f.add(&i, &hh, &hh)
	f.add(&i, &i, &i)
	f.mul(&j, &h, &i)
	f.mul(&v, &p.x, &i)
	// Z3 = (Z1+H)^2 - Z1Z1 - HH
	f.add(&t, &p.z, &h)
	f.sqr(&t, &t)
	f.sub(&t, &t, &z1z1)
	f.sub(&r.z, &t, &hh)
	y1 := p.y
	// X3 = r^2 - J - 2V
	f.sqr(&t, &rr)
	f.sub(&t, &t, &j)
	f.sub(&t, &t, &v)
	f.sub(&t, &t, &v)
	// Y3 = r (V - X3) - 2 Y1 J
	f.sub(&v, &v, &t)
	r.x = t
	f.mul(&v, &rr, &v)
	f.mul(&y1, &y1, &j)
	f.add(&y1, &y1, &y1)
	f.sub(&r.y, &v, &y1)
}

func (c *Curve) jacNeg(r, p *jacPoint) {
	r.x, r.z = p.x, p.z
	c.fp.neg(&r.y, &p.y)
}

// wnaf writes the width-5 non-adjacent form of k (k < 2^256 - 16): odd digits in
// [-15, 15], at most one non-zero among any 5 consecutive. Variable time: public k only.
func wnaf(k *fe, out *[257]int8) int {
	v := *k
	n := 0
	for v[0]|v[1]|v[2]|v[3] != 0 {
		var d int64
		if v[0]&1 == 1 {
			d = int64(v[0] & 31)
			if d >= 16 {
				d -= 32
			}
			if d > 0 {
				subSmall(&v, uint64(d))
			} else {
				addSmall(&v, uint64(-d))
			}
		}
		out[n] = int8(d)
		n++
		v[0] = v[0]>>1 | v[1]<<63
		v[1] = v[1]>>1 | v[2]<<63
		v[2] = v[2]>>1 | v[3]<<63
		v[3] >>= 1
	}
	return n
}

func addSmall(v *fe, d uint64) {
	var c uint64
	v[0], c = addc(v[0], d, 0)
	v[1], c = addc(v[1], 0, c)
	v[2], c = addc(v[2], 0, c)
	v[3], _ = addc(v[3], 0, c)
}

func subSmall(v *fe, d uint64) {
	var b uint64
	v[0], b = subb(v[0], d, 0)
	v[1], b = subb(v[1], 0, b)
	v[2], b = subb(v[2], 0, b)
	v[3], _ = subb(v[3], 0, b)
}

// doubleScalarMult returns z1*G + z2*Q in Jacobian coordinates (variable time, for
// verification): z2*Q by a width-5 NAF with shared doublings, z1*G from the fixed-base
// table, whose entries need no doublings and are added at the end.
func (c *Curve) doubleScalarMult(z1, z2 *fe, q *affinePoint) jacPoint {
	var odd [8]jacPoint // Q, 3Q, 5Q, ..., 15Q
	odd[0] = jacPoint{x: q.x, y: q.y, z: c.fp.one}
	var q2 jacPoint
	c.jacDouble(&q2, &odd[0])
	for i := 1; i < 8; i++ {
		c.jacAdd(&odd[i], &odd[i-1], &q2)
	}
	var naf [257]int8
	n := wnaf(z2, &naf)
	var acc jacPoint
	var w fe // a*Z^4 of acc, kept only when a != -3 (modified Jacobian coordinates)
	for i := n - 1; i >= 0; i-- {
		if acc.z.isZero() == 0 {
			if c.aIsMinus3 {
				c.jacDouble(&acc, &acc)
			} else {
				c.jacDoubleW(&acc, &w)
			}
		}
		d := naf[i]
		if d == 0 {
			continue
		}
		if d > 0 {
			c.jacAdd(&acc, &acc, &odd[d/2])
		} else {
			var neg jacPoint
			c.jacNeg(&neg, &odd[-d/2])
			c.jacAdd(&acc, &acc, &neg)
		}
		if !c.aIsMinus3 {
			c.fp.sqr(&w, &acc.z)
			c.fp.sqr(&w, &w)
			c.fp.mul(&w, &w, &c.aM)
		}
	}
	if z1.isZero() == 0 {
		c.addTableMult(&acc, c.baseTable(), z1)
	}
	return acc
}

// baseMultAffine returns k*G in affine coordinates (Montgomery form) for a secret k,
// in constant time, on the Edwards form where the curve has one.
func (c *Curve) baseMultAffine(k *fe) (x, y fe) {
	if c.ed != nil {
		P := c.edScalarBaseMult(k)
		return c.edToWeierstrass(&P)
	}
	P := c.scalarBaseMult(k)
	return c.projToAffine(&P)
}

// doubleTableMult returns z1*G + z2*Q with Q's own table (see PublicKey's cache): 86
// mixed additions and no doublings.
func (c *Curve) doubleTableMult(z1, z2 *fe, tq *baseTable) jacPoint {
	var acc jacPoint
	c.addTableMult(&acc, c.baseTable(), z1)
	c.addTableMult(&acc, tq, z2)
	return acc
}

// addTableMult adds k*P to acc, t being P's table (variable time: public k only).
func (c *Curve) addTableMult(acc *jacPoint, t *baseTable, k *fe) {
	var digits [baseDigits]int8
	recodeBase(k, &digits)
	for i, d := range digits {
		switch {
		case d > 0:
			c.jacAddAffine(acc, acc, &t[i][d-1])
		case d < 0:
			p := t[i][-d-1]
			c.fp.neg(&p.y, &p.y)
			c.jacAddAffine(acc, acc, &p)
		}
	}
}

// jacXModQEquals reports whether x(P) mod q == r for a finite P, without inverting Z:
// x = X/Z^2 < p, so x mod q == r means x == r + i*q for some i with r + i*q < p.
func (c *Curve) jacXModQEquals(P *jacPoint, r *fe) bool {
	f := c.fp
	var zz fe
	f.sqr(&zz, &P.z)
	cand := *r // plain r < q
	for {
		if !feLess(&cand, &f.m) {
			return false
		}
		var cm, t fe
		f.toMont(&cm, &cand)
		f.mul(&t, &cm, &zz)
		if t.equal(&P.x) == 1 {
			return true
		}
		var carry uint64
		cand[0], carry = addc(cand[0], c.fq.m[0], 0)
		cand[1], carry = addc(cand[1], c.fq.m[1], carry)
		cand[2], carry = addc(cand[2], c.fq.m[2], carry)
		cand[3], carry = addc(cand[3], c.fq.m[3], carry)
		if carry != 0 {
			return false
		}
	}
}

// jacEqual reports whether P equals the finite point Q (variable time).
func (c *Curve) jacEqual(P, Q *jacPoint) bool {
	f := c.fp
	if P.z.isZero() == 1 || Q.z.isZero() == 1 {
		return P.z.isZero() == Q.z.isZero()
	}
	var z1z1, z2z2, a, b fe
	f.sqr(&z1z1, &P.z)
	f.sqr(&z2z2, &Q.z)
	f.mul(&a, &P.x, &z2z2)
	f.mul(&b, &Q.x, &z1z1)
	if a.equal(&b) != 1 {
		return false
	}
	f.mul(&a, &P.y, &z2z2)
	f.mul(&a, &a, &Q.z)
	f.mul(&b, &Q.y, &z1z1)
	f.mul(&b, &b, &P.z)
	return a.equal(&b) == 1
}
