package gost

import (
	"crypto/rand"
	"runtime"
	"testing"
)

// loopCPU runs fn in b.Loop and also reports thread CPU time per operation (cpu-ns/op,
// Linux only): the machine is shared, and CPU time is far less disturbed by other
// processes than wall time. scripts/bench-gost.sh compares it with OpenSSL's.
func loopCPU(b *testing.B, fn func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPUTime()
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	if cpu := threadCPUTime() - start; cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu)/float64(n), "cpu-ns/op")
	}
}

func BenchmarkStreebog256(b *testing.B) {
	for _, size := range []int{64, 1024, 8192} {
		b.Run(itoa(size), func(b *testing.B) {
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			loopCPU(b, func() { Sum256(buf) })
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
			loopCPU(b, func() {
				if _, err := Sign(rand.Reader, priv, digest[:]); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkVerify is a one-shot verification (a key without cache), comparable with
// OpenSSL's EVP_PKEY_verify.
func BenchmarkVerify(b *testing.B) { benchVerify(b, false) }

// BenchmarkVerifyCached verifies repeatedly with one key, as the broker does with ESIA's
// keys: the key's precomputed table is used.
func BenchmarkVerifyCached(b *testing.B) { benchVerify(b, true) }

func benchVerify(b *testing.B, cached bool) {
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
			pub := &PublicKey{Curve: priv.Curve, X: priv.X, Y: priv.Y}
			if cached {
				pub = &priv.PublicKey
				for i := 0; i < verifyTableAfter; i++ {
					Verify(pub, digest[:], sig) // build the table outside the timing
				}
			}
			b.ReportAllocs()
			loopCPU(b, func() {
				if !Verify(pub, digest[:], sig) {
					b.Fatal("verify failed")
				}
			})
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
