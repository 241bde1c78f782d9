package linking

import (
	"reflect"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// checkExplanation compares the parts of an explanation a test cares about.
func checkExplanation(t *testing.T, got FieldExplanation, result FieldResult, diff Difference, at int, rules []string) {
	t.Helper()
	if got.Result != result || got.Difference != diff || got.At != at || !reflect.DeepEqual(got.Rules, rules) {
		t.Errorf("got %v\nwant result=%s difference=%q at=%d rules=%v", got, result, diff, at, rules)
	}
}

func TestCompareSNILS(t *testing.T) {
	const esia = "123-456-789 64" // valid check digits
	tests := []struct {
		name           string
		roster, esia   string
		result         FieldResult
		diff           Difference
		at             int
		rules          []string
		rIssue, eIssue Issue
	}{
		{"same layout", esia, esia, ResultEqual, "", 0, nil, "", ""},
		{"digits only against ESIA layout", "12345678964", esia, ResultEqual, "", 0, nil, "", ""},
		{"dash before check digits", "123-456-789-64", esia, ResultEqualNormalised, "", 0, []string{"separators"}, "", ""},
		{"spaces and no-break space", "123 456 789\u00a064", esia, ResultEqualNormalised, "", 0, []string{"separators"}, "", ""},
		{"one-digit typo", "123-456-788 64", esia, ResultDifferent, DiffOneDigit, 9, nil, IssueChecksum, ""},
		{"typo in the check digits", "123-456-789 65", esia, ResultDifferent, DiffOneDigit, 11, nil, IssueChecksum, ""},
		{"transposed digits", "123-456-798 64", esia, ResultDifferent, DiffTransposition, 8, nil, IssueChecksum, ""},
		{"another person", "112-233-445 95", esia, ResultDifferent, DiffOther, 0, nil, "", ""},
		{"leading zero lost in a spreadsheet", "1234567819", "012-345-678 19", ResultDifferent, DiffLeadingZero, 0, nil, IssueFormat, ""},
		{"not a SNILS", "12-34", esia, ResultDifferent, DiffMalformed, 0, nil, IssueFormat, ""},
		{"letters", "123-456-78O 64", esia, ResultDifferent, DiffMalformed, 0, nil, IssueFormat, ""},
		{"missing in the roster", "", esia, ResultMissingRoster, "", 0, nil, "", ""},
		{"missing in ESIA", esia, " ", ResultMissingESIA, "", 0, nil, "", ""},
		{"missing on both sides", "", "", ResultMissingBoth, "", 0, nil, "", ""},
		{"equal, wrong check digits on both sides", "123-456-789 46", "12345678946", ResultEqual, "", 0, nil, IssueChecksum, IssueChecksum},
		{"unchecked small number", "001-001-998 00", "001-001-998 00", ResultEqual, "", 0, nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CompareSNILS(tc.roster, tc.esia)
			if got.Field != FieldSNILS {
				t.Errorf("Field = %q", got.Field)
			}
			checkExplanation(t, got, tc.result, tc.diff, tc.at, tc.rules)
			if got.RosterIssue != tc.rIssue || got.ESIAIssue != tc.eIssue {
				t.Errorf("issues = %q, %q; want %q, %q", got.RosterIssue, got.ESIAIssue, tc.rIssue, tc.eIssue)
			}
		})
	}
}

func TestCompareSNILSMasks(t *testing.T) {
	got := CompareSNILS("123-456-788 64", "12345678964")
	if got.Roster != "***-***-788 64" || got.ESIA != "***-***-789 64" {
		t.Errorf("masks = %q, %q", got.Roster, got.ESIA)
	}
	got = CompareSNILS("1234567819", "012-345-678 19")
	if got.Roster != "***" || got.ESIA != "***-***-678 19" {
		t.Errorf("masks = %q, %q", got.Roster, got.ESIA)
	}
}

