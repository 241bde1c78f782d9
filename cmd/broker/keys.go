package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// KeysCmd is `broker keys`.
type KeysCmd struct {
	Rotate      KeysRotateCmd      `cmd:"" help:"Rotate the ID token signing key or the personal-data key."`
	Reseal      KeysResealCmd      `cmd:"" help:"Re-encrypt personal data still under retired personal-data keys and delete the keys nothing uses."`
	GenerateKEK KeysGenerateKEKCmd `cmd:"" name:"generate-kek" help:"Print a new random key-encryption key for BROKER_KEK."`
}

// KeysRotateCmd is `broker keys rotate --kind signing|pii`.
type KeysRotateCmd struct {
	StoreFlags
	ResealFlags
	Kind string `required:"" enum:"signing,pii" help:"signing: ID token key (the old public key stays in the JWKS until its tokens expire); pii: personal-data encryption key (then every row is re-encrypted under it and the old key deleted once unused, see keys reseal)."`
}

// ResealFlags tune the re-encryption of personal data.
type ResealFlags struct {
	Batch       int           `default:"500" help:"Rows re-encrypted per transaction."`
	Workers     int           `default:"2" help:"Transactions at once (other processes may run keys reseal too)."`
	RetireAfter time.Duration `name:"retire-after" default:"10m" help:"Delete a retired key only this long after its rotation (replicas re-read keys every minute); 0 when no broker is running."`
	Quiet       bool          `help:"No progress on standard error."`
}

// KeysResealCmd is `broker keys reseal`: the second half of a
// personal-data key rotation, safe to run again, from cron, or from
// several processes at once.
type KeysResealCmd struct {
	StoreFlags
	ResealFlags
}

// Run re-seals and retires.
func (c *KeysResealCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	return reseal(g, st, c.ResealFlags)
}

// reseal re-encrypts the rows under retired personal-data keys with
// progress, deletes the keys nothing uses, and prints the report.
func reseal(g *Globals, st *server.Storage, f ResealFlags) error {
	r, ok := st.Store.(store.Resealer)
	if !ok {
		fmt.Println("this store keeps personal data in memory only: nothing to re-encrypt")
		return nil
	}
	start := time.Now()
	last := time.Time{}
	retireAfter := f.RetireAfter
	if retireAfter == 0 {
		retireAfter = -1 // at once
	}
	rep, err := st.PII.Reseal(g.Ctx, r, keyring.ResealOptions{Batch: f.Batch, Workers: f.Workers, RetireAfter: retireAfter,
		Progress: func(p keyring.ResealProgress) {
			if f.Quiet || (time.Since(last) < 200*time.Millisecond && p.Done < p.Total) {
				return
			}
			last = time.Now()
			rate := float64(p.Done) / time.Since(start).Seconds()
			fmt.Fprintf(os.Stderr, "\r%-8s %d/%d rows re-encrypted  %.0f rows/s   ", p.Table, p.Done, p.Total, rate)
		}})
	if !f.Quiet {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	var total int64
	for _, n := range rep.Resealed {
		total += n
	}
	fmt.Printf("%d row(s) re-encrypted under %s in %s", total, rep.ActiveKey, rep.Elapsed.Round(time.Millisecond))
	if total > 0 {
		fmt.Printf(" (%.0f rows/s)", float64(total)/rep.Elapsed.Seconds())
	}
	fmt.Println()
	for _, id := range rep.Retired {
		fmt.Printf("retired key %s deleted: nothing uses it\n", id)
	}
	for _, k := range rep.Kept {
		fmt.Printf("retired key %s kept: %s (%d row(s)); run `broker keys reseal` after %s\n", k.ID, k.Reason, k.Rows,
			k.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// Run rotates a key.
func (c *KeysRotateCmd) Run(g *Globals) error {
	st, s, err := openStorageSettings(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	switch c.Kind {
	case "signing":
		signing, err := keyring.OpenSigning(g.Ctx, st.Store, st.KEK, s.SigningAlg, nil)
		if err != nil {
			return err
		}
		// The old key must verify every ID token it signed: publish it for
		// the ID token lifetime plus the verifiers' clock leeway.
		until := time.Now().Add(s.IDTokenLifespan + 5*time.Minute)
		ids, err := signing.Rotate(g.Ctx, until)
		if err != nil {
			return err
		}
		pruned, err := signing.Prune(g.Ctx)
		if err != nil {
			return err
		}
		fmt.Printf("new signing keys %s; the previous keys stay published until %s; %d expired key(s) removed\n",
			strings.Join(ids, ", "), until.UTC().Format(time.RFC3339), pruned)
	case "pii":
		id, err := st.PII.Rotate(g.Ctx)
		if err != nil {
			return err
		}
		fmt.Printf("new personal-data key %s; new and updated records use it, older records stay readable\n", id)
		return reseal(g, st, c.ResealFlags)
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
