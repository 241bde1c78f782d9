package gost

import (
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
