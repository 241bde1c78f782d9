package gost

import (
	"crypto/rand"
	"testing"
)

func BenchmarkStreebog256(b *testing.B) {
	for _, size := range []int{64, 1024, 8192} {
		b.Run(itoa(size), func(b *testing.B) {
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				Sum256(buf)
			}
		})
	}
}

func BenchmarkStreebog512(b *testing.B) {
	buf := make([]byte, 8192)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		Sum512(buf)
	}
}

// benchCurves names the curves as the gost engine's paramsets do, so scripts/bench-gost.sh
// can line the figures up with openssl's.
var benchCurves = []struct {
	name  string
	curve *Curve
}{
	{"TCA", tc26A}, {"CryptoPro-A", cryptoProA}, {"CryptoPro-B", cryptoProB}, {"CryptoPro-C", cryptoProC},
}

func BenchmarkSign(b *testing.B) {
	for _, bc := range benchCurves {
		b.Run(bc.name, func(b *testing.B) {
			priv, err := GenerateKey(bc.curve, rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			digest := Sum256([]byte("benchmark"))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(rand.Reader, priv, digest[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, bc := range benchCurves {
		b.Run(bc.name, func(b *testing.B) {
			priv, err := GenerateKey(bc.curve, rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			digest := Sum256([]byte("benchmark"))
			sig, err := Sign(rand.Reader, priv, digest[:])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if !Verify(&priv.PublicKey, digest[:], sig) {
					b.Fatal("verify failed")
				}
			}
		})
	}
}

func BenchmarkGenerateKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GenerateKey(cryptoProA, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFieldMul(b *testing.B) {
	f := cryptoProA.fp
	x, y := cryptoProA.g.x, cryptoProA.g.y
	for b.Loop() {
		f.mul(&x, &x, &y)
	}
}
