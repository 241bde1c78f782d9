package gost

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"
)

func hexInt(t *testing.T, s string) *big.Int {
	t.Helper()
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		t.Fatalf("bad hex %q", s)
	}
	return v
}

// be32 writes v as a 32-byte big-endian number.
func be32(v *big.Int) []byte { return v.FillBytes(make([]byte, 32)) }

// digestOf returns the digest bytes (OpenSSL order) whose little-endian number is alpha.
func digestOf(alpha *big.Int) []byte { return Reverse(be32(alpha)) }

// fixedReader returns the same bytes on every read: with it Sign uses a chosen nonce.
type fixedReader []byte

func (r fixedReader) Read(p []byte) (int, error) { return copy(p, r), nil }

// TestRFC7091Example is the worked example of RFC 7091 section 7.1 (the test parameter
// set of GOST R 34.10-2001, identical in 2012 for 256-bit keys).
func TestRFC7091Example(t *testing.T) {
	c := testCurve
	d := hexInt(t, "7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28")
	qx := hexInt(t, "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B")
	qy := hexInt(t, "26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA")
	alpha := hexInt(t, "2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5")
	k := hexInt(t, "77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3")
	wantR := hexInt(t, "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493")
	wantS := hexInt(t, "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40")

	priv, err := NewPrivateKey(c, d)
	if err != nil {
		t.Fatal(err)
	}
	if priv.X.Cmp(qx) != 0 || priv.Y.Cmp(qy) != 0 {
		t.Fatalf("public key = (%X, %X), want (%X, %X)", priv.X, priv.Y, qx, qy)
	}
	r, s := refSign(c, d, alpha, k)
	if r.Cmp(wantR) != 0 || s.Cmp(wantS) != 0 {
		t.Fatalf("reference signature (r, s) = (%X, %X)", r, s)
	}
	digest := digestOf(alpha)
	sig, err := Sign(fixedReader(be32(k)), priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	want := append(be32(wantS), be32(wantR)...)
	if !bytes.Equal(sig, want) {
		t.Fatalf("Sign = %x\nwant   %x", sig, want)
	}
	if !Verify(&priv.PublicKey, digest, sig) {
		t.Fatal("Verify rejected the RFC 7091 signature")
	}
	if !refVerify(c, refPoint{qx, qy}, alpha, wantR, wantS) {
		t.Fatal("reference verify rejected the RFC 7091 signature")
	}
	sig[10] ^= 1
	if Verify(&priv.PublicKey, digest, sig) {
		t.Fatal("Verify accepted a modified signature")
	}
}

func allCurves() []*Curve { return append(Curves(), testCurve) }

// TestDifferential compares the fast implementation with the math/big reference on
// random keys, digests and nonces on every curve, including digests that reduce to 0.
func TestDifferential(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for _, c := range allCurves() {
		t.Run(c.Name(), func(t *testing.T) {
			for i := 0; i < 40; i++ {
				d := new(big.Int).Mod(new(big.Int).SetBytes(randBytes(40)), new(big.Int).Sub(c.q, big.NewInt(1)))
				d.Add(d, big.NewInt(1))
				if i == 0 {
					d.Sub(c.q, big.NewInt(1)) // the largest scalar
				}
				priv, err := NewPrivateKey(c, d)
				if err != nil {
					t.Fatal(err)
				}
				Q := refMul(c, refG(c), d)
				if priv.X.Cmp(Q.x) != 0 || priv.Y.Cmp(Q.y) != 0 {
					t.Fatalf("public key mismatch for d=%X", d)
				}
				digest := randBytes(32)
				switch i {
				case 1:
					digest = make([]byte, 32) // alpha = 0: e = 1
				case 2:
					digest = digestOf(c.q) // alpha = q: e = 1
				case 3:
					digest = bytes.Repeat([]byte{0xff}, 32) // alpha > q
				}
				alpha := leInt(digest)
				k := new(big.Int).Mod(new(big.Int).SetBytes(randBytes(40)), c.q)
				if k.Sign() == 0 {
					k.SetInt64(1)
				}
				wr, ws := refSign(c, d, alpha, k)
				sig, err := Sign(fixedReader(be32(k)), priv, digest)
				if err != nil {
					t.Fatal(err)
				}
				if wr == nil {
					continue
				}
				if want := append(be32(ws), be32(wr)...); !bytes.Equal(sig, want) {
					t.Fatalf("signature mismatch\n got %x\nwant %x", sig, want)
				}
				if !Verify(&priv.PublicKey, digest, sig) {
					t.Fatal("Verify rejected a good signature")
				}
				// A random (r, s) must get the same answer from both.
				bad := randBytes(64)
				rr, ss := new(big.Int).SetBytes(bad[32:]), new(big.Int).SetBytes(bad[:32])
				if got, want := Verify(&priv.PublicKey, digest, bad), refVerify(c, Q, alpha, rr, ss); got != want {
					t.Fatalf("Verify(random) = %v, reference %v", got, want)
				}
				other := randBytes(32)
				if Verify(&priv.PublicKey, other, sig) {
					t.Fatal("Verify accepted a signature over another digest")
				}
			}
		})
	}
}

// TestScalarMultEdgeCases checks k*G for small and near-q scalars against the reference.
func TestScalarMultEdgeCases(t *testing.T) {
	for _, c := range allCurves() {
		ks := []*big.Int{big.NewInt(1), big.NewInt(2), big.NewInt(31), big.NewInt(32), big.NewInt(33), big.NewInt(63),
			big.NewInt(64), new(big.Int).Lsh(big.NewInt(1), 252), new(big.Int).Sub(c.q, big.NewInt(2)),
			new(big.Int).Sub(c.q, big.NewInt(1))}
		for _, k := range ks {
			kf := feFromBig(k)
			want := refMul(c, refG(c), k)
			x, y := c.projToAffine(ptr(c.scalarBaseMult(&kf)))
			if c.fp.toBig(&x).Cmp(want.x) != 0 || c.fp.toBig(&y).Cmp(want.y) != 0 {
				t.Errorf("%s: %X*G (Weierstrass) differs from the reference", c.name, k)
			}
			x, y = c.baseMultAffine(&kf) // the Edwards form on tc26-A
			if c.fp.toBig(&x).Cmp(want.x) != 0 || c.fp.toBig(&y).Cmp(want.y) != 0 {
				t.Errorf("%s: %X*G differs from the reference", c.name, k)
			}
		}
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	priv, err := GenerateKey(CryptoProA(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 32)
	sig, err := Sign(rand.Reader, priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	q := CryptoProA().q
	zero := make([]byte, 32)
	tests := []struct {
		name   string
		pub    *PublicKey
		digest []byte
		sig    []byte
	}{
		{"nil key", nil, digest, sig},
		{"no curve", &PublicKey{X: priv.X, Y: priv.Y}, digest, sig},
		{"nil coordinates", &PublicKey{Curve: CryptoProA()}, digest, sig},
		{"point off the curve", &PublicKey{Curve: CryptoProA(), X: priv.X, Y: new(big.Int).Add(priv.Y, big.NewInt(1))}, digest, sig},
		{"coordinate >= p", &PublicKey{Curve: CryptoProA(), X: new(big.Int).Add(priv.X, CryptoProA().p), Y: priv.Y}, digest, sig},
		{"negative coordinate", &PublicKey{Curve: CryptoProA(), X: new(big.Int).Neg(priv.X), Y: priv.Y}, digest, sig},
		{"short digest", &priv.PublicKey, digest[:31], sig},
		{"short signature", &priv.PublicKey, digest, sig[:63]},
		{"long signature", &priv.PublicKey, digest, append(append([]byte{}, sig...), 0)},
		{"r = 0", &priv.PublicKey, digest, append(append([]byte{}, sig[:32]...), zero...)},
		{"s = 0", &priv.PublicKey, digest, append(append([]byte{}, zero...), sig[32:]...)},
		{"r = q", &priv.PublicKey, digest, append(append([]byte{}, sig[:32]...), be32(q)...)},
		{"s = s + q", &priv.PublicKey, digest, append(be32(new(big.Int).Add(new(big.Int).SetBytes(sig[:32]), q).Mod(new(big.Int).Add(new(big.Int).SetBytes(sig[:32]), q), new(big.Int).Lsh(big.NewInt(1), 256))), sig[32:]...)},
		{"wrong curve", &PublicKey{Curve: CryptoProB(), X: priv.X, Y: priv.Y}, digest, sig},
		{"reversed (CryptoPro order)", &priv.PublicKey, digest, Reverse(sig)},
		{"all zero", &priv.PublicKey, digest, make([]byte, 64)},
		{"all ones", &priv.PublicKey, digest, bytes.Repeat([]byte{0xff}, 64)},
	}
	if !Verify(&priv.PublicKey, digest, sig) {
		t.Fatal("good signature rejected")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if Verify(tc.pub, tc.digest, tc.sig) {
				t.Fatal("accepted")
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	priv, err := GenerateKey(TC26A(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		priv   *PrivateKey
		digest []byte
		rand   fixedReader
		want   error
	}{
		{"nil key", nil, make([]byte, 32), nil, ErrInvalidKey},
		{"zero scalar", &PrivateKey{PublicKey: priv.PublicKey, D: big.NewInt(0)}, make([]byte, 32), nil, ErrInvalidKey},
		{"scalar = q", &PrivateKey{PublicKey: priv.PublicKey, D: TC26A().Params().Q}, make([]byte, 32), nil, ErrInvalidKey},
		{"digest of 64 bytes", priv, make([]byte, 64), nil, ErrInvalidDigest},
		{"empty digest", priv, nil, nil, ErrInvalidDigest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Sign(rand.Reader, tc.priv, tc.digest); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("zero nonce source", func(t *testing.T) {
		if _, err := Sign(fixedReader(make([]byte, 32)), priv, make([]byte, 32)); err == nil {
			t.Fatal("a source of zeros produced a signature")
		}
	})
	t.Run("nil random source", func(t *testing.T) {
		if _, err := Sign(nil, priv, make([]byte, 32)); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestCurveByOID(t *testing.T) {
	tests := []struct {
		oid  string
		want *Curve
	}{
		{"1.2.643.7.1.2.1.1.1", TC26A()},
		{"1.2.643.7.1.2.1.1.2", CryptoProA()},
		{"1.2.643.7.1.2.1.1.3", CryptoProB()},
		{"1.2.643.7.1.2.1.1.4", CryptoProC()},
		{"1.2.643.2.2.35.1", CryptoProA()},
		{"1.2.643.2.2.35.2", CryptoProB()},
		{"1.2.643.2.2.35.3", CryptoProC()},
		{"1.2.643.2.2.36.0", CryptoProA()},
		{"1.2.643.2.2.36.1", CryptoProC()},
		{"1.2.643.2.2.35.0", nil},    // test parameter set
		{"1.2.643.7.1.2.1.2.1", nil}, // 512-bit set A
		{"1.2.840.10045.3.1.7", nil}, // P-256
	}
	for _, tc := range tests {
		t.Run(tc.oid, func(t *testing.T) {
			got, err := CurveByOID(mustOID(t, tc.oid))
			if got != tc.want {
				t.Fatalf("CurveByOID = %v, want %v", got, tc.want)
			}
			if tc.want == nil && !errors.Is(err, ErrUnknownCurve) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestReverse(t *testing.T) {
	in := []byte{1, 2, 3}
	if got := Reverse(in); !bytes.Equal(got, []byte{3, 2, 1}) || !bytes.Equal(in, []byte{1, 2, 3}) {
		t.Fatalf("Reverse = %v (input now %v)", got, in)
	}
}

func TestSignMessageRoundTrip(t *testing.T) {
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			priv, err := GenerateKey(c, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("client_id" + "openid" + "2024.01.02 15:04:05 +0300")
			sig, err := SignMessage(rand.Reader, priv, msg)
			if err != nil {
				t.Fatal(err)
			}
			if !VerifyMessage(&priv.PublicKey, msg, sig) {
				t.Fatal("VerifyMessage rejected")
			}
			if VerifyMessage(&priv.PublicKey, append(msg, '!'), sig) {
				t.Fatal("VerifyMessage accepted another message")
			}
			// crypto.Signer
			h := Sum256(msg)
			sig2, err := priv.Sign(rand.Reader, h[:], nil)
			if err != nil || !Verify(priv.Public().(*PublicKey), h[:], sig2) {
				t.Fatalf("crypto.Signer path failed: %v", err)
			}
		})
	}
}

func TestNewPublicKeyChecksSubgroup(t *testing.T) {
	c := TC26A()
	// A point of order 2 on the Weierstrass form: (x, 0) with x^3 + ax + b = 0. Adding it
	// to a valid key leaves the curve's prime-order subgroup.
	priv, err := GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPublicKey(c, priv.X, priv.Y); err != nil {
		t.Fatalf("valid key rejected: %v", err)
	}
	T := findTwoTorsion(t, c)
	P := refAdd(c, refPoint{priv.X, priv.Y}, T)
	if _, err := NewPublicKey(c, P.x, P.y); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("point outside the subgroup accepted: %v", err)
	}
}

// findTwoTorsion finds a root of x^3 + ax + b by brute force over candidate points
// 4*(random point): it returns the point of order 2 that the cofactor-4 curve has.
func findTwoTorsion(t *testing.T, c *Curve) refPoint {
	t.Helper()
	// Take random x until x^3+ax+b is a square; P = (x, y); q*P has order dividing 4.
	for x := big.NewInt(1); x.Cmp(big.NewInt(1000)) < 0; x.Add(x, big.NewInt(1)) {
		rhs := new(big.Int).Mul(x, x)
		rhs.Add(rhs, c.a).Mul(rhs, x).Add(rhs, c.b).Mod(rhs, c.p)
		y := new(big.Int).ModSqrt(rhs, c.p)
		if y == nil {
			continue
		}
		T := refMul(c, refPoint{new(big.Int).Set(x), y}, c.q)
		if T.inf() {
			continue
		}
		T2 := refAdd(c, T, T)
		if T2.inf() {
			return T
		}
		if T4 := refAdd(c, T2, T2); T4.inf() {
			return T2
		}
	}
	t.Fatal("no 2-torsion point found")
	return refPoint{}
}

func TestStructuralConstants(t *testing.T) {
	// Within each group of eight rows of the linear transformation, row i+1 is row i
	// multiplied bytewise by x^-1 in GF(2^8) (reduction constant 0x8e): a check on the
	// transcription of RFC 6986's table.
	for i, row := range linearA {
		if i%8 == 7 {
			continue
		}
		var next uint64
		for b := 0; b < 8; b++ {
			v := byte(row >> (8 * b))
			w := v >> 1
			if v&1 == 1 {
				w ^= 0x8e
			}
			next |= uint64(w) << (8 * b)
		}
		if next != linearA[i+1] {
			t.Errorf("linearA[%d] = %016x, structure predicts %016x", i+1, linearA[i+1], next)
		}
	}
	var seen [256]bool
	for _, v := range pi {
		if seen[v] {
			t.Fatalf("pi is not a permutation: %d twice", v)
		}
		seen[v] = true
	}
	_ = hex.EncodeToString
}

// TestVerifyKeyCache checks the per-key table path against the reference on every curve,
// that keys without a cache (struct literals) verify the same, and that a table is not
// used once X or Y have been changed.
func TestVerifyKeyCache(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 8))
	for _, c := range allCurves() {
		t.Run(c.Name(), func(t *testing.T) {
			priv := mustKey(t, c)
			cached := &priv.PublicKey
			plain := &PublicKey{Curve: c, X: priv.X, Y: priv.Y}
			for i := 0; i < 12; i++ {
				digest := make([]byte, 32)
				for j := range digest {
					digest[j] = byte(rng.Uint32())
				}
				sig, err := Sign(rand.Reader, priv, digest)
				if err != nil {
					t.Fatal(err)
				}
				if i%3 == 2 {
					sig[rng.IntN(64)] ^= 1 << rng.IntN(8)
				}
				want := refVerify(c, refPoint{priv.X, priv.Y}, leInt(digest), new(big.Int).SetBytes(sig[32:]), new(big.Int).SetBytes(sig[:32]))
				if got := Verify(cached, digest, sig); got != want {
					t.Fatalf("cached Verify = %v, reference %v (round %d)", got, want, i)
				}
				if got := Verify(plain, digest, sig); got != want {
					t.Fatalf("uncached Verify = %v, reference %v", got, want)
				}
			}
			if cached.cache.table == nil && cached.cache.edTable == nil {
				t.Fatal("no table was built")
			}
			// Replace the key's coordinates: the old table must not be used.
			other := mustKey(t, c)
			digest := make([]byte, 32)
			oldSig, _ := Sign(rand.Reader, priv, digest)
			newSig, _ := Sign(rand.Reader, other, digest)
			cached.X, cached.Y = other.X, other.Y
			if Verify(cached, digest, oldSig) || !Verify(cached, digest, newSig) {
				t.Fatal("a stale table was used after X, Y changed")
			}
		})
	}
}

// TestVerifyOutsideSubgroup: on tc26-A (cofactor 4) a public key that is not in the
// prime-order subgroup, or is the point of order 2 that the Edwards map does not reach,
// must be handled without panic and agree with the reference.
func TestVerifyOutsideSubgroup(t *testing.T) {
	c := TC26A()
	T := findTwoTorsion(t, c)
	priv := mustKey(t, c)
	P := refAdd(c, refPoint{priv.X, priv.Y}, T)
	digest := make([]byte, 32)
	digest[0] = 1
	sig, err := Sign(rand.Reader, priv, digest)
	if err != nil {
		t.Fatal(err)
	}
	for name, pt := range map[string]refPoint{"order 2": T, "key + order 2": P} {
		t.Run(name, func(t *testing.T) {
			if pt.inf() {
				t.Skip("point at infinity")
			}
			pub := &PublicKey{Curve: c, X: pt.x, Y: pt.y}
			want := refVerify(c, pt, leInt(digest), new(big.Int).SetBytes(sig[32:]), new(big.Int).SetBytes(sig[:32]))
			for i := 0; i < 3; i++ {
				if got := Verify(pub, digest, sig); got != want {
					t.Fatalf("Verify = %v, reference %v", got, want)
				}
			}
			if _, err := NewPublicKey(c, pt.x, pt.y); err == nil {
				t.Fatal("NewPublicKey accepted a point outside the subgroup")
			}
		})
	}
}

// TestConcurrentUse signs and verifies with one key from several goroutines, so that the
// lazily built curve and key tables are raced for (run with -race).
func TestConcurrentUse(t *testing.T) {
	for _, c := range Curves() {
		t.Run(c.Name(), func(t *testing.T) {
			priv := mustKey(t, c)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					for i := 0; i < 5; i++ {
						msg := []byte{byte(g), byte(i)}
						sig, err := SignMessage(rand.Reader, priv, msg)
						if err != nil {
							errs <- err
							return
						}
						if !VerifyMessage(&priv.PublicKey, msg, sig) {
							errs <- errors.New("verification failed")
							return
						}
					}
				}(g)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}
