package linking

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/diarybroker/broker/pkg/store"
	"golang.org/x/text/unicode/norm"
)

// The fuzz targets check, for every normaliser: no panic; a normalised value
// normalises to itself with no rules (idempotence); the output stays in the
// field's alphabet; a value compared with itself is equal; its mask does not
// reveal it. Seeds are kept in testdata/fuzz/<target>/; run one with, for
// example, go test -run '^$' -fuzz '^FuzzNormaliseName$' -fuzztime 1m.

var (
	snilsDigitsRE = regexp.MustCompile(`^[0-9]{11}$`)
	snilsMaskRE   = regexp.MustCompile(`^\*\*\*-\*\*\*-[0-9]{3} [0-9]{2}$`)
	seriesRE      = regexp.MustCompile(`^[IVXLCDM]+-[А-Я]{2}$`)
	certNumberRE  = regexp.MustCompile(`^[0-9]{6,7}$`)
)

func FuzzNormaliseSNILS(f *testing.F) {
	f.Add("123-456-789 64")
	f.Fuzz(func(t *testing.T, s string) {
		v, rules, err := NormaliseSNILS(s)
		valid := SNILSChecksumValid(s)
		x := CompareSNILS(s, s)
		if err != nil {
			if v != "" || rules != 0 || valid || x.Result != ResultDifferent || x.Difference != DiffMalformed {
				t.Fatalf("%q: error %v with %q, %v, valid=%v, %v", s, err, v, rules, valid, x)
			}
			return
		}
		if v == "" {
			if rules != 0 || x.Result != ResultMissingBoth {
				t.Fatalf("%q: absent with %v, %v", s, rules, x)
			}
			return
		}
		if !snilsDigitsRE.MatchString(v) {
			t.Fatalf("%q: normalised to %q", s, v)
		}
		if v2, r2, err := NormaliseSNILS(v); v2 != v || r2 != 0 || err != nil {
			t.Fatalf("%q: not idempotent: %q → %q, %v, %v", s, v, v2, r2, err)
		}
		formatted, err := FormatSNILS(s)
		if v2, r2, err2 := NormaliseSNILS(formatted); err != nil || v2 != v || r2 != 0 || err2 != nil {
			t.Fatalf("%q: FormatSNILS = %q, %v; normalises to %q, %v", s, formatted, err, v2, r2)
		}
		if x.Result != ResultEqual {
			t.Fatalf("%q compared with itself: %v", s, x)
		}
		if y := CompareSNILS(v, s); !y.Matches() {
			t.Fatalf("%q compared with its normalised form: %v", s, y)
		}
		if (x.RosterIssue == IssueChecksum) == valid {
			t.Fatalf("%q: valid=%v, issue %q", s, valid, x.RosterIssue)
		}
		if m := MaskSNILS(s); !snilsMaskRE.MatchString(m) || m != x.Roster || strings.Contains(m, v[:6]) {
			t.Fatalf("%q: mask %q", s, m)
		}
	})
}

// checkNameAlphabet reports why v is not in the alphabet of NormaliseName's
// output, or "".
func checkNameAlphabet(v string) string {
	if !utf8.ValidString(v) || !norm.NFC.IsNormalString(v) {
		return "not valid NFC UTF-8"
	}
	if strings.HasPrefix(v, " ") || strings.HasPrefix(v, "-") || strings.HasSuffix(v, " ") || strings.HasSuffix(v, "-") {
		return "separator at an edge"
	}
	for _, bad := range []string{"  ", "--", " -", "- "} {
		if strings.Contains(v, bad) {
			return "separators not collapsed"
		}
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '-' }) {
		cyrillic := false
		for _, r := range w {
			cyrillic = cyrillic || unicode.Is(unicode.Cyrillic, r)
		}
		for _, r := range w {
			switch {
			case r == '\'' || r == '.' || unicode.IsMark(r):
			case !unicode.IsLetter(r):
				return "not a letter: " + string(r)
			case unicode.ToUpper(r) != r:
				return "not upper case: " + string(r)
			case r == 'Ё':
				return "Ё"
			case cyrillic && isLatinLookalike(r):
				return "Latin lookalike left in a Cyrillic word: " + string(r)
			}
		}
	}
	return ""
}

