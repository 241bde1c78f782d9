package linking

import (
	"errors"
	"strconv"
	"strings"
)

// The field names used in FieldExplanation.Field and FieldError.Field. They
// are stable: login attempts store them and the support console shows them.
const (
	FieldSNILS      = "snils"
	FieldLastName   = "last_name"
	FieldFirstName  = "first_name"
	FieldPatronymic = "patronymic" // отчество, ESIA's middleName
	FieldBirthCert  = "birth_cert"
	FieldBirthDate  = "birth_date"
)

// FieldResult says how the roster's value of one field compares with ESIA's.
type FieldResult string

// The results of a field comparison (DESIGN.md §5: "equal / equal after
// normalisation (which rule) / different (how) / missing on one side").
const (
	// ResultEqual: the values are the same as written, or differ only in a
	// canonical layout of the field (a SNILS as "NNN-NNN-NNN NN" or as 11
	// digits).
	ResultEqual FieldResult = "equal"
	// ResultEqualNormalised: the values are the same only after the rules in
	// FieldExplanation.Rules (ё→е, a Latin lookalike, case, dashes …).
	ResultEqualNormalised FieldResult = "equal_normalised"
	// ResultDifferent: the values differ after normalisation, or one of them
	// cannot be read; FieldExplanation.Difference says how.
	ResultDifferent FieldResult = "different"
	// ResultMissingRoster: the diary record has no value, ESIA has one.
	ResultMissingRoster FieldResult = "missing_roster"
	// ResultMissingESIA: ESIA has no value, the diary record has one.
	ResultMissingESIA FieldResult = "missing_esia"
	// ResultMissingBoth: neither side has a value.
	ResultMissingBoth FieldResult = "missing_both"
)

// Difference says how two values differ, for support staff to tell the school
// what to fix. For ResultEqualNormalised it names the notable rule (yo,
// lookalike_letter) or is empty when only case, spaces or dashes differed.
type Difference string

// The kinds of difference.
const (
	// DiffOneDigit: the numbers differ in one digit (FieldExplanation.At).
	DiffOneDigit Difference = "one_digit"
	// DiffOneLetter: the names differ by one letter replaced, added or
	// left out ("АНДРЕЙ"/"АНДРЕИ", "ИВАНОВ"/"ИВАНОВА").
	DiffOneLetter Difference = "one_letter"
	// DiffTransposition: two neighbouring characters are swapped.
	DiffTransposition Difference = "transposition"
	// DiffLookalike: equal once lookalike characters are read as the letter
	// they look like (a Latin "Е" in a Cyrillic name, "1V" for "IV").
	DiffLookalike Difference = "lookalike_letter"
	// DiffYo: equal once "Ё" is read as "Е".
	DiffYo Difference = "yo"
	// DiffLeadingZero: the numbers are equal but for leading zeros one side
	// lost (a spreadsheet stored the SNILS or the number as an integer).
	DiffLeadingZero Difference = "leading_zero"
	// DiffSeparator: the names differ only in a space or hyphen between their
	// words ("ПЕТРОВ ВОДКИН"/"ПЕТРОВ-ВОДКИН").
	DiffSeparator Difference = "separator"
	// DiffPartOf: one side is one word of the other's double name
	// ("ПЕТРОВА"/"ПЕТРОВА-ВОДКИНА").
	DiffPartOf Difference = "part_of"
	// DiffSwappedFields: the surname of one side is the given name of the
	// other and the other way round: the columns were swapped.
	DiffSwappedFields Difference = "swapped_fields"
	// DiffSeries: the certificates have the same number and different series.
	DiffSeries Difference = "series"
	// DiffDayMonthSwap: the dates have the same year and their day and month
	// swapped (03.05 for 05.03): a diagnosable typo, never a match.
	DiffDayMonthSwap Difference = "day_month_swap"
	// DiffYear, DiffMonth, DiffDay: the dates differ in that part only.
	DiffYear  Difference = "year"
	DiffMonth Difference = "month"
	DiffDay   Difference = "day"
	// DiffMalformed: a side's value cannot be read (see RosterIssue and
	// ESIAIssue), so the values cannot be compared.
	DiffMalformed Difference = "malformed"
	// DiffOther: any other difference.
	DiffOther Difference = "other"
)

// Issue is a problem with one side's value on its own, whatever the other
// side holds.
type Issue string

// The issues a value can have.
const (
	// IssueFormat: the value cannot be read as the field (wrong number of
	// digits, characters no name has, an unknown document type …).
	IssueFormat Issue = "format"
	// IssueChecksum: the SNILS's check digits do not match its number; the
	// value was compared as written, never corrected.
	IssueChecksum Issue = "checksum"
	// IssueRoman: the Roman part of a certificate series is not a valid
	// numeral ("IIII", "VX").
	IssueRoman Issue = "roman_numeral"
	// IssueDate: the date does not exist in the calendar or is before 1900.
	IssueDate Issue = "impossible_date"
)

