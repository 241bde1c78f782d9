package support

import (
	"strings"

	"github.com/diarybroker/broker/pkg/linking"
)

// ParseBirthCert reads a birth certificate as a person reads it out or
// types it: the series, then the number ("II-МЮ 123456", "II МЮ № 123456");
// a lone number is a foreign certificate's. ok is false when it is
// neither.
func ParseBirthCert(s string) (c linking.BirthCert, ok bool) {
	s = strings.NewReplacer("№", " ").Replace(strings.TrimSpace(s))
	f := strings.Fields(s)
	if len(f) == 0 {
		return c, false
	}
	number := f[len(f)-1]
	series := strings.Join(f[:len(f)-1], "-")
	if series == "" {
		c = linking.BirthCert{Type: linking.BirthCertForeign, Number: number}
	} else {
		c = linking.BirthCert{Type: linking.BirthCertRF, Series: series, Number: number}
	}
	n, _, err := linking.NormaliseBirthCert(c)
	if err != nil || n.Number == "" {
		return c, false
	}
	return c, true
}

// birthCertIndex is the blind index of the certificate written as s, ""
// when s is not one.
func birthCertIndex(ix linking.Indexer, s string) string {
	c, ok := ParseBirthCert(s)
	if !ok {
		return ""
	}
	return linking.IndexOf(ix, linking.Identity{BirthCert: c}).BirthCert
}
