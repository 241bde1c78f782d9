package linking

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// BirthCertType is ESIA's document type of a birth certificate
// (свидетельство о рождении), ESIA.md "Documents".
type BirthCertType string

// The birth certificate types ESIA knows.
const (
	// BirthCertRF is a Russian certificate: series "II-МЮ", 6 (sometimes 7)
	// digits.
	BirthCertRF BirthCertType = "RF_BRTH_CERT"
	// BirthCertForeign is a certificate issued abroad: its series is free
	// text, and only its number is compared.
	BirthCertForeign BirthCertType = "FID_BRTH_CERT"
	// BirthCertOld is a certificate of the old (Soviet) form; its series and
	// number are written like a Russian one's.
	BirthCertOld BirthCertType = "OLD_BRTH_CERT"
)

// BirthCert is a birth certificate as ESIA's /docs and the roster carry it.
// An empty Type is read as BirthCertRF: rosters often leave it out.
type BirthCert struct {
	Type   BirthCertType `json:"type,omitempty"`
	Series string        `json:"series,omitempty"`
	Number string        `json:"number"`
}

// IsZero reports a certificate with neither series nor number.
func (c BirthCert) IsZero() bool {
	return strings.TrimSpace(c.Series) == "" && strings.TrimSpace(c.Number) == ""
}

// Errors of NormaliseBirthCert. None of them quotes the value.
var (
	// ErrBirthCertType reports a document type other than the three
	// BirthCertType constants (and "").
	ErrBirthCertType = errors.New("linking: unknown birth certificate type")
	// ErrBirthCertSeries reports a Russian series that is not a Roman
	// numeral, a separator and two Cyrillic letters.
	ErrBirthCertSeries = errors.New("linking: birth certificate series must be a Roman numeral and two Cyrillic letters")
	// ErrBirthCertRoman reports a series whose Roman part is made of numeral
	// letters but is not a valid numeral ("IIII", "VX"). It wraps
	// ErrBirthCertSeries.
	ErrBirthCertRoman = fmt.Errorf("%w: the Roman part is not a valid numeral", ErrBirthCertSeries)
	// ErrBirthCertNumber reports a number that is not 6 or 7 digits (for a
	// foreign certificate: not 1–32 letters and digits).
	ErrBirthCertNumber = errors.New("linking: birth certificate number must be 6 or 7 digits")
)

// foreignNumberMax bounds the length of a foreign certificate number.
const foreignNumberMax = 32

// NormaliseBirthCert returns the canonical form of a birth certificate and
// the rules that changed it. The type is trimmed and upper-cased.
//
// For BirthCertRF and BirthCertOld:
//   - the series becomes "<Roman>-<two Cyrillic capitals>", from inputs such as
//     "II-МЮ", "II МЮ", "IIМЮ", "II–МЮ", "ІІ-мю", "1V-AK" or "Ⅱ-МЮ": NFKC
//     (RuleCompat), invisible characters dropped, upper case (RuleCase); the
//     series splits at its last run of spaces or dashes, or, with none,
//     before its last two letters (RuleSeparators for any layout but one
//     "-"); in the Roman part Cyrillic І Х С М У Л and the digit 1 read as
//     I X C M V L I (RuleRomanLookalike), and the result must be a valid
//     Roman numeral in standard form (ErrBirthCertRoman); in the letter part
//     Latin lookalikes become Cyrillic (RuleLookalike) and Ё is Е (RuleYo);
//   - the number keeps its 6 or 7 digits, leading zeros included; spaces,
//     dashes and a leading "№" go (RuleSeparators, RuleNumberPrefix).
//
// For BirthCertForeign the series is free text and is dropped from the
// result (Series ""); the number is folded like a code (NFKC, upper case,
// separators and "№" removed, Latin lookalikes made Cyrillic so that both
// scripts compare alike) and must be 1–32 letters and digits.
//
// A certificate with neither series nor number is absent: the zero BirthCert,
// 0, nil.
func NormaliseBirthCert(c BirthCert) (BirthCert, RuleSet, error) {
	if c.IsZero() {
		return BirthCert{}, 0, nil
	}
	t, err := normaliseBirthCertType(c.Type)
	if err != nil {
		return BirthCert{}, 0, err
	}
	if t == BirthCertForeign {
		n, rules, err := normaliseForeignNumber(c.Number)
		if err != nil {
			return BirthCert{}, 0, err
		}
		if n == "" {
			return BirthCert{}, 0, fmt.Errorf("%w: the number is missing", ErrBirthCertNumber)
		}
		return BirthCert{Type: t, Number: n}, rules, nil
	}
	series, sr, err := NormaliseBirthCertSeries(c.Series)
	if err != nil {
		return BirthCert{}, 0, err
	}
	number, nr, err := NormaliseBirthCertNumber(c.Number)
	if err != nil {
		return BirthCert{}, 0, err
	}
	if series == "" {
		return BirthCert{}, 0, fmt.Errorf("%w: the series is missing", ErrBirthCertSeries)
	}
	if number == "" {
		return BirthCert{}, 0, fmt.Errorf("%w: the number is missing", ErrBirthCertNumber)
	}
	return BirthCert{Type: t, Series: series, Number: number}, sr | nr, nil
}