// FieldExplanation is what support staff see about one field of a failed or
// successful match. It never holds a raw value: Roster and ESIA are masked
// (see MaskSNILS, MaskName, MaskBirthCert, MaskBirthDate), so an explanation
// can be stored in a login attempt and shown in the support console.
type FieldExplanation struct {
	Field  string      `json:"field"`
	Result FieldResult `json:"result"`
	// Rules are the names of the normalisation rules (RuleSet.Names) that
	// fired on one side only ("Алёна" against "Алена": both were
	// upper-cased, only one had ё→е, so Rules is [yo]). For
	// ResultEqualNormalised, when both sides fired the same rules, it is all
	// of them. Empty for ResultEqual.
	Rules      []string   `json:"rules,omitempty"`
	Difference Difference `json:"difference,omitempty"`
	// At is the 1-based position, in the roster's normalised value, of the
	// character where a one_digit, one_letter or transposition difference
	// is; 0 otherwise. A position reveals no value.
	At          int    `json:"at,omitempty"`
	Roster      string `json:"roster,omitempty"`
	ESIA        string `json:"esia,omitempty"`
	RosterIssue Issue  `json:"roster_issue,omitempty"`
	ESIAIssue   Issue  `json:"esia_issue,omitempty"`
}

// Matches reports whether the field agrees: equal, or equal after
// normalisation.
func (x FieldExplanation) Matches() bool {
	return x.Result == ResultEqual || x.Result == ResultEqualNormalised
}

// Differs reports whether the field contradicts: both sides have a value and
// they differ (or one cannot be read). A missing value is unknown, not a
// difference.
func (x FieldExplanation) Differs() bool { return x.Result == ResultDifferent }

// String renders the explanation on one line for logs and tests, for example
// "snils: different (one_digit at 11) roster=***-***-789 01 esia=***-***-789 02".
// It holds masked values only.
func (x FieldExplanation) String() string {
	var b strings.Builder
	b.WriteString(x.Field)
	b.WriteString(": ")
	b.WriteString(string(x.Result))
	// For equal_normalised the difference only repeats a rule.
	diff := x.Difference != "" && x.Result != ResultEqualNormalised
	if diff || len(x.Rules) > 0 {
		b.WriteString(" (")
		sep := ""
		if diff {
			b.WriteString(string(x.Difference))
			if x.At > 0 {
				b.WriteString(" at ")
				b.WriteString(strconv.Itoa(x.At))
			}
			sep = "; "
		}
		if len(x.Rules) > 0 {
			b.WriteString(sep)
			b.WriteString("after ")
			b.WriteString(strings.Join(x.Rules, "+"))
		}
		b.WriteByte(')')
	}
	if x.Roster != "" {
		b.WriteString(" roster=")
		b.WriteString(x.Roster)
	}
	if x.RosterIssue != "" {
		b.WriteString(" roster_issue=")
		b.WriteString(string(x.RosterIssue))
	}
	if x.ESIA != "" {
		b.WriteString(" esia=")
		b.WriteString(x.ESIA)
	}
	if x.ESIAIssue != "" {
		b.WriteString(" esia_issue=")
		b.WriteString(string(x.ESIAIssue))
	}
	return b.String()
}

// side is one side's value of a field during a comparison.
type side struct {
	raw    string  // as written, only to tell "identical" from "normalised"
	value  string  // normalised; "" when absent or malformed
	rules  RuleSet // rules that fired while normalising
	err    error   // normalisation error: the value is malformed
	absent bool
}

func newSide(raw, value string, rules RuleSet, err error) side {
	return side{raw: raw, value: value, rules: rules, err: err, absent: err == nil && value == ""}
}

// explain fills Field, Result, Rules and, for equal_normalised, Difference.
// The caller adds masks, issues and the kind of difference.
func explain(field string, r, e side) FieldExplanation {
	x := FieldExplanation{Field: field}
	switch {
	case r.absent && e.absent:
		x.Result = ResultMissingBoth
	case r.absent:
		x.Result = ResultMissingRoster
	case e.absent:
		x.Result = ResultMissingESIA
	case r.err != nil || e.err != nil:
		x.Result = ResultDifferent
		x.Difference = DiffMalformed
	case r.value == e.value:
		rules := explainRules(r.rules, e.rules)
		if r.raw == e.raw || rules == 0 {
			x.Result = ResultEqual
			break
		}
		x.Result = ResultEqualNormalised
		x.Rules = rules.Names()
		x.Difference = notableRule(rules)
	default:
		x.Result = ResultDifferent
		// Only what one side alone went through: that both were
		// upper-cased says nothing about why they differ.
		x.Rules = (r.rules ^ e.rules).Names()
		x.Difference = DiffOther
	}
	return x
}

// explainRules picks the rules that account for the difference between two
// raw values: those that fired on one side only ("Алёна" against "Алена":
// both were upper-cased, only one had ё→е, so the answer is yo), or all of
// them when both sides fired the same rules.
func explainRules(r, e RuleSet) RuleSet {
	if d := r ^ e; d != 0 {
		return d
	}
	return r | e
}

// notableRule names the rule support should hear about first.
func notableRule(rules RuleSet) Difference {
	switch {
	case rules&(RuleLookalike|RuleRomanLookalike) != 0:
		return DiffLookalike
	case rules.Has(RuleYo):
		return DiffYo
	}
	return ""
}

// issueOf maps a normalisation error to the side's issue.
func issueOf(err error) Issue {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBirthCertRoman):
		return IssueRoman
	}
	return IssueFormat
}
