package linking

import (
	"testing"

	"github.com/diarybroker/broker/pkg/store"
)

// The normalisers run on every login and on every row of roster imports of
// millions of rows: values already in canonical form must cost no
// allocation, and any other value at most the one of its result.

var (
	benchString string
	benchRules  RuleSet
	benchErr    error
	benchCert   BirthCert
	benchDate   store.Date
	benchExpl   FieldExplanation
	benchScore  float64
)

func BenchmarkNormaliseSNILS(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"digits", "12345678964"},
		{"esia", "123-456-789 64"},
		{"spaces", "123 456 789 64"},
		{"malformed", "123-456-789 6"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchString, benchRules, benchErr = NormaliseSNILS(bc.in)
			}
		})
	}
}

func BenchmarkSNILSChecksumValid(b *testing.B) {
	b.ReportAllocs()
	ok := false
	for b.Loop() {
		ok = SNILSChecksumValid("12345678964")
	}
	_ = ok
}

func BenchmarkNormaliseName(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"canonical", "СЕМЕНОВА-ВОДКИНА"},
		{"mixed_case", "Семенова-Водкина"},
		{"yo_dash", "Семёнова – Водкина"},
		{"lookalike", "Ceмёнoва"},
		{"decomposed", "Семе\u0308нова"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				benchString, benchRules, benchErr = NormaliseName(bc.in)
			}
		})
	}
}

func BenchmarkNormaliseBirthCert(b *testing.B) {
	for _, bc := range []struct {
		name string
		in   BirthCert
	}{
		{"canonical", BirthCert{Type: BirthCertRF, Series: "II-МЮ", Number: "123456"}},
		{"messy", BirthCert{Series: "1V ak", Number: "№ 123 456"}},
		{"foreign", BirthCert{Type: BirthCertForeign, Series: "x", Number: "AB-123456"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchCert, benchRules, benchErr = NormaliseBirthCert(bc.in)
			}
		})
	}
}

func BenchmarkParseBirthDate(b *testing.B) {
	for _, in := range []string{"03.05.2012", "2012-05-03"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchDate, benchErr = ParseBirthDate(in)
			}
		})
	}
}

func BenchmarkCompareSNILS(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		benchExpl = CompareSNILS("123-456-788 64", "123-456-789 64")
	}
}

func BenchmarkNameSimilarity(b *testing.B) {
	x := FullName{Last: "Семёнова", First: "Алёна", Patronymic: "Игоревна"}
	y := FullName{Last: "Семенова", First: "Алина", Patronymic: "Игоревна"}
	b.ReportAllocs()
	for b.Loop() {
		benchScore = NameSimilarity(x, y)
	}
}