// normaliseBirthCertType maps "" to BirthCertRF and checks the type.
func normaliseBirthCertType(t BirthCertType) (BirthCertType, error) {
	switch BirthCertType(strings.ToUpper(strings.TrimSpace(string(t)))) {
	case "", BirthCertRF:
		return BirthCertRF, nil
	case BirthCertForeign:
		return BirthCertForeign, nil
	case BirthCertOld:
		return BirthCertOld, nil
	}
	return "", ErrBirthCertType
}

// NormaliseBirthCertSeries returns the canonical series of a Russian (or old)
// birth certificate, "II-МЮ", as NormaliseBirthCert describes. A blank series
// is absent: "", 0, nil.
func NormaliseBirthCertSeries(s string) (string, RuleSet, error) {
	if isCanonicalSeries(s) {
		return s, 0, nil
	}
	var rules RuleSet
	if norm.NFKC.QuickSpanString(s) != len(s) {
		if n := norm.NFKC.String(s); n != s {
			rules |= RuleCompat
			s = n
		}
	}
	// Collect the visible runes, upper-cased, and where the last run of
	// separators is.
	var (
		buf     [16]rune
		runes   = buf[:0]
		split   = -1 // index in runes where the letter part starts after separators
		seps    int  // separator runes
		sepRuns int
		inSep   bool
	)
	for _, r := range s {
		switch {
		case isInvisible(r):
			rules |= RuleInvisible
			continue
		case isSpace(r) || isDash(r):
			seps++
			if r != '-' {
				rules |= RuleSeparators
			}
			if !inSep {
				inSep = true
				sepRuns++
			}
			continue
		}
		if inSep && len(runes) > 0 {
			split = len(runes)
		}
		inSep = false
		u := toUpper(r)
		if u != r {
			rules |= RuleCase
		}
		runes = append(runes, u)
	}
	if len(runes) == 0 {
		return "", 0, nil
	}
	if split < 0 || inSep {
		// No separator between the parts (or only at the edges): the letter
		// part is the last two letters.
		if seps > 0 || len(runes) >= 3 {
			rules |= RuleSeparators
		}
		split = len(runes) - 2
	} else if seps > 1 || sepRuns > 1 {
		rules |= RuleSeparators
	}
	if split < 1 || len(runes)-split != 2 {
		return "", 0, ErrBirthCertSeries
	}
	var out strings.Builder
	out.Grow(split + 1 + 4)
	romanOK := true
	for _, r := range runes[:split] {
		n, lookalike, ok := romanLetter(r)
		if !ok {
			return "", 0, ErrBirthCertSeries
		}
		if lookalike {
			rules |= RuleRomanLookalike
		}
		out.WriteByte(n)
	}
	roman := out.String()
	if !validRoman(roman) {
		romanOK = false
	}
	out.WriteByte('-')
	for _, r := range runes[split:] {
		if c, ok := latinLookalike(r); ok {
			rules |= RuleLookalike
			r = c
		}
		if r == 'Ё' {
			rules |= RuleYo
			r = 'Е'
		}
		if !isCyrillicCapital(r) {
			return "", 0, ErrBirthCertSeries
		}
		out.WriteRune(r)
	}
	if !romanOK {
		return "", 0, ErrBirthCertRoman
	}
	return out.String(), rules, nil
}

// isCanonicalSeries reports "<valid Roman numeral>-<two of А–Я>".
func isCanonicalSeries(s string) bool {
	i := strings.IndexByte(s, '-')
	if i < 1 || !validRoman(s[:i]) {
		return false
	}
	rest := s[i+1:]
	r1, n1 := utf8.DecodeRuneInString(rest)
	r2, n2 := utf8.DecodeRuneInString(rest[n1:])
	return n1+n2 == len(rest) && 'А' <= r1 && r1 <= 'Я' && 'А' <= r2 && r2 <= 'Я'
}

