package esia_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

var gostKeys = sync.OnceValue(func() (k struct {
	client *gost.PrivateKey
	cert   []byte
	esia   *esiasim.GOSTSigner
}) {
	var err error
	if k.client, k.cert, err = esiasim.SelfSignedGOST(clientID, today); err != nil {
		panic(err)
	}
	if k.esia, err = esiasim.NewGOSTSigner("ESIA GOST", today); err != nil {
		panic(err)
	}
	return k
})

// TestGOST runs a whole login the way ESIA wants it today: GOST client
// secrets (64 bytes, 86 base64url characters), the Streebog certificate hash
// and GOST3410_2012_256 tokens.
func TestGOST(t *testing.T) {
	k := gostKeys()
	for _, padded := range []bool{false, true} {
		w := newWorld(t, func(c *esiasim.Config) {
			c.Clients[0].Certificate = k.cert
			c.TokenSigner = k.esia
		})
		w.cfg.Signer = esia.GOSTSigner{Key: k.client}
		w.cfg.SecretPadding = padded
		w.cfg.CertificateHash = gost.CertificateHash(k.cert)

		u, err := w.cfg.AuthURL(context.Background(), state, nil)
		if err != nil {
			t.Fatal(err)
		}
		parsed, _ := url.Parse(u)
		if n, want := len(parsed.Query().Get("client_secret")), map[bool]int{false: 86, true: 88}[padded]; n != want {
			t.Errorf("padded=%v: client_secret of %d characters, want %d", padded, n, want)
		}
		tok := w.login("1000100002")
		if tok.Identity.OID != "1000100002" || !tok.Identity.Trusted {
			t.Fatalf("identity %+v", tok.Identity)
		}
		if kids, err := w.cfg.Kids(context.Background(), tok); err != nil || len(kids) != 2 {
			t.Fatalf("kids %v %v", kids, err)
		}
	}
}

func TestGOSTWrongKey(t *testing.T) {
	k := gostKeys()
	other, _, err := esiasim.SelfSignedGOST("other", today)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, func(c *esiasim.Config) { c.Clients[0].Certificate = k.cert })
	w.cfg.CertificateHash = gost.CertificateHash(k.cert)
	w.cfg.Signer = esia.GOSTSigner{Key: other}
	cb := w.authorize(url.Values{"sim_person": {"1000100001"}})
	if err := esia.ParseCallbackError(cb); !errors.Is(err, esia.ErrClientSecretWrong) {
		t.Fatalf("err %v, want ErrClientSecretWrong", err)
	}
}
