package gost

import (
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"sort"
	"strings"
)

// paramSetNames are OpenSSL's gost engine names for the 256-bit parameter sets
// (`-pkeyopt paramset:NAME`), each with the OID the engine writes for it.
var paramSetNames = map[string]asn1.ObjectIdentifier{
	"A":   OIDCryptoProA,
	"B":   OIDCryptoProB,
	"C":   OIDCryptoProC,
	"XA":  OIDCryptoProXchA,
	"XB":  OIDCryptoProXchB,
	"TCA": OIDTC26ParamSetA,
	"TCB": OIDTC26ParamSetB,
	"TCC": OIDTC26ParamSetC,
	"TCD": OIDTC26ParamSetD,
}

// ParamSetNames lists the names ParamSetByName accepts, sorted.
func ParamSetNames() []string {
	names := make([]string, 0, len(paramSetNames))
	for n := range paramSetNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParamSetByName resolves an OpenSSL gost engine parameter-set name (A, B, C, XA, XB, TCA,
// TCB, TCC, TCD; case-insensitive) to the curve and the OID a key generated with it
// carries, so that a key written here is byte-for-byte what `openssl genpkey -engine gost
// -algorithm gost2012_256 -pkeyopt paramset:NAME` would write for the same scalar.
func ParamSetByName(name string) (*Curve, asn1.ObjectIdentifier, error) {
	oid, ok := paramSetNames[strings.ToUpper(strings.TrimSpace(name))]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q (known: %s)", ErrUnknownCurve, name, strings.Join(ParamSetNames(), ", "))
	}
	c, err := CurveByOID(oid)
	if err != nil {
		return nil, nil, err
	}
	return c, append(asn1.ObjectIdentifier(nil), oid...), nil
}

// GenerateKeyParamSet generates a key on the named parameter set (see ParamSetByName)
// and records the set's OID in it, as OpenSSL's genpkey does. A nil rand means
// crypto/rand.
func GenerateKeyParamSet(name string, random io.Reader) (*PrivateKey, error) {
	c, oid, err := ParamSetByName(name)
	if err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	k, err := GenerateKey(c, random)
	if err != nil {
		return nil, err
	}
	k.ParamSet = oid
	return k, nil
}
