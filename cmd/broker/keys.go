package main

import (
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/server"
)

// KeysCmd is `broker keys`.
type KeysCmd struct {
	Rotate      KeysRotateCmd      `cmd:"" help:"Rotate the ID token signing key or the personal-data key."`
	GenerateKEK KeysGenerateKEKCmd `cmd:"" name:"generate-kek" help:"Print a new random key-encryption key for BROKER_KEK."`
}

// KeysRotateCmd is `broker keys rotate --kind signing|pii`.
type KeysRotateCmd struct {
	StoreFlags
	Kind string `required:"" enum:"signing,pii" help:"signing: ID token key (the old public key stays in the JWKS until its tokens expire); pii: personal-data encryption key."`
}

// Run rotates a key.
func (c *KeysRotateCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := server.LoadSettings(g.Config, nil)
	if err != nil {
		return err
	}
	switch c.Kind {
	case "signing":
		signing, err := keyring.OpenSigning(g.Ctx, st.Store, st.KEK, s.SigningAlg, nil)
		if err != nil {
			return err
		}
		// The old key must verify every ID token it signed: publish it for
		// the ID token lifetime plus the verifiers' clock leeway.
		until := time.Now().Add(s.IDTokenLifespan + 5*time.Minute)
		id, err := signing.Rotate(g.Ctx, until)
		if err != nil {
			return err
		}
		pruned, err := signing.Prune(g.Ctx)
		if err != nil {
			return err
		}
		fmt.Printf("new signing key %s; the previous key stays published until %s; %d expired key(s) removed\n",
			id, until.UTC().Format(time.RFC3339), pruned)
	case "pii":
		id, err := st.PII.Rotate(g.Ctx)
		if err != nil {
			return err
		}
		fmt.Printf("new personal-data key %s; new and updated records use it, older records stay readable\n", id)
	}
	return nil
}

// KeysGenerateKEKCmd is `broker keys generate-kek`.
type KeysGenerateKEKCmd struct{}

// Run prints a new KEK.
func (c *KeysGenerateKEKCmd) Run(*Globals) error {
	_, s, err := keyring.GenerateKEK()
	if err != nil {
		return err
	}
	fmt.Println(s)
	return nil
}
