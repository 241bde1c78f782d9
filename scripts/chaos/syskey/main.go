// Command syskey writes a fresh self-signed GOST key and certificate of an
// information system, the pair `broker esia-sim --client-cert` registers and
// `broker serve` signs with (BROKER_ESIA_SIGNER=gost:KEY,
// BROKER_ESIA_CERTIFICATE=CERT), for scripts/chaos.sh.
//
//	syskey KEY.pem CERT.pem
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: syskey KEY.pem CERT.pem")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "syskey:", err)
		os.Exit(1)
	}
}

func run(keyFile, certFile string) error {
	key, der, err := esiasim.SelfSignedGOST("Дневник-брокер (fault campaign)", time.Now())
	if err != nil {
		return err
	}
	keyPEM, err := gost.MarshalPrivateKeyPEM(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(certFile, gost.MarshalCertificatePEM(der), 0o644)
}
