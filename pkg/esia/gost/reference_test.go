package gost

import "math/big"

// The reference implementation: textbook affine arithmetic with math/big, written
// straight from GOST R 34.10-2012 (RFC 7091 sections 5-6). It is slow and
// variable-time and serves only as a test oracle for the fast code.

type refPoint struct {
	x, y *big.Int // nil x: the point at infinity
}

func (p refPoint) inf() bool { return p.x == nil }

func refAdd(c *Curve, p1, p2 refPoint) refPoint {
	if p1.inf() {
		return p2
	}
	if p2.inf() {
		return p1
	}
	P := c.p
	var lambda *big.Int
	if p1.x.Cmp(p2.x) == 0 {
		sum := new(big.Int).Add(p1.y, p2.y)
		if sum.Mod(sum, P).Sign() == 0 {
			return refPoint{}
		}
		num := new(big.Int).Mul(p1.x, p1.x)
		num.Mul(num, big.NewInt(3)).Add(num, c.a)
		den := new(big.Int).Lsh(p1.y, 1)
		lambda = num.Mul(num, den.ModInverse(den.Mod(den, P), P))
	} else {
		num := new(big.Int).Sub(p2.y, p1.y)
		den := new(big.Int).Sub(p2.x, p1.x)
		lambda = num.Mul(num, den.ModInverse(den.Mod(den, P), P))
	}
	lambda.Mod(lambda, P)
	x3 := new(big.Int).Mul(lambda, lambda)
	x3.Sub(x3, p1.x).Sub(x3, p2.x).Mod(x3, P)
	y3 := new(big.Int).Sub(p1.x, x3)
	y3.Mul(y3, lambda).Sub(y3, p1.y).Mod(y3, P)
	return refPoint{x3, y3}
}

func refMul(c *Curve, p refPoint, k *big.Int) refPoint {
	r := refPoint{}
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = refAdd(c, r, r)
		if k.Bit(i) == 1 {
			r = refAdd(c, r, p)
		}
	}
	return r
}

func refG(c *Curve) refPoint { return refPoint{c.gx, c.gy} }

func refOnCurve(c *Curve, p refPoint) bool {
	l := new(big.Int).Mul(p.y, p.y)
	r := new(big.Int).Mul(p.x, p.x)
	r.Add(r, c.a).Mul(r, p.x).Add(r, c.b)
	return l.Sub(l, r).Mod(l, c.p).Sign() == 0
}

// refE is e = alpha mod q, with e = 1 when that is zero (RFC 7091 section 6.1 step 2).
func refE(c *Curve, alpha *big.Int) *big.Int {
	e := new(big.Int).Mod(alpha, c.q)
	if e.Sign() == 0 {
		e.SetInt64(1)
	}
	return e
}

// refSign returns (r, s) for digest number alpha, key d and nonce k, or nils when r or s is 0.
func refSign(c *Curve, d, alpha, k *big.Int) (r, s *big.Int) {
	e := refE(c, alpha)
	C := refMul(c, refG(c), k)
	r = new(big.Int).Mod(C.x, c.q)
	if r.Sign() == 0 {
		return nil, nil
	}
	s = new(big.Int).Mul(r, d)
	s.Add(s, new(big.Int).Mul(k, e)).Mod(s, c.q)
	if s.Sign() == 0 {
		return nil, nil
	}
	return r, s
}

func refVerify(c *Curve, Q refPoint, alpha, r, s *big.Int) bool {
	if r.Sign() <= 0 || r.Cmp(c.q) >= 0 || s.Sign() <= 0 || s.Cmp(c.q) >= 0 {
		return false
	}
	e := refE(c, alpha)
	v := new(big.Int).ModInverse(e, c.q)
	z1 := new(big.Int).Mul(s, v)
	z1.Mod(z1, c.q)
	z2 := new(big.Int).Mul(r, v)
	z2.Neg(z2).Mod(z2, c.q)
	C := refAdd(c, refMul(c, refG(c), z1), refMul(c, Q, z2))
	if C.inf() {
		return false
	}
	R := new(big.Int).Mod(C.x, c.q)
	return R.Cmp(r) == 0
}

// leInt reads b as a little-endian number, the way the gost engine reads digests and keys.
func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}
