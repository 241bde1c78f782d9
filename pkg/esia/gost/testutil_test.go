package gost

import (
	"crypto/x509"
	"encoding/asn1"
	"strconv"
	"strings"
	"testing"
)

func mustOID(t *testing.T, s string) asn1.ObjectIdentifier {
	t.Helper()
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			t.Fatalf("bad OID %q", s)
		}
		oid = append(oid, n)
	}
	return oid
}

func asn1Marshal(v any) ([]byte, error)             { return asn1.Marshal(v) }
func asn1Unmarshal(b []byte, v any) ([]byte, error) { return asn1.Unmarshal(b, v) }

func x509ParseCertificate(der []byte) (any, error) { return x509.ParseCertificate(der) }

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }
