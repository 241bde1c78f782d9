package gost

import "math/big"

// tc26 set A is defined (RFC 7836 appendix A.2) as the twisted Edwards curve
// e*u^2 + v^2 = 1 + d*u^2*v^2 with e = 1, birationally equivalent to the Weierstrass
// curve of its parameter set through
//
//	x = s(1+v)/(1-v) + t,  y = s(1+v)/((1-v)u),  u = (x-t)/y,  v = (x-t-s)/(x-t+s),
//
// s = (e-d)/4, t = (e+d)/6. Keys, signatures and encodings stay Weierstrass; the
// arithmetic runs on the Edwards form, in extended coordinates (X:Y:Z:T), u = X/Z,
// v = Y/Z, uv = T/Z (Hisil, Wong, Carter, Dawson 2008). With e = 1 a square and d a
// non-square the addition law is complete on the whole curve, so the same formulas serve
// constant-time signing and verification, and doubling costs 3M+4S instead of 4M+4S.
type edwardsParams struct {
	d, s, t fe // Montgomery form
	g       edAffine
}

type edPoint struct{ x, y, z, t fe }

// edAffine is a table entry: u, v and d*u*v, so that a mixed addition costs 8M.
type edAffine struct{ x, y, dxy fe }

// edCached is a point prepared for repeated full additions: d*T precomputed.
type edCached struct{ x, y, z, dt fe }

func newEdwards(c *Curve, dHex, uHex, vHex string) *edwardsParams {
	f := c.fp
	d := mustHex(dHex)
	p := c.p
	inv := func(v int64) *big.Int { return new(big.Int).ModInverse(big.NewInt(v), p) }
	s := new(big.Int).Sub(big.NewInt(1), d)
	s.Mul(s, inv(4)).Mod(s, p)
	t := new(big.Int).Add(big.NewInt(1), d)
	t.Mul(t, inv(6)).Mod(t, p)
	e := &edwardsParams{d: f.fromBig(d), s: f.fromBig(s), t: f.fromBig(t)}
	u, v := f.fromBig(mustHex(uHex)), f.fromBig(mustHex(vHex))
	e.g = edAffine{x: u, y: v}
	f.mul(&e.g.dxy, &u, &v)
	f.mul(&e.g.dxy, &e.g.dxy, &e.d)
	return e
}

func (c *Curve) edIdentity() edPoint { return edPoint{y: c.fp.one, z: c.fp.one} }

// edDouble sets r = 2p. T3 is computed only when withT is set (a doubling followed by
// another doubling does not need it). dbl-2008-hwcd with a = 1.
func (c *Curve) edDouble(r, p *edPoint, withT bool) {
	f := c.fp
	var a, b, cc, e, g, h, ff fe
	f.sqr(&a, &p.x)
	f.sqr(&b, &p.y)
	f.sqr(&cc, &p.z)
	f.add(&cc, &cc, &cc)
	f.add(&e, &p.x, &p.y)
	f.sqr(&e, &e)
	f.sub(&e, &e, &a)
	f.sub(&e, &e, &b) // E = 2XY
	f.add(&g, &a, &b) // G = A + B
	f.sub(&ff, &g, &cc)
	f.sub(&h, &a, &b) // H = A - B
	f.mul(&r.x, &e, &ff)
	f.mul(&r.y, &g, &h)
	if withT {
		f.mul(&r.t, &e, &h)
	}
	f.mul(&r.z, &ff, &g)
}

// edAddTail finishes an addition from A = X1X2, B = Y1Y2, C = d T1T2, D = Z1Z2 and
// E = X1Y2 + Y1X2 (add-2008-hwcd with a = 1).
func (c *Curve) edAddTail(r *edPoint, a, b, cc, d, e *fe) {
	f := c.fp
	var ff, g, h fe
	f.sub(&ff, d, cc)
	f.add(&g, d, cc)
	f.sub(&h, b, a)
	f.mul(&r.x, e, &ff)
	f.mul(&r.y, &g, &h)
	f.mul(&r.t, e, &h)
	f.mul(&r.z, &ff, &g)
}

// edAdd sets r = p + q for a prepared q (complete).
func (c *Curve) edAdd(r, p *edPoint, q *edCached) {
	f := c.fp
	var a, b, cc, d, e, t fe
	f.mul(&a, &p.x, &q.x)
	f.mul(&b, &p.y, &q.y)
	f.mul(&cc, &p.t, &q.dt)
	f.mul(&d, &p.z, &q.z)
	f.add(&e, &p.x, &p.y)
	f.add(&t, &q.x, &q.y)
	f.mul(&e, &e, &t)
	f.sub(&e, &e, &a)
	f.sub(&e, &e, &b)
	c.edAddTail(r, &a, &b, &cc, &d, &e)
}

