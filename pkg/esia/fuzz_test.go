package esia

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/gost"
)

// fuzzIssuer is the iss the fuzz Config expects.
const fuzzIssuer = "http://esia-portal1.test.gosuslugi.ru/"

// fuzzGOSTKey is the GOST key (tc26 set A) of the fuzz key set. It is fixed
// so that the stored GOST seeds carry signatures that verify with it and
// the fuzzer starts from inside the GOST verification, not at its first
// range check. A test key: it signs nothing else.
var fuzzGOSTKey = sync.OnceValue(func() *gost.PrivateKey {
	d, _ := new(big.Int).SetString("2d3f8c1b6a7e0945f1c2d3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192", 16)
	key, err := gost.NewPrivateKey(gost.TC26A(), d)
	if err != nil {
		panic(err)
	}
	return key
})

// fuzzConfig verifies tokens against two throw-away certificates, an RSA
// one and the GOST one of fuzzGOSTKey, so that both RS256 and
// GOST3410_2012_256 verification are fuzzed through the JWT parser.
var fuzzConfig = sync.OnceValue(func() *Config {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	rsaDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	gostKey := fuzzGOSTKey()
	gostDER, err := gost.CreateCertificate(rand.Reader, &gost.CertificateTemplate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "fuzz GOST"}, NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter},
		nil, &gostKey.PublicKey, gostKey)
	if err != nil {
		panic(err)
	}
	var certs []*x509.Certificate
	for _, der := range [][]byte{rsaDER, gostDER} {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		certs = append(certs, cert)
	}
	return &Config{
		ClientID: "DIARY01", Issuer: fuzzIssuer, Keys: NewKeySet(certs...),
		Now: func() time.Time { return time.Unix(1795503600, 0) },
	}
})

// FuzzJWT feeds arbitrary tokens to parsing and verification: they must
// fail cleanly, never panic, and never verify without a valid signature.
// The gost-* seeds in testdata are signed by fuzzGOSTKey
// (TestFuzzJWTGOSTSeeds).
func FuzzJWT(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjF9.c2ln")
	f.Add("..")
	cfg := fuzzConfig()
	f.Fuzz(func(t *testing.T, token string) {
		if j, err := parseJWS(token); err == nil {
			if len(j.signature) == 0 || j.header.Alg == "" {
				t.Fatal("parsed a JWS without alg or signature")
			}
		}
		if _, err := cfg.verifyToken(token, "access"); err == nil {
			t.Fatal("a fuzzed token verified")
		} else if strings.Contains(err.Error(), token) && len(token) > 8 {
			t.Fatal("the token leaked into the error")
		}
		var c claims
		if err := strictUnmarshal([]byte(token), &c); err == nil {
			_, _ = identity(&c, &c)
		}
	})
}

