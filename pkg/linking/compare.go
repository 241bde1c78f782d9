package linking

import (
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

// CompareSNILS compares the roster's SNILS with ESIA's, both in any layout
// NormaliseSNILS accepts.
//
// Equal numbers are equal whatever their check digits; a side whose check
// digits are wrong gets IssueChecksum, so support can tell the school that
// its number cannot be right. Different numbers are classified as one_digit,
// transposition, leading_zero (a spreadsheet dropped the leading zero, so the
// roster has 10 digits) or other; a value that is not a SNILS is malformed
// (IssueFormat) unless it is one of those typos.
func CompareSNILS(roster, esia string) FieldExplanation {
	rv, rr, rerr := NormaliseSNILS(roster)
	ev, er, eerr := NormaliseSNILS(esia)
	x := explain(FieldSNILS, newSide(roster, rv, rr, rerr), newSide(esia, ev, er, eerr))
	x.Roster, x.ESIA = maskSNILSValue(rv, rerr), maskSNILSValue(ev, eerr)
	x.RosterIssue, x.ESIAIssue = snilsIssue(rv, rerr), snilsIssue(ev, eerr)
	if x.Result != ResultDifferent {
		return x
	}
	rd, ev2 := rv, ev
	if rerr != nil {
		rd, _ = snilsDigits(roster)
	}
	if eerr != nil {
		ev2, _ = snilsDigits(esia)
	}
	if rd != "" && ev2 != "" {
		d, at := compareDigits(rd, ev2)
		if rerr == nil && eerr == nil || d != DiffOther {
			x.Difference, x.At = d, at
		}
	}
	return x
}

func snilsIssue(d string, err error) Issue {
	switch {
	case err != nil:
		return IssueFormat
	case d != "" && !snilsChecksumOK(d):
		return IssueChecksum
	}
	return ""
}

// compareDigits classifies two different digit strings.
func compareDigits(a, b string) (Difference, int) {
	if len(a) != len(b) {
		if strings.TrimLeft(a, "0") == strings.TrimLeft(b, "0") {
			return DiffLeadingZero, 0
		}
		return DiffOther, 0
	}
	first, n := -1, 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			if first < 0 {
				first = i
			}
			n++
		}
	}
	switch {
	case n == 1:
		return DiffOneDigit, first + 1
	case n == 2 && first+1 < len(a) && a[first] == b[first+1] && a[first+1] == b[first]:
		return DiffTransposition, first + 1
	}
	return DiffOther, 0
}

// CompareBirthCert compares the roster's birth certificate with ESIA's.
//
// When either side is a foreign certificate (BirthCertForeign) only the
// numbers are compared, folded as NormaliseBirthCert folds a foreign number,
// and RuleNumberOnly is among the rules. Otherwise series and number are
// normalised and compared together: the same number with another series is
// a series difference; the same series with another number is classified
// like a SNILS (one_digit, transposition, leading_zero, other).
func CompareBirthCert(roster, esia BirthCert) FieldExplanation {
	rt, _ := normaliseBirthCertType(roster.Type)
	et, _ := normaliseBirthCertType(esia.Type)
	if rt == BirthCertForeign || et == BirthCertForeign {
		return compareBirthCertNumbers(roster, esia)
	}
	rc, rr, rerr := NormaliseBirthCert(roster)
	ec, er, eerr := NormaliseBirthCert(esia)
	x := explain(FieldBirthCert,
		newSide(roster.Series+"\x00"+roster.Number, certKey(rc), rr, rerr),
		newSide(esia.Series+"\x00"+esia.Number, certKey(ec), er, eerr))
	x.Roster, x.ESIA = maskBirthCertValue(rc, rerr), maskBirthCertValue(ec, eerr)
	x.RosterIssue, x.ESIAIssue = issueOf(rerr), issueOf(eerr)
	if x.Result != ResultDifferent {
		return x
	}
	if rerr == nil && eerr == nil {
		switch {
		case rc.Number == ec.Number:
			x.Difference = DiffSeries
		case rc.Series == ec.Series:
			x.Difference, x.At = compareDigits(rc.Number, ec.Number)
		}
		return x
	}
	// A malformed side: perhaps only its number lost a leading zero or got
	// one digit too many.
	rs, _, rserr := NormaliseBirthCertSeries(roster.Series)
	es, _, eserr := NormaliseBirthCertSeries(esia.Series)
	rn, rok := snilsDigits(roster.Number)
	en, eok := snilsDigits(esia.Number)
	if rserr == nil && eserr == nil && rs == es && rs != "" && rok && eok && rn != "" && en != "" {
		if d, at := compareDigits(rn, en); d != DiffOther {
			x.Difference, x.At = d, at
		}
	}
	return x
}

// certKey is the comparable form of a normalised certificate.
func certKey(c BirthCert) string {
	if c.Number == "" {
		return ""
	}
	return c.Series + " " + c.Number
}

// compareBirthCertNumbers compares certificates by number only.
func compareBirthCertNumbers(roster, esia BirthCert) FieldExplanation {
	rn, rr, rerr := normaliseForeignNumber(roster.Number)
	en, er, eerr := normaliseForeignNumber(esia.Number)
	x := explain(FieldBirthCert, newSide(roster.Number, rn, rr, rerr), newSide(esia.Number, en, er, eerr))
	sameSeries := strings.TrimSpace(roster.Series) == strings.TrimSpace(esia.Series)
	switch {
	case x.Result == ResultEqual && !sameSeries:
		x.Result = ResultEqualNormalised
		x.Rules = []string{RuleNumberOnly.String()}
	case x.Result == ResultEqualNormalised || x.Result == ResultDifferent:
		x.Rules = append(x.Rules, RuleNumberOnly.String())
	}
	x.Roster = maskBirthCertValue(BirthCert{Number: rn}, rerr)
	x.ESIA = maskBirthCertValue(BirthCert{Number: en}, eerr)
	x.RosterIssue, x.ESIAIssue = issueOf(rerr), issueOf(eerr)
	if x.Result == ResultDifferent && rerr == nil && eerr == nil && allDigits(rn) && allDigits(en) {
		x.Difference, x.At = compareDigits(rn, en)
	}
	return x
}

// CompareBirthDate compares the roster's birth date with ESIA's. The zero
// Date is absent. A day/month swap (03.05 against 05.03 of the same year) is
// DiffDayMonthSwap: a typo support can diagnose, never a match. Otherwise a
// difference in the year, the month or the day alone is named; anything else
// is other. A date that does not exist in the calendar, or is before 1900,
// gets IssueDate.
func CompareBirthDate(roster, esia store.Date) FieldExplanation {
	x := FieldExplanation{
		Field:  FieldBirthDate,
		Roster: MaskBirthDate(roster),
		ESIA:   MaskBirthDate(esia),
	}
	if !roster.IsZero() && !validBirthDate(roster) {
		x.RosterIssue = IssueDate
	}
	if !esia.IsZero() && !validBirthDate(esia) {
		x.ESIAIssue = IssueDate
	}
	switch {
	case roster.IsZero() && esia.IsZero():
		x.Result = ResultMissingBoth
		return x
	case roster.IsZero():
		x.Result = ResultMissingRoster
		return x
	case esia.IsZero():
		x.Result = ResultMissingESIA
		return x
	case roster == esia:
		x.Result = ResultEqual
		return x
	}
	x.Result = ResultDifferent
	sameY, sameM, sameD := roster.Year == esia.Year, roster.Month == esia.Month, roster.Day == esia.Day
	switch {
	case sameY && int(roster.Month) == esia.Day && roster.Day == int(esia.Month):
		x.Difference = DiffDayMonthSwap
	case sameM && sameD:
		x.Difference = DiffYear
	case sameY && sameD:
		x.Difference = DiffMonth
	case sameY && sameM:
		x.Difference = DiffDay
	default:
		x.Difference = DiffOther
	}
	return x
}
