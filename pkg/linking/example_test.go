package linking_test

import (
	"fmt"

	"github.com/diarybroker/broker/pkg/linking"
)

// A roster import normalises each row once and keeps the canonical values
// (and their blind indexes); a SNILS with wrong check digits is kept as
// written and flagged for the school.
func ExampleNormaliseSNILS() {
	for _, in := range []string{"123-456-789 64", "123 456 789-64", "123-456-788 64", "1234567896"} {
		snils, rules, err := linking.NormaliseSNILS(in)
		if err != nil {
			fmt.Println("rejected:", err)
			continue
		}
		fmt.Println(snils, rules, linking.SNILSChecksumValid(snils))
	}
	// Output:
	// 12345678964  true
	// 12345678964 separators true
	// 12345678864  false
	// rejected: linking: SNILS must be 11 digits: it has 10 digits
}

func ExampleNormaliseName() {
	for _, in := range []string{"Семёнова", "Петров – Водкин", "Сeмeнов" /* Latin e */} {
		name, rules, _ := linking.NormaliseName(in)
		fmt.Printf("%s (%s)\n", name, rules)
	}
	// Output:
	// СЕМЕНОВА (case+yo)
	// ПЕТРОВ-ВОДКИН (case+dash)
	// СЕМЕНОВ (case+lookalike)
}

func ExampleNormaliseBirthCert() {
	cert, rules, err := linking.NormaliseBirthCert(linking.BirthCert{Series: "1V ak", Number: "№ 123456"})
	fmt.Println(cert.Type, cert.Series, cert.Number, rules, err)
	// Output:
	// RF_BRTH_CERT IV-АК 123456 case+lookalike+separators+roman_lookalike+number_prefix <nil>
}

func ExampleParseBirthDate() {
	for _, in := range []string{"29.02.2012", "2012-05-03", "29.02.2013"} {
		d, err := linking.ParseBirthDate(in)
		fmt.Println(d, err)
	}
	// Output:
	// 2012-02-29 <nil>
	// 2012-05-03 <nil>
	//  linking: birth date must be a calendar date written dd.MM.yyyy or yyyy-MM-dd
}

// Support staff see, field by field, why a diary record did not match; the
// values are masked.
func ExampleCompareSNILS() {
	fmt.Println(linking.CompareSNILS("123-456-789-64", "123-456-789 64"))
	fmt.Println(linking.CompareSNILS("123-456-798 64", "123-456-789 64"))
	// Output:
	// snils: equal_normalised (after separators) roster=***-***-789 64 esia=***-***-789 64
	// snils: different (transposition at 8) roster=***-***-798 64 roster_issue=checksum esia=***-***-789 64
}

func ExampleCompareName() {
	c := linking.CompareName(
		linking.FullName{Last: "Семенова", First: "Алена"},
		linking.FullName{Last: "СЕМЁНОВА", First: "АЛЁНА", Patronymic: "ИГОРЕВНА"})
	for _, f := range c.Fields() {
		fmt.Println(f)
	}
	fmt.Println("matches:", c.Matches())
	// Output:
	// last_name: equal_normalised (after case+yo) roster=С*** esia=С***
	// first_name: equal_normalised (after case+yo) roster=А*** esia=А***
	// patronymic: missing_roster esia=И***
	// matches: true
}

func ExampleCompareBirthCert() {
	fmt.Println(linking.CompareBirthCert(
		linking.BirthCert{Series: "1V-AK", Number: "123456"},
		linking.BirthCert{Type: linking.BirthCertRF, Series: "IV-АК", Number: "123465"}))
	// Output:
	// birth_cert: different (transposition at 5; after lookalike+roman_lookalike) roster=IV-АК ****56 esia=IV-АК ****65
}

func ExampleCompareBirthDate() {
	roster, _ := linking.ParseBirthDate("05.03.2012")
	esia, _ := linking.ParseBirthDate("03.05.2012")
	x := linking.CompareBirthDate(roster, esia)
	fmt.Println(x, x.Matches())
	// Output:
	// birth_date: different (day_month_swap) roster=**.**.2012 esia=**.**.2012 false
}

// NameSimilarity ranks roster candidates for an explanation; it never
// decides a match.
func ExampleNameSimilarity() {
	esia := linking.FullName{Last: "Семёнова", First: "Алёна", Patronymic: "Игоревна"}
	for _, candidate := range []linking.FullName{
		{Last: "Семенова", First: "Алена"},
		{Last: "Семенова", First: "Алина", Patronymic: "Игоревна"},
		{Last: "Семенова", First: "Мария", Patronymic: "Игоревна"},
	} {
		fmt.Printf("%s %s: %.2f\n", candidate.Last, candidate.First, linking.NameSimilarity(candidate, esia))
	}
	// Output:
	// Семенова Алена: 1.00
	// Семенова Алина: 0.96
	// Семенова Мария: 0.81
}

func ExampleMaskSNILS() {
	fmt.Println(linking.MaskSNILS("123-456-789 64"))
	fmt.Println(linking.MaskName("Петров-Водкин"))
	fmt.Println(linking.MaskBirthCert(linking.BirthCert{Series: "II-МЮ", Number: "123456"}))
	// Output:
	// ***-***-789 64
	// П***-В***
	// II-МЮ ****56
}