// FuzzPerson feeds arbitrary /rs/prns/{oid} answers to the decoder.
func FuzzPerson(f *testing.F) {
	f.Add([]byte(`{"firstName":"Иван","birthDate":"01.02.2003","documents":{"elements":[{"id":1,"type":"RF_PASSPORT","issueDate":"02.03.2020"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pj, err := decodePerson(data)
		if err != nil {
			return
		}
		var objs [3][][]byte
		for i, c := range []*collection{pj.Documents, pj.Contacts, pj.Addresses} {
			if c != nil {
				objs[i] = c.objects
			}
		}
		p, err := pj.toPerson(objs[0], objs[1], objs[2])
		if err != nil {
			if pj.BirthDate != "" && len(pj.BirthDate) > 3 && strings.Contains(err.Error(), pj.BirthDate) {
				t.Fatal("birth date leaked into the error")
			}
			return
		}
		if pj.BirthDate != "" && p.BirthDate.IsZero() {
			t.Fatal("birth date lost")
		}
	})
}

// FuzzKids feeds arbitrary /kids answers to the decoder.
func FuzzKids(f *testing.F) {
	f.Add([]byte(`{"stateFacts":["hasSize"],"size":1,"elements":[{"id":7,"firstName":"Алиса","birthDate":"12.05.2016","documents":{"elements":[{"id":1,"type":"RF_BRTH_CERT","series":"IV-МЮ","number":"512345"}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		coll, err := decodeCollection(data)
		if err != nil {
			return
		}
		for _, raw := range coll.objects {
			kj, err := decodeKid(raw)
			if err != nil {
				continue
			}
			var docs [][]byte
			if kj.Documents != nil {
				docs = kj.Documents.objects
			}
			_, _ = kj.toKid(docs)
		}
	})
}

var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false,
	"rewrite FuzzJWT's gost-* seeds: go test ./pkg/esia -run TestFuzzJWTGOSTSeeds -write-fuzz-seeds")

// TestFuzzJWTGOSTSeeds checks FuzzJWT's GOST seeds: each carries a
// signature fuzzGOSTKey made (as such, byte-reversed as CryptoPro writes it,
// or under another alg) and is refused at the step its name says, so the
// fuzzer starts from tokens that pass or nearly pass the GOST check.
func TestFuzzJWTGOSTSeeds(t *testing.T) {
	now := time.Unix(1795503600, 0)
	access := func() map[string]any {
		return map[string]any{"iss": fuzzIssuer, "client_id": "DIARY01", "urn:esia:sbj_id": 1000100001,
			"scope": "openid fullname?oid=1000100001", "urn:esia:sid": "6a1b",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	seeds := []struct {
		name   string
		alg    string                 // header alg; "" for GOST3410_2012_256
		claims func(c map[string]any) // changes valid claims
		sig    func(input, sig []byte) (string, []byte)
		reason string
	}{
		{name: "gost-wrong-issuer", claims: func(c map[string]any) { c["iss"] = "http://esia.gosuslugi.ru/" }, reason: "wrong issuer"},
		{name: "gost-wrong-audience", claims: func(c map[string]any) { c["client_id"] = "OTHER" }, reason: "wrong audience"},
		{name: "gost-expired", claims: func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }, reason: "expired"},
		{name: "gost-no-subject", claims: func(c map[string]any) { delete(c, "urn:esia:sbj_id") }, reason: "no subject"},
		{name: "gost-cryptopro-order", sig: func(input, sig []byte) (string, []byte) { return string(input), gost.Reverse(sig) },
			reason: "signature does not verify with any ESIA key"},
		{name: "gost-tampered-payload", sig: func(input, sig []byte) (string, []byte) {
			c := access()
			c["urn:esia:sbj_id"] = 1000100002
			header, _, _ := strings.Cut(string(input), ".")
			return header + "." + b64json(c), sig
		}, reason: "signature does not verify with any ESIA key"},
		{name: "gost-signature-under-rs256", alg: AlgRS256, reason: "signature does not verify with any ESIA key"},
	}
	cfg := fuzzConfig()
	for _, seed := range seeds {
		t.Run(seed.name, func(t *testing.T) {
			file := filepath.Join("testdata", "fuzz", "FuzzJWT", seed.name)
			if *writeFuzzSeeds {
				alg := seed.alg
				if alg == "" {
					alg = AlgGOST
				}
				claims := access()
				if seed.claims != nil {
					seed.claims(claims)
				}
				input := []byte(b64json(map[string]any{"alg": alg, "typ": "JWT", "ver": 1, "sbt": "access"}) + "." + b64json(claims))
				sig, err := gost.SignMessage(rand.Reader, fuzzGOSTKey(), input)
				if err != nil {
					t.Fatal(err)
				}
				signed := string(input)
				if seed.sig != nil {
					signed, sig = seed.sig(input, sig)
				}
				token := signed + "." + base64.RawURLEncoding.EncodeToString(sig)
				if err := os.WriteFile(file, []byte("go test fuzz v1\nstring("+strconv.Quote(token)+")\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			quoted, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "go test fuzz v1\nstring(")
			token, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
			if !ok || err != nil {
				t.Fatalf("not a fuzz seed: %v", err)
			}
			_, err = cfg.verifyToken(token, "access")
			var te *TokenError
			if !errors.As(err, &te) || te.Reason != seed.reason {
				t.Fatalf("err %v, want %q", err, seed.reason)
			}
		})
	}
}

// b64json is the base64url JSON of v, a JWT segment.
func b64json(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
