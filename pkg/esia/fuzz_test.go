package esia

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// fuzzConfig verifies tokens against one throw-away RSA certificate.
var fuzzConfig = sync.OnceValue(func() *Config {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fuzz"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &Config{
		ClientID: "DIARY01", Issuer: "http://esia-portal1.test.gosuslugi.ru/", Keys: NewKeySet(cert),
		Now: func() time.Time { return time.Unix(1795503600, 0) },
	}
})

// FuzzJWT feeds arbitrary tokens to parsing and verification: they must
// fail cleanly, never panic, and never verify without a valid signature.
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