func isLatinLookalike(r rune) bool {
	_, ok := latinLookalike(r)
	return ok
}

func FuzzNormaliseName(f *testing.F) {
	f.Add("Семёнова")
	f.Fuzz(func(t *testing.T, s string) {
		v, rules, err := NormaliseName(s)
		if err != nil {
			if v != "" || rules != 0 {
				t.Fatalf("%q: error %v with %q, %v", s, err, v, rules)
			}
			if x := compareNamePart(FieldLastName, s, s); x.Result != ResultDifferent || x.Difference != DiffMalformed || x.Roster != maskMalformed {
				t.Fatalf("%q compared with itself: %v", s, x)
			}
			return
		}
		if v == "" {
			if rules != 0 {
				t.Fatalf("%q: absent with %v", s, rules)
			}
			return
		}
		if why := checkNameAlphabet(v); why != "" {
			t.Fatalf("%q: normalised to %q: %s", s, v, why)
		}
		if v2, r2, err := NormaliseName(v); v2 != v || r2 != 0 || err != nil {
			t.Fatalf("%q: not idempotent: %q → %q, %v, %v", s, v, v2, r2, err)
		}
		if x := compareNamePart(FieldLastName, s, s); x.Result != ResultEqual {
			t.Fatalf("%q compared with itself: %v", s, x)
		}
		if x := compareNamePart(FieldLastName, v, s); !x.Matches() || (rules != 0) != (x.Result == ResultEqualNormalised) {
			t.Fatalf("%q (rules %v) compared with %q: %v", s, rules, v, x)
		}
		full := FullName{Last: s, First: s, Patronymic: s}
		if sim := NameSimilarity(full, full); sim != 1 {
			t.Fatalf("%q: similarity with itself %v", s, sim)
		}
		if m := MaskName(s); m == v || !strings.Contains(m, "***") {
			t.Fatalf("%q: mask %q", s, m)
		}
	})
}

func FuzzNormaliseBirthCertSeries(f *testing.F) {
	f.Add("II-МЮ")
	f.Fuzz(func(t *testing.T, s string) {
		v, rules, err := NormaliseBirthCertSeries(s)
		if err != nil || v == "" {
			if v != "" || rules != 0 {
				t.Fatalf("%q: %q, %v, %v", s, v, rules, err)
			}
			return
		}
		if !seriesRE.MatchString(v) || !validRoman(v[:strings.IndexByte(v, '-')]) {
			t.Fatalf("%q: normalised to %q", s, v)
		}
		if v2, r2, err := NormaliseBirthCertSeries(v); v2 != v || r2 != 0 || err != nil {
			t.Fatalf("%q: not idempotent: %q → %q, %v, %v", s, v, v2, r2, err)
		}
		c := BirthCert{Series: s, Number: "123456"}
		if x := CompareBirthCert(c, c); x.Result != ResultEqual {
			t.Fatalf("%q compared with itself: %v", s, x)
		}
	})
}

func FuzzNormaliseBirthCertNumber(f *testing.F) {
	f.Add("123456")
	f.Fuzz(func(t *testing.T, s string) {
		v, rules, err := NormaliseBirthCertNumber(s)
		if err != nil || v == "" {
			if v != "" || rules != 0 {
				t.Fatalf("%q: %q, %v, %v", s, v, rules, err)
			}
			return
		}
		if !certNumberRE.MatchString(v) {
			t.Fatalf("%q: normalised to %q", s, v)
		}
		if v2, r2, err := NormaliseBirthCertNumber(v); v2 != v || r2 != 0 || err != nil {
			t.Fatalf("%q: not idempotent: %q → %q, %v, %v", s, v, v2, r2, err)
		}
		c := BirthCert{Series: "II-МЮ", Number: s}
		if x := CompareBirthCert(c, c); x.Result != ResultEqual {
			t.Fatalf("%q compared with itself: %v", s, x)
		}
		if m := MaskBirthCert(c); strings.Contains(m, v) {
			t.Fatalf("%q: mask %q", s, m)
		}
	})
}

