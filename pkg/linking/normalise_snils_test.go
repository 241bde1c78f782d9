package linking

import (
	"errors"
	"strings"
	"testing"
)

func TestNormaliseSNILS(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		rules RuleSet
		err   error
	}{
		{"ESIA layout", "123-456-789 64", "12345678964", 0, nil},
		{"digits only", "12345678964", "12345678964", 0, nil},
		{"spaces only", "123 456 789 64", "12345678964", RuleSeparators, nil},
		{"dash before check digits", "123-456-789-64", "12345678964", RuleSeparators, nil},
		{"no-break space", "123-456-789\u00a064", "12345678964", RuleSeparators, nil},
		{"en dashes and stray spaces", " 123–456 – 789 64 ", "12345678964", RuleSeparators, nil},
		{"zero-width space in ESIA layout", "\u200b123-456-789 64", "12345678964", RuleInvisible, nil},
		{"leading zero kept", "012-345-678 19", "01234567819", 0, nil},
		{"blank is absent", "  ", "", 0, nil},
		{"empty is absent", "", "", 0, nil},
		{"ten digits (spreadsheet ate the zero)", "1234567819", "", 0, ErrSNILSFormat},
		{"twelve digits", "123-456-789 640", "", 0, ErrSNILSFormat},
		{"letter O for zero", "O12-345-678 19", "", 0, ErrSNILSFormat},
		{"full-width digits", "１２３-456-789 64", "", 0, ErrSNILSFormat},
		{"invalid UTF-8", "123-456-789 6\xff4", "", 0, ErrSNILSFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, rules, err := NormaliseSNILS(tc.in)
			if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
				t.Fatalf("NormaliseSNILS(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want || rules != tc.rules {
				t.Errorf("NormaliseSNILS(%q) = %q, %v; want %q, %v", tc.in, got, rules, tc.want, tc.rules)
			}
		})
	}
}

func TestSNILSChecksumValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"sum below 100", "112-233-445 95", true},
		{"sum below 100, wrong", "112-233-445 59", false},
		{"sum over 101", "123-456-789 64", true},
		{"sum over 101, wrong", "123-456-789 46", false},
		{"sum exactly 100 gives 00", "050-234-316 00", true},
		{"sum exactly 100, check written 100 is impossible", "050-234-316 01", false},
		{"sum exactly 101 gives 00", "016-103-396 00", true},
		{"sum mod 101 is 100 gives 00", "820-981-233 00", true},
		{"sum mod 101", "291-417-776 94", true},
		{"leading zero", "01234567819", true},
		{"one-digit typo breaks the check", "123-456-788 64", false},
		{"transposition breaks the check", "123-456-798 64", false},
		{"001-001-998 is not checked", "001-001-998 00", true},
		{"001-001-998 is not checked, any digits", "001-001-998 77", true},
		{"small numbers are not checked", "000-000-001 99", true},
		{"001-001-999 is checked", "001-001-999 00", false},
		{"001-001-999 with its check number", "001-001-999 65", true},
		{"not a SNILS", "123", false},
		{"absent", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SNILSChecksumValid(tc.in); got != tc.want {
				t.Errorf("SNILSChecksumValid(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestFormatSNILS(t *testing.T) {
	for in, want := range map[string]string{
		"12345678964":    "123-456-789 64",
		"123 456 789 64": "123-456-789 64",
		"123-456-789-64": "123-456-789 64",
		"":               "",
	} {
		got, err := FormatSNILS(in)
		if err != nil || got != want {
			t.Errorf("FormatSNILS(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := FormatSNILS("1234"); !errors.Is(err, ErrSNILSFormat) {
		t.Errorf("FormatSNILS(short) error = %v, want ErrSNILSFormat", err)
	}
}

func TestSNILSFormatErrorHidesValue(t *testing.T) {
	_, _, err := NormaliseSNILS("123-456-789 640")
	if err == nil {
		t.Fatal("no error")
	}
	for _, leak := range []string{"123", "456", "789", "640"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error %q quotes the value", err)
		}
	}
}
