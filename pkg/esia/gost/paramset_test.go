package gost

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// TestParamSetByName: every engine name resolves to the curve the engine uses for it
// (the table of openssl_test.go) and the key carries the set's OID; unknown names fail.
func TestParamSetByName(t *testing.T) {
	if len(ParamSetNames()) != len(paramsets) {
		t.Fatalf("ParamSetNames %v, the engine table has %d names", ParamSetNames(), len(paramsets))
	}
	for _, ps := range paramsets {
		for _, name := range []string{ps.name, " " + strings.ToLower(ps.name)} {
			k, err := GenerateKeyParamSet(name, rand.Reader)
			if err != nil {
				t.Fatalf("%q: %v", name, err)
			}
			_, oid, _ := ParamSetByName(ps.name)
			if k.Curve != ps.curve || !k.ParamSet.Equal(oid) || k.Curve.OID() == nil {
				t.Fatalf("%q: curve %s, param set %v", name, k.Curve.Name(), k.ParamSet)
			}
			if c, err := CurveByOID(k.ParamSet); err != nil || c != ps.curve {
				t.Fatalf("%q: OID %v names %v (%v)", name, k.ParamSet, c, err)
			}
		}
	}
	for _, bad := range []string{"", "D", "TCE", "512A"} {
		if _, err := GenerateKeyParamSet(bad, rand.Reader); !errors.Is(err, ErrUnknownCurve) {
			t.Errorf("%q: err = %v, want ErrUnknownCurve", bad, err)
		}
	}
}
