package support

import (
	"fmt"
	"strings"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// comparedFields are the fields of the side-by-side table, in its order.
var comparedFields = []string{linking.FieldSNILS, linking.FieldBirthDate, linking.FieldLastName,
	linking.FieldFirstName, linking.FieldPatronymic, linking.FieldBirthCert}

// moreDifferences name the differences the advice does not name.
var moreDifferences = map[linking.Difference]string{
	linking.DiffLeadingZero:   "потеряны ведущие нули",
	linking.DiffSeparator:     "пробел вместо дефиса или наоборот",
	linking.DiffPartOf:        "одна часть двойной фамилии",
	linking.DiffSwappedFields: "фамилия и имя перепутаны местами",
	linking.DiffMonth:         "другой месяц",
	linking.DiffDay:           "другой день",
	linking.DiffMalformed:     "значение не читается",
	linking.DiffOther:         "другое значение",
}

var issueTitles = map[linking.Issue]string{
	linking.IssueFormat:   "неверный формат",
	linking.IssueChecksum: "не сходится контрольное число",
	linking.IssueRoman:    "неверная римская цифра в серии",
	linking.IssueDate:     "такой даты нет",
}

func differenceTitle(d linking.Difference) string {
	if t := differences[d]; t != "" {
		return t
	}
	return moreDifferences[d]
}

// resultText says in Russian how a field compared.
func resultText(fx linking.FieldExplanation) string {
	var t string
	switch fx.Result {
	case linking.ResultDifferent:
		t = "отличается"
		if d := differenceTitle(fx.Difference); strings.HasPrefix(d, "отличается") {
			t = d
		} else if d != "" {
			t += ": " + d
		}
		if fx.At > 0 {
			t += fmt.Sprintf(" (символ %d)", fx.At)
		}
	case linking.ResultEqualNormalised:
		t = resultTitles[fx.Result]
		if d := differenceTitle(fx.Difference); d != "" {
			t += " (" + d + ")"
		}
	default:
		t = resultTitles[fx.Result]
		if t == "" {
			t = string(fx.Result)
		}
	}
	if i := issueTitles[fx.RosterIssue]; i != "" {
		t += "; в дневнике: " + i
	}
	if i := issueTitles[fx.ESIAIssue]; i != "" {
		t += "; на Госуслугах: " + i
	}
	return t
}

// fieldOf is a candidate's explanation of field.
func fieldOf(c linking.Candidate, field string) (linking.FieldExplanation, bool) {
	for _, f := range c.Fields {
		if f.Field == field {
			return f, true
		}
	}
	return linking.FieldExplanation{}, false
}

// fieldRows builds the side-by-side table: each field the login compared
// (or, with no candidate, each ESIA gave), ESIA's value and each
// candidate's, masked but for reveal.
func fieldRows(x explanation, records map[string]store.Person, out *AttemptDetail, reveal string) []FieldRow {
	var rows []FieldRow
	for _, field := range comparedFields {
		compared := false
		for _, c := range x.Candidates {
			if _, ok := fieldOf(c, field); ok {
				compared = true
			}
		}
		var esiaID linking.Identity
		if out.esia != nil {
			esiaID = esiaIdentity(*out.esia)
		}
		if !compared && (out.esia == nil || len(x.Candidates) > 0 || identityValue(esiaID, field) == "") {
			continue
		}
		row := FieldRow{Field: field, Name: fieldNames[field], Revealable: true}
		// ESIA's value: marked where the most similar candidate differs.
		var first linking.FieldExplanation
		if len(x.Candidates) > 0 {
			first, _ = fieldOf(x.Candidates[0], field)
		}
		switch {
		case out.esia != nil:
			row.ESIA = shown(field, identityValue(esiaID, field), esiaID.BirthDate, first, reveal == field)
		default:
			for _, c := range x.Candidates {
				if f, ok := fieldOf(c, field); ok && f.ESIA != "" {
					row.ESIA = plain(f.ESIA)
					break
				}
			}
		}
		for i, c := range x.Candidates {
			col := out.Columns[i]
			fx, ok := fieldOf(c, field)
			cell := Cell{}
			if !col.InScope {
				row.Cells = append(row.Cells, cell)
				continue
			}
			if ok {
				cell.Result, cell.Differs = resultText(fx), fx.Differs()
				cell.Missing = fx.Result == linking.ResultMissingRoster || fx.Result == linking.ResultMissingESIA
			}
			rec, known := records[c.ExternalID]
			if !known {
				cell.Value = plain(fx.Roster) // deleted since: the login's mask
				row.Cells = append(row.Cells, cell)
				continue
			}
			id := linking.IdentityOfRecord(rec)
			cell.Value = shown(field, identityValue(id, field), id.BirthDate, fx, reveal == field)
			if out.esia != nil {
				if now, ok := compareNow(field, id, *out.esia); ok && (now.Result != fx.Result || now.Difference != fx.Difference) {
					cell.Now = resultText(now)
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// esiaIdentity is ESIA's side as the ladder compares it: its first
// birth certificate that reads as one.
func esiaIdentity(p linking.Person) linking.Identity {
	id := p.Identity
	for _, c := range p.BirthCerts {
		if n, _, err := linking.NormaliseBirthCert(c); err == nil && n.Number != "" {
			id.BirthCert = c
			break
		}
	}
	return id
}

// identityValue is an identity's value of field, as written.
func identityValue(id linking.Identity, field string) string {
	switch field {
	case linking.FieldSNILS:
		return strings.TrimSpace(id.SNILS)
	case linking.FieldLastName:
		return strings.TrimSpace(id.Name.Last)
	case linking.FieldFirstName:
		return strings.TrimSpace(id.Name.First)
	case linking.FieldPatronymic:
		return strings.TrimSpace(id.Name.Patronymic)
	case linking.FieldBirthDate:
		return id.BirthDate.String()
	case linking.FieldBirthCert:
		return strings.TrimSpace(strings.TrimSpace(id.BirthCert.Series) + " " + strings.TrimSpace(id.BirthCert.Number))
	}
	return ""
}

// compareNow compares a record's field with ESIA's as the ladder does.
func compareNow(field string, rec linking.Identity, p linking.Person) (linking.FieldExplanation, bool) {
	esia := esiaIdentity(p)
	switch field {
	case linking.FieldSNILS:
		return linking.CompareSNILS(rec.SNILS, esia.SNILS), true
	case linking.FieldBirthDate:
		return linking.CompareBirthDate(rec.BirthDate, esia.BirthDate), true
	case linking.FieldBirthCert:
		return linking.CompareBirthCert(rec.BirthCert, esia.BirthCert), true
	}
	for _, f := range linking.CompareName(rec.Name, esia.Name).Fields() {
		if f.Field == field {
			return f, true
		}
	}
	return linking.FieldExplanation{}, false
}

// shown is a value as the page shows it: in full when full, otherwise
// masked — a SNILS as ***-***-445 95, a certificate number but its last
// three characters, a surname in full and the other name parts as
// initials («Павлов И. С.»), a birth date as its year with the parts that
// differ (fx) marked.
func shown(field, raw string, birth store.Date, fx linking.FieldExplanation, full bool) Value {
	if raw == "" {
		return Value{}
	}
	if full {
		v := plain(fullValue(field, raw, birth))
		v.Full = true
		return v
	}
	switch field {
	case linking.FieldSNILS:
		return plain(linking.MaskSNILS(raw))
	case linking.FieldLastName:
		return plain(linking.MaskFullName(raw, "", ""))
	case linking.FieldFirstName, linking.FieldPatronymic:
		// The initial, as in «Павлов И. С.».
		return plain(strings.TrimSpace(linking.MaskFullName("", raw, "")))
	case linking.FieldBirthCert:
		return plain(maskDocument(raw))
	case linking.FieldBirthDate:
		return maskDate(birth, fx.Difference, fx.Differs())
	}
	return plain("***")
}

// fullValue is a value shown in full: a SNILS as NNN-NNN-NNN NN, a date
// as DD.MM.YYYY.
func fullValue(field, raw string, birth store.Date) string {
	switch field {
	case linking.FieldSNILS:
		return formatSNILS(raw)
	case linking.FieldBirthDate:
		return fmt.Sprintf("%02d.%02d.%04d", birth.Day, int(birth.Month), birth.Year)
	}
	return raw
}

// maskDocument masks a document as the console does everywhere
// (linking.MaskDocumentNumber): all of its number but the last three
// characters; the series (a certificate's Roman numeral and letters)
// stays.
func maskDocument(raw string) string {
	series, number := "", raw
	if i := strings.LastIndexByte(raw, ' '); i >= 0 {
		series, number = raw[:i], raw[i+1:]
	}
	return strings.TrimSpace(series + " " + linking.MaskDocumentNumber(number))
}

// maskDate masks a birth date as **.**.YYYY, marking the parts that
// differ.
func maskDate(d store.Date, diff linking.Difference, differs bool) Value {
	day, month, year := false, false, false
	if differs {
		switch diff {
		case linking.DiffDay:
			day = true
		case linking.DiffMonth:
			month = true
		case linking.DiffYear:
			year = true
		case linking.DiffDayMonthSwap:
			day, month = true, true
		default:
			day, month, year = true, true, true
		}
	}
	return Value{Parts: []Part{{Text: "**", Mark: day}, {Text: "."}, {Text: "**", Mark: month}, {Text: "."},
		{Text: fmt.Sprintf("%04d", d.Year), Mark: year}}}
}