// romanLetter reads one upper-cased rune of the Roman part: the Latin
// numerals themselves, and the Cyrillic letters and the digit that are
// written for them (DESIGN.md §5): І→I, Х→X, С→C, М→M, У→V, Л→L, 1→I.
func romanLetter(r rune) (numeral byte, lookalike, ok bool) {
	switch r {
	case 'I', 'V', 'X', 'L', 'C', 'D', 'M':
		return byte(r), false, true
	case 'І', '1': // U+0406 Cyrillic І
		return 'I', true, true
	case 'Х':
		return 'X', true, true
	case 'С':
		return 'C', true, true
	case 'М':
		return 'M', true, true
	case 'У':
		return 'V', true, true
	case 'Л':
		return 'L', true, true
	}
	return 0, false, false
}

// validRoman reports whether s is a Roman numeral from 1 to 3999 in standard
// (subtractive) form: the form toRoman would write for its value.
func validRoman(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	v, prev := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		d := romanValue(s[i])
		if d == 0 {
			return false
		}
		if d < prev {
			v -= d
		} else {
			v += d
			prev = d
		}
	}
	if v < 1 || v > 3999 {
		return false
	}
	var buf [15]byte
	return string(appendRoman(buf[:0], v)) == s
}

func romanValue(c byte) int {
	switch c {
	case 'I':
		return 1
	case 'V':
		return 5
	case 'X':
		return 10
	case 'L':
		return 50
	case 'C':
		return 100
	case 'D':
		return 500
	case 'M':
		return 1000
	}
	return 0
}

// appendRoman appends v (1–3999) as a standard Roman numeral.
func appendRoman(b []byte, v int) []byte {
	for _, p := range [...]struct {
		v int
		s string
	}{
		{1000, "M"}, {900, "CM"}, {500, "D"}, {400, "CD"}, {100, "C"}, {90, "XC"},
		{50, "L"}, {40, "XL"}, {10, "X"}, {9, "IX"}, {5, "V"}, {4, "IV"}, {1, "I"},
	} {
		for v >= p.v {
			b = append(b, p.s...)
			v -= p.v
		}
	}
	return b
}

// NormaliseBirthCertNumber returns the digits of a Russian (or old) birth
// certificate number, 6 or 7 of them, leading zeros kept, as
// NormaliseBirthCert describes. A blank number is absent: "", 0, nil.
func NormaliseBirthCertNumber(s string) (string, RuleSet, error) {
	if (len(s) == 6 || len(s) == 7) && allDigits(s) {
		return s, 0, nil
	}
	var (
		buf    [7]byte
		n      int
		rules  RuleSet
		digits bool
	)
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			if n < len(buf) {
				buf[n] = byte(r)
			}
			n++
			digits = true
		case isInvisible(r):
			rules |= RuleInvisible
		case isSpace(r), isDash(r):
			rules |= RuleSeparators
		case r == '№' && !digits:
			rules |= RuleNumberPrefix
		default:
			return "", 0, ErrBirthCertNumber
		}
	}
	switch {
	case n == 0 && rules&RuleNumberPrefix == 0:
		return "", 0, nil
	case n < 6 || n > 7:
		return "", 0, fmt.Errorf("%w: it has %d digits", ErrBirthCertNumber, n)
	}
	return string(buf[:n]), rules, nil
}

// normaliseForeignNumber folds the number of a foreign certificate.
func normaliseForeignNumber(s string) (string, RuleSet, error) {
	var rules RuleSet
	if norm.NFKC.QuickSpanString(s) != len(s) {
		if n := norm.NFKC.String(s); n != s {
			rules |= RuleCompat
			s = n
		}
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	n := 0
	for _, r := range s {
		switch {
		case isInvisible(r):
			rules |= RuleInvisible
			continue
		case isSpace(r), isDash(r):
			rules |= RuleSeparators
			continue
		case r == '№' && n == 0:
			rules |= RuleNumberPrefix
			continue
		case '0' <= r && r <= '9':
		case unicode.IsLetter(r):
			u := toUpper(r)
			if u != r {
				rules |= RuleCase
			}
			if c, ok := latinLookalike(u); ok {
				rules |= RuleLookalike
				u = c
			}
			if u == 'Ё' {
				rules |= RuleYo
				u = 'Е'
			}
			r = u
		default:
			return "", 0, ErrBirthCertNumber
		}
		n++
		b.WriteRune(r)
	}
	switch {
	case n == 0 && rules&RuleNumberPrefix == 0:
		return "", 0, nil
	case n == 0 || n > foreignNumberMax:
		return "", 0, ErrBirthCertNumber
	}
	return b.String(), rules, nil
}
