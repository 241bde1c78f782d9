package linking

import (
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

func TestMaskSNILS(t *testing.T) {
	for in, want := range map[string]string{
		"123-456-789 64": "***-***-789 64",
		"12345678964":    "***-***-789 64",
		"123-456-789-64": "***-***-789 64",
		"":               "",
		"1234567896":     "***",
		"123-456-789 6X": "***",
	} {
		if got := MaskSNILS(in); got != want {
			t.Errorf("MaskSNILS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{
		"Иванов":        "И***",
		"ёлкин":         "Е***",
		"Петров–Водкин": "П***-В***",
		"Мамед оглы":    "М*** О***",
		"Я":             "Я***",
		"":              "",
		"Иванов2":       "***",
	} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskBirthCert(t *testing.T) {
	tests := []struct {
		in   BirthCert
		want string
	}{
		{BirthCert{Type: BirthCertRF, Series: "II МЮ", Number: "123456"}, "II-МЮ ****56"},
		{BirthCert{Series: "1V-AK", Number: "1234567"}, "IV-АК ****67"},
		{BirthCert{Type: BirthCertForeign, Series: "secret text", Number: "AB-1234"}, "****34"},
		{BirthCert{Type: BirthCertForeign, Number: "12"}, "****"},
		{BirthCert{Type: BirthCertForeign, Number: "12345"}, "****"},
		{BirthCert{Type: BirthCertForeign, Number: "123456"}, "****56"},
		{BirthCert{}, ""},
		{BirthCert{Series: "II-МЮ", Number: "12345"}, "***"},
	}
	for _, tc := range tests {
		if got := MaskBirthCert(tc.in); got != tc.want {
			t.Errorf("MaskBirthCert(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMaskBirthDate(t *testing.T) {
	tests := []struct {
		in   store.Date
		want string
	}{
		{store.Date{Year: 2012, Month: time.May, Day: 3}, "**.**.2012"},
		{store.Date{}, ""},
		{store.Date{Year: 12, Month: time.May, Day: 3}, "**.**.0012"},
		{store.Date{Year: -5, Month: time.May, Day: 3}, "**.**.****"},
	}
	for _, tc := range tests {
		if got := MaskBirthDate(tc.in); got != tc.want {
			t.Errorf("MaskBirthDate(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMasksHideTheValue checks that no mask in an explanation holds a whole
// value, in any of the forms the value may be written.
func TestMasksHideTheValue(t *testing.T) {
	snils := []string{"123-456-789 64", "12345678964", "001-001-998 00"}
	for _, s := range snils {
		x := CompareSNILS(s, s)
		d, _, _ := NormaliseSNILS(s)
		f, _ := FormatSNILS(s)
		for _, m := range []string{x.Roster, x.ESIA} {
			if strings.Contains(m, d) || strings.Contains(m, f) || strings.Contains(m, d[:6]) {
				t.Errorf("SNILS mask %q reveals %q", m, s)
			}
		}
	}
	for _, n := range []string{"Я", "Ли", "Иванов", "Петров-Водкин"} {
		v, _, _ := NormaliseName(n)
		if m := MaskName(n); strings.Contains(m, v) && len([]rune(v)) > 1 || m == v {
			t.Errorf("name mask %q reveals %q", m, n)
		}
	}
	c := BirthCert{Series: "II-МЮ", Number: "123456"}
	if m := MaskBirthCert(c); strings.Contains(m, "123456") || strings.Contains(m, "3456") {
		t.Errorf("certificate mask %q reveals the number", m)
	}
}
