package linking

import (
	"errors"
	"testing"
)

func TestNormaliseBirthCertSeries(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		rules RuleSet
		err   error
	}{
		{"canonical", "II-МЮ", "II-МЮ", 0, nil},
		{"space", "II МЮ", "II-МЮ", RuleSeparators, nil},
		{"no separator", "IIМЮ", "II-МЮ", RuleSeparators, nil},
		{"en dash", "II–МЮ", "II-МЮ", RuleSeparators, nil},
		{"spaces around hyphen", "II - МЮ", "II-МЮ", RuleSeparators, nil},
		{"digit 1 and Latin letters", "1V-AK", "IV-АК", RuleRomanLookalike | RuleLookalike, nil},
		{"Cyrillic І and lower case", "ІІ-мю", "II-МЮ", RuleRomanLookalike | RuleCase, nil},
		{"lower-case Cyrillic і", "іі-мю", "II-МЮ", RuleRomanLookalike | RuleCase, nil},
		{"lower-case Latin", "ii-мю", "II-МЮ", RuleCase, nil},
		{"Cyrillic Х and С in the Roman part", "ХІ-АГ", "XI-АГ", RuleRomanLookalike, nil},
		{"Cyrillic У for V", "У-ЖТ", "V-ЖТ", RuleRomanLookalike, nil},
		{"Cyrillic Л and М for L and M", "МЛ-ЖТ", "ML-ЖТ", RuleRomanLookalike, nil},
		{"no separator, Cyrillic lookalikes on both sides", "ХIМЮ", "XI-МЮ", RuleRomanLookalike | RuleSeparators, nil},
		{"Roman numeral sign", "Ⅱ-МЮ", "II-МЮ", RuleCompat, nil},
		{"Ё in the letters", "I-ЁЖ", "I-ЕЖ", RuleYo, nil},
		{"1V with space", "1V АК", "IV-АК", RuleRomanLookalike | RuleSeparators, nil},
		{"blank is absent", "  ", "", 0, nil},
		{"not a numeral: IIII", "IIII-МЮ", "", 0, ErrBirthCertRoman},
		{"not a numeral: VX", "VX-МЮ", "", 0, ErrBirthCertRoman},
		{"Arabic numeral", "2-МЮ", "", 0, ErrBirthCertSeries},
		{"one letter", "II-М", "", 0, ErrBirthCertSeries},
		{"three letters", "II-МЮЯ", "", 0, ErrBirthCertSeries},
		{"no Roman part", "МЮ", "", 0, ErrBirthCertSeries},
		{"Latin letter with no Cyrillic twin", "II-МQ", "", 0, ErrBirthCertSeries},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rules, err := NormaliseBirthCertSeries(tc.in)
			if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("NormaliseBirthCertSeries(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want || rules != tc.rules {
				t.Errorf("NormaliseBirthCertSeries(%q) = %q, %v; want %q, %v", tc.in, got, rules, tc.want, tc.rules)
			}
		})
	}
	if _, _, err := NormaliseBirthCertSeries("IIII-МЮ"); !errors.Is(err, ErrBirthCertSeries) {
		t.Error("ErrBirthCertRoman does not wrap ErrBirthCertSeries")
	}
}

func TestValidRoman(t *testing.T) {
	valid := []string{"I", "II", "III", "IV", "V", "IX", "XIV", "XIX", "XXXIX", "XL", "XC", "CD", "CM", "MMMCMXCIX"}
	invalid := []string{"", "IIII", "VV", "IL", "IC", "VX", "XXXX", "IIV", "MMMM", "A"}
	for _, s := range valid {
		if !validRoman(s) {
			t.Errorf("validRoman(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if validRoman(s) {
			t.Errorf("validRoman(%q) = true", s)
		}
	}
	for v := 1; v < 4000; v++ {
		if s := string(appendRoman(nil, v)); !validRoman(s) {
			t.Fatalf("validRoman(%q) (%d) = false", s, v)
		}
	}
}

func TestNormaliseBirthCertNumber(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		rules RuleSet
		err   error
	}{
		{"123456", "123456", 0, nil},
		{"1234567", "1234567", 0, nil},
		{"012345", "012345", 0, nil},
		{"123 456", "123456", RuleSeparators, nil},
		{"№ 123456", "123456", RuleNumberPrefix | RuleSeparators, nil},
		{"№123456", "123456", RuleNumberPrefix, nil},
		{"", "", 0, nil},
		{"12345", "", 0, ErrBirthCertNumber},
		{"12345678", "", 0, ErrBirthCertNumber},
		{"12З456", "", 0, ErrBirthCertNumber},
		{"123456№", "", 0, ErrBirthCertNumber},
		{"№", "", 0, ErrBirthCertNumber},
	}
	for _, tc := range tests {
		got, rules, err := NormaliseBirthCertNumber(tc.in)
		if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
			t.Errorf("NormaliseBirthCertNumber(%q) error = %v, want %v", tc.in, err, tc.err)
			continue
		}
		if got != tc.want || rules != tc.rules {
			t.Errorf("NormaliseBirthCertNumber(%q) = %q, %v; want %q, %v", tc.in, got, rules, tc.want, tc.rules)
		}
	}
}

func TestNormaliseBirthCert(t *testing.T) {
	tests := []struct {
		name string
		in   BirthCert
		want BirthCert
		err  error
	}{
		{"Russian", BirthCert{Type: BirthCertRF, Series: "II МЮ", Number: "123456"},
			BirthCert{Type: BirthCertRF, Series: "II-МЮ", Number: "123456"}, nil},
		{"type left out", BirthCert{Series: "II-МЮ", Number: "123456"},
			BirthCert{Type: BirthCertRF, Series: "II-МЮ", Number: "123456"}, nil},
		{"type in lower case", BirthCert{Type: "rf_brth_cert", Series: "II-МЮ", Number: "123456"},
			BirthCert{Type: BirthCertRF, Series: "II-МЮ", Number: "123456"}, nil},
		{"old form", BirthCert{Type: BirthCertOld, Series: "I-ЛО", Number: "654321"},
			BirthCert{Type: BirthCertOld, Series: "I-ЛО", Number: "654321"}, nil},
		{"foreign: number only, letters kept", BirthCert{Type: BirthCertForeign, Series: "A-12 / free text", Number: "ab 12-34"},
			BirthCert{Type: BirthCertForeign, Number: "АВ1234"}, nil},
		{"absent", BirthCert{Type: BirthCertRF}, BirthCert{}, nil},
		{"unknown type", BirthCert{Type: "RF_PASSPORT", Series: "4510", Number: "123456"}, BirthCert{}, ErrBirthCertType},
		{"series missing", BirthCert{Number: "123456"}, BirthCert{}, ErrBirthCertSeries},
		{"number missing", BirthCert{Series: "II-МЮ"}, BirthCert{}, ErrBirthCertNumber},
		{"foreign, number too long", BirthCert{Type: BirthCertForeign, Number: "123456789012345678901234567890123"}, BirthCert{}, ErrBirthCertNumber},
		{"foreign, punctuation", BirthCert{Type: BirthCertForeign, Number: "12/34"}, BirthCert{}, ErrBirthCertNumber},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := NormaliseBirthCert(tc.in)
			if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("NormaliseBirthCert(%+v) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("NormaliseBirthCert(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}
