package gost

import (
	"math/big"
	mrand "math/rand/v2"
	"testing"
)

// TestFieldArithmetic checks mul, sqr, add, sub, neg and inv modulo every curve prime and
// order (Montgomery and pseudo-Mersenne variants) against math/big, on random values and
// on the extremes 0, 1, m-1 and values with all-ones limbs.
func TestFieldArithmetic(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(5, 6))
	for _, c := range allCurves() {
		for _, f := range []*field{c.fp, c.fq} {
			m := f.mBig
			edge := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), new(big.Int).Sub(m, big.NewInt(1)),
				new(big.Int).Sub(m, big.NewInt(2)), new(big.Int).Rsh(m, 1), new(big.Int).Lsh(big.NewInt(1), 255)}
			edge[6].Mod(edge[6], m)
			vals := append([]*big.Int{}, edge...)
			for i := 0; i < 200; i++ {
				var x fe
				for j := range x {
					x[j] = rng.Uint64()
				}
				vals = append(vals, new(big.Int).Mod(x.toBig(), m))
			}
			for i, a := range vals {
				b := vals[(i*7+3)%len(vals)]
				am, bm := f.fromBig(a), f.fromBig(b)
				var z fe
				check := func(op string, got *fe, want *big.Int) {
					t.Helper()
					if g := f.toBig(got); g.Cmp(want.Mod(want, m)) != 0 {
						t.Fatalf("mod %X: %s(%X, %X) = %X, want %X", m, op, a, b, g, want)
					}
				}
				f.mul(&z, &am, &bm)
				check("mul", &z, new(big.Int).Mul(a, b))
				f.sqr(&z, &am)
				check("sqr", &z, new(big.Int).Mul(a, a))
				f.add(&z, &am, &bm)
				check("add", &z, new(big.Int).Add(a, b))
				f.sub(&z, &am, &bm)
				check("sub", &z, new(big.Int).Sub(a, b))
				f.neg(&z, &am)
				check("neg", &z, new(big.Int).Neg(a))
				if a.Sign() != 0 {
					f.inv(&z, &am)
					check("inv", &z, new(big.Int).ModInverse(a, m))
				}
			}
			// toMont accepts any 256-bit value, also >= m (digests reduced mod q).
			allOnes := fe{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
			var z fe
			f.toMont(&z, &allOnes)
			if got, want := f.toBig(&z), new(big.Int).Mod(allOnes.toBig(), m); got.Cmp(want) != 0 {
				t.Fatalf("mod %X: toMont(2^256-1) = %X, want %X", m, got, want)
			}
		}
	}
}