// edAddAffine sets r = p + q for a table entry q (complete; 8M).
func (c *Curve) edAddAffine(r, p *edPoint, q *edAffine) {
	f := c.fp
	var a, b, cc, e, t fe
	f.mul(&a, &p.x, &q.x)
	f.mul(&b, &p.y, &q.y)
	f.mul(&cc, &p.t, &q.dxy)
	f.add(&e, &p.x, &p.y)
	f.add(&t, &q.x, &q.y)
	f.mul(&e, &e, &t)
	f.sub(&e, &e, &a)
	f.sub(&e, &e, &b)
	d := p.z
	c.edAddTail(r, &a, &b, &cc, &d, &e)
}

func (c *Curve) edCache(p *edPoint) edCached {
	q := edCached{x: p.x, y: p.y, z: p.z}
	c.fp.mul(&q.dt, &p.t, &c.ed.d)
	return q
}

func (c *Curve) edNegCached(q *edCached) edCached {
	n := *q
	c.fp.neg(&n.x, &q.x)
	c.fp.neg(&n.dt, &q.dt)
	return n
}

// edFromWeierstrass maps an affine Weierstrass point (Montgomery form) to extended
// Edwards coordinates without inversion: with w = x - t,
// (X:Y:Z:T) = (w(w+s) : (w-s)y : y(w+s) : w(w-s)). ok is false for the few points the
// map does not reach (y = 0 or w = -s, none of them of order q).
func (c *Curve) edFromWeierstrass(p *affinePoint) (r edPoint, ok bool) {
	f, e := c.fp, c.ed
	var w, wp, wm fe
	f.sub(&w, &p.x, &e.t)
	f.add(&wp, &w, &e.s)
	f.sub(&wm, &w, &e.s)
	f.mul(&r.x, &w, &wp)
	f.mul(&r.y, &wm, &p.y)
	f.mul(&r.z, &p.y, &wp)
	f.mul(&r.t, &w, &wm)
	return r, r.z.isZero() == 0
}

// edToWeierstrass returns the affine Weierstrass coordinates of p (one inversion):
// x = s(Z+Y)/(Z-Y) + t and y = s(Z+Y)Z/((Z-Y)X).
func (c *Curve) edToWeierstrass(p *edPoint) (x, y fe) {
	f, e := c.fp, c.ed
	var zpy, zmy, den, inv, num fe
	f.add(&zpy, &p.z, &p.y)
	f.sub(&zmy, &p.z, &p.y)
	f.mul(&den, &zmy, &p.x)
	f.inv(&inv, &den)
	f.mul(&num, &e.s, &zpy)
	f.mul(&x, &num, &p.x)
	f.mul(&x, &x, &inv)
	f.add(&x, &x, &e.t)
	f.mul(&y, &num, &p.z)
	f.mul(&y, &y, &inv)
	return x, y
}

type edTable [baseDigits][baseEntries]edAffine

// edBuildTable returns j*2^(6i)*P for j = 1..32 as table entries (one inversion).
func (c *Curve) edBuildTable(P *edPoint) *edTable {
	f := c.fp
	const n = baseDigits * baseEntries
	pts := make([]edPoint, n)
	base := *P
	for i := 0; i < baseDigits; i++ {
		row := pts[i*baseEntries : (i+1)*baseEntries]
		row[0] = base
		bc := c.edCache(&base)
		for j := 1; j < baseEntries; j++ {
			c.edAdd(&row[j], &row[j-1], &bc)
		}
		c.edDouble(&base, &row[baseEntries-1], true) // 64 * base
	}
	zs := make([]fe, n)
	for i := range pts {
		zs[i] = pts[i].z
	}
	f.batchInv(zs)
	t := new(edTable)
	for i := range pts {
		e := &t[i/baseEntries][i%baseEntries]
		f.mul(&e.x, &pts[i].x, &zs[i])
		f.mul(&e.y, &pts[i].y, &zs[i])
		f.mul(&e.dxy, &e.x, &e.y)
		f.mul(&e.dxy, &e.dxy, &c.ed.d)
	}
	return t
}

func (c *Curve) edBaseTable() *edTable {
	c.edOnce.Do(func() {
		g := edPoint{x: c.ed.g.x, y: c.ed.g.y, z: c.fp.one}
		c.fp.mul(&g.t, &g.x, &g.y)
		c.edTable = c.edBuildTable(&g)
	})
	return c.edTable
}

