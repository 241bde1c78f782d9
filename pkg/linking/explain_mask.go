package linking

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/diarybroker/broker/pkg/store"
)

// Masking: the forms in which personal data may appear in explanations, login
// attempts and the support console (DESIGN.md §3, §8: no SNILS, document
// number, ФИО or birth date in the clear). Every mask is computed from the
// normalised value, so the two sides of an explanation are masked alike, and
// every mask hides part of the value whatever its length:
//
//   - SNILS: the last five digits, "***-***-789 01". They are what a person
//     reads out to confirm a number, and they show a typo in the last part.
//   - A name part: the first letter of each word and a fixed "***",
//     "И***", "П***-В***". The fixed tail hides the length.
//   - A birth certificate: the series in full (a Roman numeral and a region
//     code identify nobody) and the last two characters of the number,
//     "II-МЮ ****56"; a foreign certificate shows the number's last two
//     characters only, "****56", and none when its number is shorter than
//     six characters, "****". The fixed "****" hides the length.
//   - A birth date: the year only, "**.**.2012".
//
// A value that is absent masks as "". A value that cannot be read masks as
// "***": a malformed value may be anything, so none of it is shown; the
// explanation's Issue says what is wrong with it.
const maskMalformed = "***"

// MaskSNILS masks a SNILS in any layout NormaliseSNILS accepts as
// "***-***-789 01" (the last five digits).
func MaskSNILS(s string) string {
	d, _, err := NormaliseSNILS(s)
	return maskSNILSValue(d, err)
}

func maskSNILSValue(d string, err error) string {
	switch {
	case err != nil:
		return maskMalformed
	case d == "":
		return ""
	}
	return "***-***-" + d[6:9] + " " + d[9:11]
}

// MaskName masks one name part as the first letter of each of its words and
// "***": "Петров-Водкин" → "П***-В***".
func MaskName(s string) string {
	v, _, err := NormaliseName(s)
	return maskNameValue(v, err)
}

func maskNameValue(v string, err error) string {
	switch {
	case err != nil:
		return maskMalformed
	case v == "":
		return ""
	}
	var b strings.Builder
	b.Grow(len(v))
	start := true
	for _, r := range v {
		switch {
		case r == ' ' || r == '-':
			b.WriteRune(r)
			start = true
		case start:
			b.WriteRune(r)
			b.WriteString("***")
			start = false
		}
	}
	return b.String()
}

// MaskBirthCert masks a birth certificate as its series and the last two
// characters of its number: "II-МЮ ****56" ("****56" for a foreign one,
// "****" when its number is shorter than six characters).
func MaskBirthCert(c BirthCert) string {
	n, _, err := NormaliseBirthCert(c)
	return maskBirthCertValue(n, err)
}

func maskBirthCertValue(c BirthCert, err error) string {
	switch {
	case err != nil:
		return maskMalformed
	case c.Number == "":
		return ""
	}
	// Two characters show only when four or more stay hidden: a Russian
	// number always has 6 or 7 digits, a foreign one may be short.
	tail := ""
	if n := utf8.RuneCountInString(c.Number); n >= 6 {
		tail = c.Number
		for ; n > 2; n-- {
			_, size := utf8.DecodeRuneInString(tail)
			tail = tail[size:]
		}
	}
	number := "****" + tail
	if c.Series == "" {
		return number
	}
	return c.Series + " " + number
}

// MaskBirthDate masks a date as its year: "**.**.2012". The zero Date masks
// as "", a date with an impossible year as "**.**.****".
func MaskBirthDate(d store.Date) string {
	switch {
	case d.IsZero():
		return ""
	case d.Year < 1 || d.Year > 9999:
		return "**.**.****"
	}
	y := strconv.Itoa(d.Year)
	return "**.**." + strings.Repeat("0", 4-len(y)) + y
}
