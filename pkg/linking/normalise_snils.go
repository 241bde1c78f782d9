package linking

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrSNILSFormat reports a value that is not a SNILS (СНИЛС, the pension
// insurance number): it does not have exactly 11 digits, or it has characters
// other than digits, spaces and dashes. The error never quotes the value.
var ErrSNILSFormat = errors.New("linking: SNILS must be 11 digits")

// snilsLen is the number of digits in a SNILS: 9 for the number and 2 check
// digits.
const snilsLen = 11

// snilsUncheckedMax is the largest number (first nine digits) that has no
// check digit: the Pension Fund did not check numbers up to 001-001-998
// (DESIGN.md §5).
const snilsUncheckedMax = 1001998

// NormaliseSNILS returns the 11 digits of a SNILS.
//
// The input may be written "123-456-789 01" (ESIA's layout, ESIA.md),
// "12345678901", "123 456 789 01", "123-456-789-01" or with any other mix of
// white space (including no-break spaces) and dashes (isDash) between the
// digits; invisible characters are ignored. Only ASCII digits count.
//
// Rules: RuleSeparators when the layout is neither "NNN-NNN-NNN NN" nor
// eleven bare digits, RuleInvisible when invisible characters were dropped.
//
// A blank input is absent: "", 0, nil. A value with another number of digits
// or with other characters is ErrSNILSFormat. The check digits are not
// verified here: a SNILS with a wrong check digit is still a SNILS someone
// wrote down, and SNILSChecksumValid reports it separately so that it is
// never silently "fixed".
func NormaliseSNILS(s string) (string, RuleSet, error) {
	if isCanonicalSNILS(s) {
		if len(s) == snilsLen {
			return s, 0, nil
		}
		var buf [snilsLen]byte
		copy(buf[0:3], s[0:3])
		copy(buf[3:6], s[4:7])
		copy(buf[6:9], s[8:11])
		copy(buf[9:11], s[12:14])
		return string(buf[:]), 0, nil
	}
	var (
		buf     [snilsLen]byte
		n       int // digits seen, may exceed snilsLen
		visible int // runes other than invisible ones
		layout  = true
		seps    bool
		rules   RuleSet
		bad     bool
	)
	const esiaLayout = "000-000-000 00" // '0' stands for any digit
	for _, r := range s {
		if isInvisible(r) {
			rules |= RuleInvisible
			continue
		}
		switch {
		case '0' <= r && r <= '9':
			if n < snilsLen {
				buf[n] = byte(r)
			}
			n++
			layout = layout && visible < len(esiaLayout) && esiaLayout[visible] == '0'
		case isSpace(r), isDash(r):
			seps = true
			layout = layout && visible < len(esiaLayout) && rune(esiaLayout[visible]) == r
		default:
			bad = true
		}
		visible++
	}
	switch {
	case bad:
		return "", 0, fmt.Errorf("%w: it has characters other than digits, spaces and dashes", ErrSNILSFormat)
	case n == 0:
		return "", 0, nil
	case n != snilsLen:
		return "", 0, fmt.Errorf("%w: it has %d digits", ErrSNILSFormat, n)
	}
	if seps && !(layout && visible == len(esiaLayout)) {
		rules |= RuleSeparators
	}
	return string(buf[:]), rules, nil
}

// isCanonicalSNILS reports "NNNNNNNNNNN" and "NNN-NNN-NNN NN".
func isCanonicalSNILS(s string) bool {
	switch len(s) {
	case snilsLen:
		return allDigits(s)
	case 14:
		return s[3] == '-' && s[7] == '-' && s[11] == ' ' &&
			allDigits(s[0:3]) && allDigits(s[4:7]) && allDigits(s[8:11]) && allDigits(s[12:14])
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// snilsDigits extracts the ASCII digits of s when s holds nothing but digits,
// separators and invisible characters, whatever their number: the comparison
// uses it to diagnose a malformed SNILS (for example one that lost its
// leading zero in a spreadsheet). ok is false for any other character.
func snilsDigits(s string) (digits string, ok bool) {
	b := make([]byte, 0, utf8.RuneCountInString(s))
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			b = append(b, byte(r))
		case isSpace(r), isDash(r), isInvisible(r):
		default:
			return "", false
		}
	}
	return string(b), true
}

// SNILSChecksumValid reports whether s is a SNILS whose check digits agree
// with its number.
//
// The rule (DESIGN.md §5, the Pension Fund's algorithm): multiply the first
// nine digits by the weights 9, 8, …, 1 and add; a sum below 100 is the check
// number, 100 and 101 give 00, a larger sum is taken modulo 101 (and a
// remainder of 100 again gives 00). Numbers up to 001-001-998 were issued
// before check digits existed and are not checked: they are valid whatever
// their last two digits.
//
// It returns false for a value that is not a SNILS at all (ErrSNILSFormat) and
// for an absent one.
func SNILSChecksumValid(s string) bool {
	d, _, err := NormaliseSNILS(s)
	if err != nil || d == "" {
		return false
	}
	return snilsChecksumOK(d)
}

// snilsChecksumOK checks 11 normalised digits.
func snilsChecksumOK(d string) bool {
	number := 0
	for i := 0; i < 9; i++ {
		number = number*10 + int(d[i]-'0')
	}
	if number <= snilsUncheckedMax {
		return true
	}
	want := int(d[9]-'0')*10 + int(d[10]-'0')
	return snilsCheckNumber(d[:9]) == want
}

// snilsCheckNumber computes the check number (0–99) of the nine digits d.
func snilsCheckNumber(d string) int {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (9 - i)
	}
	switch {
	case sum < 100:
		return sum
	case sum == 100, sum == 101:
		return 0
	}
	sum %= 101
	if sum == 100 {
		return 0
	}
	return sum
}

// FormatSNILS writes a SNILS in ESIA's layout "NNN-NNN-NNN NN". It accepts
// every layout NormaliseSNILS does; an absent value formats as "".
func FormatSNILS(s string) (string, error) {
	d, _, err := NormaliseSNILS(s)
	if err != nil || d == "" {
		return "", err
	}
	return formatSNILSDigits(d), nil
}

func formatSNILSDigits(d string) string {
	var buf [14]byte
	copy(buf[0:3], d[0:3])
	buf[3] = '-'
	copy(buf[4:7], d[3:6])
	buf[7] = '-'
	copy(buf[8:11], d[6:9])
	buf[11] = ' '
	copy(buf[12:14], d[9:11])
	return string(buf[:])
}