func FuzzNormaliseBirthCert(f *testing.F) {
	f.Add(string(BirthCertForeign), "free text", "AB 12-34")
	f.Fuzz(func(t *testing.T, typ, series, number string) {
		in := BirthCert{Type: BirthCertType(typ), Series: series, Number: number}
		v, rules, err := NormaliseBirthCert(in)
		x := CompareBirthCert(in, in)
		if err != nil || v == (BirthCert{}) {
			if v != (BirthCert{}) || rules != 0 {
				t.Fatalf("%+v: %+v, %v, %v", in, v, rules, err)
			}
			if err != nil && x.Matches() {
				t.Fatalf("%+v: error %v but compared equal: %v", in, err, x)
			}
			return
		}
		switch v.Type {
		case BirthCertForeign:
			if v.Series != "" || v.Number == "" || utf8.RuneCountInString(v.Number) > foreignNumberMax {
				t.Fatalf("%+v: normalised to %+v", in, v)
			}
			for _, r := range v.Number {
				if _, latin := latinLookalike(r); latin || r == 'Ё' || !(unicode.IsLetter(r) || '0' <= r && r <= '9') || unicode.ToUpper(r) != r {
					t.Fatalf("%+v: normalised to %+v", in, v)
				}
			}
		case BirthCertRF, BirthCertOld:
			if !seriesRE.MatchString(v.Series) || !certNumberRE.MatchString(v.Number) {
				t.Fatalf("%+v: normalised to %+v", in, v)
			}
		default:
			t.Fatalf("%+v: type %q", in, v.Type)
		}
		if v2, r2, err := NormaliseBirthCert(v); v2 != v || r2 != 0 || err != nil {
			t.Fatalf("%+v: not idempotent: %+v → %+v, %v, %v", in, v, v2, r2, err)
		}
		if x.Result != ResultEqual {
			t.Fatalf("%+v compared with itself: %v", in, x)
		}
		if m := MaskBirthCert(in); m == "" || strings.Contains(m, v.Number) {
			t.Fatalf("%+v: mask %q", in, m)
		}
	})
}

func FuzzParseBirthDate(f *testing.F) {
	f.Add("29.02.2012")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseBirthDate(s)
		want, werr := store.ParseDate(trimBlank(s))
		if werr == nil && want.Year >= birthYearMin {
			if err != nil || d != want {
				t.Fatalf("%q: ParseBirthDate = %v, %v; store.ParseDate = %v", s, d, err, want)
			}
		} else if err == nil && !d.IsZero() {
			t.Fatalf("%q: ParseBirthDate = %v; store.ParseDate: %v, %v", s, d, want, werr)
		}
		if err != nil || d.IsZero() {
			if d != (store.Date{}) {
				t.Fatalf("%q: %v with %v", s, d, err)
			}
			return
		}
		if !validBirthDate(d) {
			t.Fatalf("%q: impossible date %v", s, d)
		}
		if d2, err := ParseBirthDate(d.String()); d2 != d || err != nil {
			t.Fatalf("%q: %v reparsed as %v, %v", s, d, d2, err)
		}
		if x := CompareBirthDate(d, d); x.Result != ResultEqual || x.RosterIssue != "" {
			t.Fatalf("%q compared with itself: %v", s, x)
		}
		if m := MaskBirthDate(d); strings.Contains(m, d.String()[5:]) {
			t.Fatalf("%q: mask %q", s, m)
		}
	})
}
