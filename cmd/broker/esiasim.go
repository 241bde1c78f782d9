package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// EsiaSimCmd is `broker esia-sim`: the simulator on its own, for testing a
// broker under `serve` (or any ESIA client) without the real ESIA.
type EsiaSimCmd struct {
	Addr        string        `default:"127.0.0.1:8090" help:"Listen address."`
	BaseURL     string        `name:"base-url" help:"External URL of the simulator (the prefix of every URL it hands out); default http://<the address it listens on>."`
	ClientID    string        `name:"client-id" required:"" help:"Mnemonic of the registered information system."`
	ClientCert  string        `name:"client-cert" required:"" type:"existingfile" help:"The system's certificate (PEM): its hash and key check client_secret."`
	RedirectURI []string      `name:"redirect-uri" required:"" help:"Registered redirect_uri (repeatable)."`
	ESIAPersons string        `name:"esia-persons" type:"existingfile" help:"Fixture persons (JSON) instead of the embedded set."`
	TokenAlg    string        `name:"token-alg" default:"GOST3410_2012_256" enum:"GOST3410_2012_256,RS256" help:"Algorithm of the simulator's tokens."`
	CertOut     string        `name:"cert-out" help:"Write the simulator's token certificate (PEM) here, for BROKER_ESIA_TRUST."`
	Latency     time.Duration `help:"Delay every answer (load tests)."`
}

// Run serves the simulator. It listens before it builds the simulator, so
// that --addr 127.0.0.1:0 works: the default base URL is the address it got.
// The "listening" line on standard error comes once --cert-out is written,
// and so does the first HTTP answer: a script may wait for either (the
// README's recipe waits for /sim/certificates.pem to answer).
func (c *EsiaSimCmd) Run(g *Globals) error {
	if c.ClientID == "" {
		return errors.New("--client-id must not be empty")
	}
	certPEM, err := os.ReadFile(c.ClientCert)
	if err != nil {
		return err
	}
	der, err := firstPEMCertificate(certPEM)
	if err != nil {
		return fmt.Errorf("--client-cert %s: %w", c.ClientCert, err)
	}
	var persons []esiasim.Person
	if c.ESIAPersons != "" {
		f, err := os.Open(c.ESIAPersons)
		if err != nil {
			return err
		}
		persons, err = esiasim.LoadPersons(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--esia-persons %s: %w", c.ESIAPersons, err)
		}
	}
	var signer esiasim.TokenSigner
	if c.TokenAlg == "RS256" {
		signer, err = esiasim.NewRS256Signer("ЕСИА (симулятор)", time.Now())
	} else {
		signer, err = esiasim.NewGOSTSigner("ЕСИА (симулятор)", time.Now())
	}
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	defer l.Close()
	base := c.BaseURL
	if base == "" {
		base = "http://" + l.Addr().String()
	}
	sim, err := esiasim.New(esiasim.Config{BaseURL: base, Persons: persons, TokenSigner: signer, Latency: c.Latency,
		Clients: []esiasim.Client{{ID: c.ClientID, RedirectURIs: c.RedirectURI, Certificate: der}}})
	if err != nil {
		return err
	}
	defer sim.Close()
	if c.CertOut != "" {
		if err := os.WriteFile(c.CertOut, sim.CertificatesPEM(), 0o644); err != nil {
			return fmt.Errorf("--cert-out: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "ESIA simulator listening on %s, base URL %s (issuer %s, client_certificate_hash %s)\n",
		l.Addr(), sim.BaseURL(), sim.Issuer(), gost.CertificateHash(der))
	hs := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-g.Ctx.Done()
		_ = hs.Close()
	}()
	if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