func TestCompareBirthCert(t *testing.T) {
	rf := func(series, number string) BirthCert {
		return BirthCert{Type: BirthCertRF, Series: series, Number: number}
	}
	tests := []struct {
		name           string
		roster, esia   BirthCert
		result         FieldResult
		diff           Difference
		at             int
		rules          []string
		rIssue, eIssue Issue
	}{
		{"equal", rf("II-МЮ", "123456"), rf("II-МЮ", "123456"), ResultEqual, "", 0, nil, "", ""},
		{"space in series", rf("II МЮ", "123456"), rf("II-МЮ", "123456"), ResultEqualNormalised, "", 0, []string{"separators"}, "", ""},
		{"1V against IV, Latin letters", rf("1V-AK", "123456"), rf("IV-АК", "123456"), ResultEqualNormalised, DiffLookalike, 0,
			[]string{"lookalike", "roman_lookalike"}, "", ""},
		{"Cyrillic І and lower case", rf("ІІ-мю", "123456"), rf("II-МЮ", "123456"), ResultEqualNormalised, DiffLookalike, 0,
			[]string{"case", "roman_lookalike"}, "", ""},
		{"roster type left out", BirthCert{Series: "II-МЮ", Number: "123456"}, rf("II-МЮ", "123456"), ResultEqual, "", 0, nil, "", ""},
		{"one-digit typo in number", rf("II-МЮ", "123457"), rf("II-МЮ", "123456"), ResultDifferent, DiffOneDigit, 6, nil, "", ""},
		{"transposed digits in number", rf("II-МЮ", "123465"), rf("II-МЮ", "123456"), ResultDifferent, DiffTransposition, 5, nil, "", ""},
		{"series differs", rf("III-МЮ", "123456"), rf("II-МЮ", "123456"), ResultDifferent, DiffSeries, 0, nil, "", ""},
		{"both differ", rf("III-МЮ", "654321"), rf("II-МЮ", "123456"), ResultDifferent, DiffOther, 0, nil, "", ""},
		{"leading zero lost", rf("II-МЮ", "12345"), rf("II-МЮ", "012345"), ResultDifferent, DiffLeadingZero, 0, nil, IssueFormat, ""},
		{"invalid Roman numeral", rf("IIII-МЮ", "123456"), rf("IV-МЮ", "123456"), ResultDifferent, DiffMalformed, 0, nil, IssueRoman, ""},
		{"missing in roster", BirthCert{}, rf("II-МЮ", "123456"), ResultMissingRoster, "", 0, nil, "", ""},
		{"missing on both sides", BirthCert{Type: BirthCertRF}, BirthCert{}, ResultMissingBoth, "", 0, nil, "", ""},
		{"foreign: series ignored", BirthCert{Type: BirthCertForeign, Series: "AB", Number: "12345"},
			BirthCert{Type: BirthCertForeign, Series: "free text", Number: "12345"}, ResultEqualNormalised, "", 0, []string{"number_only"}, "", ""},
		{"foreign: same series", BirthCert{Type: BirthCertForeign, Series: "AB", Number: "12345"},
			BirthCert{Type: BirthCertForeign, Series: "AB", Number: "12345"}, ResultEqual, "", 0, nil, "", ""},
		{"foreign on one side only", rf("II-МЮ", "123456"),
			BirthCert{Type: BirthCertForeign, Number: "123 456"}, ResultEqualNormalised, "", 0, []string{"separators", "number_only"}, "", ""},
		{"foreign: one digit", BirthCert{Type: BirthCertForeign, Number: "12345"},
			BirthCert{Type: BirthCertForeign, Number: "12346"}, ResultDifferent, DiffOneDigit, 5, []string{"number_only"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CompareBirthCert(tc.roster, tc.esia)
			checkExplanation(t, got, tc.result, tc.diff, tc.at, tc.rules)
			if got.RosterIssue != tc.rIssue || got.ESIAIssue != tc.eIssue {
				t.Errorf("issues = %q, %q; want %q, %q", got.RosterIssue, got.ESIAIssue, tc.rIssue, tc.eIssue)
			}
		})
	}
}

func TestCompareBirthDate(t *testing.T) {
	d := func(s string) store.Date {
		t.Helper()
		v, err := ParseBirthDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name         string
		roster, esia store.Date
		result       FieldResult
		diff         Difference
	}{
		{"equal", d("03.05.2012"), d("2012-05-03"), ResultEqual, ""},
		{"day and month swapped", d("05.03.2012"), d("03.05.2012"), ResultDifferent, DiffDayMonthSwap},
		{"swap with a day above 12 is impossible, so it is a day", d("03.05.2012"), d("04.05.2012"), ResultDifferent, DiffDay},
		{"year", d("03.05.2013"), d("03.05.2012"), ResultDifferent, DiffYear},
		{"month", d("03.06.2012"), d("03.05.2012"), ResultDifferent, DiffMonth},
		{"29 February against 1 March", d("01.03.2012"), d("29.02.2012"), ResultDifferent, DiffOther},
		{"29 February against 28 February", d("28.02.2012"), d("29.02.2012"), ResultDifferent, DiffDay},
		{"29 February equal", d("29.02.2012"), d("29.02.2012"), ResultEqual, ""},
		{"swap across years is other", d("05.03.2013"), d("03.05.2012"), ResultDifferent, DiffOther},
		{"missing in roster", store.Date{}, d("03.05.2012"), ResultMissingRoster, ""},
		{"missing in ESIA", d("03.05.2012"), store.Date{}, ResultMissingESIA, ""},
		{"missing on both sides", store.Date{}, store.Date{}, ResultMissingBoth, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CompareBirthDate(tc.roster, tc.esia)
			checkExplanation(t, got, tc.result, tc.diff, 0, nil)
			if got.Field != FieldBirthDate {
				t.Errorf("Field = %q", got.Field)
			}
		})
	}
	got := CompareBirthDate(store.Date{Year: 2013, Month: time.February, Day: 29}, d("01.03.2013"))
	if got.RosterIssue != IssueDate || got.ESIAIssue != "" || got.Result != ResultDifferent {
		t.Errorf("impossible date: %v", got)
	}
	if got := CompareBirthDate(d("05.03.2012"), d("03.05.2012")); got.Roster != "**.**.2012" || got.ESIA != "**.**.2012" {
		t.Errorf("masks = %q, %q", got.Roster, got.ESIA)
	}
}

func TestFieldExplanationString(t *testing.T) {
	got := CompareSNILS("123-456-788 64", "123-456-789 64").String()
	want := "snils: different (one_digit at 9) roster=***-***-788 64 roster_issue=checksum esia=***-***-789 64"
	if got != want {
		t.Errorf("String() = %q\nwant       %q", got, want)
	}
	got = compareNamePart(FieldFirstName, "Алёна", "Алена").String()
	want = "first_name: equal_normalised (after yo) roster=А*** esia=А***"
	if got != want {
		t.Errorf("String() = %q\nwant       %q", got, want)
	}
}