// edScalarBaseMult returns k*G for a secret k in time independent of k (full-row scans,
// masked negation and selection, complete formulas).
func (c *Curve) edScalarBaseMult(k *fe) edPoint {
	f := c.fp
	t := c.edBaseTable()
	var digits [baseDigits]int8
	recodeBase(k, &digits)
	acc := c.edIdentity()
	for i := 0; i < baseDigits; i++ {
		d := int64(digits[i])
		sign := uint64(d) >> 63
		abs := uint64((d ^ -int64(sign)) + int64(sign))
		var sel edAffine
		row := &t[i]
		for j := 0; j < baseEntries; j++ {
			hit := ctEq(uint64(j+1), abs)
			sel.x.sel(&row[j].x, &sel.x, hit)
			sel.y.sel(&row[j].y, &sel.y, hit)
			sel.dxy.sel(&row[j].dxy, &sel.dxy, hit)
		}
		var nx, nd fe
		f.neg(&nx, &sel.x)
		f.neg(&nd, &sel.dxy)
		sel.x.sel(&nx, &sel.x, sign)
		sel.dxy.sel(&nd, &sel.dxy, sign)
		var sum edPoint
		c.edAddAffine(&sum, &acc, &sel)
		keep := ctEq(abs, 0)
		acc.x.sel(&acc.x, &sum.x, keep)
		acc.y.sel(&acc.y, &sum.y, keep)
		acc.z.sel(&acc.z, &sum.z, keep)
		acc.t.sel(&acc.t, &sum.t, keep)
	}
	return acc
}

// edAddTableMult adds k*P to acc, t being P's table (variable time: public k only).
func (c *Curve) edAddTableMult(acc *edPoint, t *edTable, k *fe) {
	var digits [baseDigits]int8
	recodeBase(k, &digits)
	for i, d := range digits {
		switch {
		case d > 0:
			c.edAddAffine(acc, acc, &t[i][d-1])
		case d < 0:
			e := t[i][-d-1]
			c.fp.neg(&e.x, &e.x)
			c.fp.neg(&e.dxy, &e.dxy)
			c.edAddAffine(acc, acc, &e)
		}
	}
}

// edDoubleScalarMult returns z1*G + z2*Q (variable time, for verification): z2*Q by a
// width-5 NAF, z1*G from the fixed-base table added at the end.
func (c *Curve) edDoubleScalarMult(z1, z2 *fe, q *edPoint) edPoint {
	var odd [8]edCached
	odd[0] = c.edCache(q)
	var q2, cur edPoint
	c.edDouble(&q2, q, true)
	q2c := c.edCache(&q2)
	cur = *q
	for i := 1; i < 8; i++ {
		c.edAdd(&cur, &cur, &q2c)
		odd[i] = c.edCache(&cur)
	}
	var naf [257]int8
	n := wnaf(z2, &naf)
	acc := c.edIdentity()
	for i := n - 1; i >= 0; i-- {
		// T is needed only when an addition follows.
		c.edDouble(&acc, &acc, naf[i] != 0 || i == 0)
		switch d := naf[i]; {
		case d > 0:
			c.edAdd(&acc, &acc, &odd[d/2])
		case d < 0:
			neg := c.edNegCached(&odd[-d/2])
			c.edAdd(&acc, &acc, &neg)
		}
	}
	c.edAddTableMult(&acc, c.edBaseTable(), z1)
	return acc
}

// edXModQEquals reports whether the Weierstrass x of P, s(Z+Y)/(Z-Y) + t, is congruent
// to r mod q, without inversion. The Edwards points with Z = Y map to the point at
// infinity and never match.
func (c *Curve) edXModQEquals(P *edPoint, r *fe) bool {
	f, e := c.fp, c.ed
	var zpy, zmy, rhs, tz fe
	f.add(&zpy, &P.z, &P.y)
	f.sub(&zmy, &P.z, &P.y)
	if zmy.isZero() == 1 {
		return false
	}
	f.mul(&rhs, &e.s, &zpy)
	f.mul(&tz, &e.t, &zmy)
	f.add(&rhs, &rhs, &tz) // x * (Z-Y)
	cand := *r
	for feLess(&cand, &f.m) {
		var cm, lhs fe
		f.toMont(&cm, &cand)
		f.mul(&lhs, &cm, &zmy)
		if lhs.equal(&rhs) == 1 {
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
	return false
}
