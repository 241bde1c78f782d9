package linking

import (
	"strings"

	"github.com/hbollon/go-edlib"
)

// NameComparison is the field-by-field comparison of two ФИО.
type NameComparison struct {
	Last       FieldExplanation `json:"last"`
	First      FieldExplanation `json:"first"`
	Patronymic FieldExplanation `json:"patronymic"`
}

// Fields returns the three explanations in the order surname, given name,
// patronymic.
func (c NameComparison) Fields() []FieldExplanation {
	return []FieldExplanation{c.Last, c.First, c.Patronymic}
}

// Matches reports whether the names agree: surnames and given names match
// (ResultEqual or ResultEqualNormalised), and the patronymics match or one of
// them is absent, which is unknown and not a difference (DESIGN.md §5).
func (c NameComparison) Matches() bool {
	return c.Last.Matches() && c.First.Matches() && !c.Patronymic.Differs()
}

// CompareName compares the roster's ФИО with ESIA's part by part (see
// NormaliseName for the rules). A patronymic present on one side only is
// ResultMissingRoster or ResultMissingESIA, which NameComparison.Matches
// does not count as a difference.
//
// Differences are classified as separator ("ПЕТРОВ ВОДКИН"/"ПЕТРОВ-ВОДКИН"),
// part_of (one word of a double name), one_letter, transposition or other;
// when the surname of each side is the other's given name, both parts are
// swapped_fields.
func CompareName(roster, esia FullName) NameComparison {
	c := NameComparison{
		Last:       compareNamePart(FieldLastName, roster.Last, esia.Last),
		First:      compareNamePart(FieldFirstName, roster.First, esia.First),
		Patronymic: compareNamePart(FieldPatronymic, roster.Patronymic, esia.Patronymic),
	}
	if c.Last.Differs() && c.First.Differs() {
		rl, _, err1 := NormaliseName(roster.Last)
		rf, _, err2 := NormaliseName(roster.First)
		el, _, err3 := NormaliseName(esia.Last)
		ef, _, err4 := NormaliseName(esia.First)
		if err1 == nil && err2 == nil && err3 == nil && err4 == nil && rl == ef && rf == el {
			c.Last.Difference, c.Last.At = DiffSwappedFields, 0
			c.First.Difference, c.First.At = DiffSwappedFields, 0
		}
	}
	return c
}

// compareNamePart compares one part of a ФИО.
func compareNamePart(field, roster, esia string) FieldExplanation {
	rv, rr, rerr := NormaliseName(roster)
	ev, er, eerr := NormaliseName(esia)
	x := explain(field, newSide(roster, rv, rr, rerr), newSide(esia, ev, er, eerr))
	x.Roster, x.ESIA = maskNameValue(rv, rerr), maskNameValue(ev, eerr)
	x.RosterIssue, x.ESIAIssue = issueOf(rerr), issueOf(eerr)
	if x.Result == ResultDifferent && rerr == nil && eerr == nil {
		x.Difference, x.At = classifyName(rv, ev)
	}
	return x
}

// classifyName says how two different normalised name parts differ.
func classifyName(a, b string) (Difference, int) {
	if stripSeparators(a) == stripSeparators(b) {
		return DiffSeparator, 0
	}
	if isWordOf(a, b) || isWordOf(b, a) {
		return DiffPartOf, 0
	}
	return classifyRunes([]rune(a), []rune(b))
}

// classifyRunes finds one substitution, insertion or deletion (one_letter)
// or one swap of neighbours (transposition); At is 1-based in a.
func classifyRunes(a, b []rune) (Difference, int) {
	p := 0 // common prefix
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0 // common suffix, not overlapping the prefix
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	da, db := len(a)-p-s, len(b)-p-s // lengths of the differing middles
	switch {
	case da <= 1 && db <= 1:
		return DiffOneLetter, p + 1
	case da == 2 && db == 2 && a[p] == b[p+1] && a[p+1] == b[p]:
		return DiffTransposition, p + 1
	}
	return DiffOther, 0
}

func stripSeparators(s string) string {
	return separators.Replace(s)
}

// separators is built once: a Replacer is safe for concurrent use, and
// building one per call was a third of the cost of explaining a failed match.
var separators = strings.NewReplacer(" ", "", "-", "")

// isWordOf reports whether w is one of the words (split at " " and "-") of a
// value with several words.
func isWordOf(w, s string) bool {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' })
	if len(words) < 2 {
		return false
	}
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// Weights of the parts in NameSimilarity: the surname tells people apart
// best, the patronymic least (and it is often absent).
const (
	weightLast       = 0.45
	weightFirst      = 0.35
	weightPatronymic = 0.20
	// swappedPenalty scales the score of the reading with surname and given
	// name swapped, so that a true match in the right columns ranks first.
	swappedPenalty = 0.9
)

// NameSimilarity scores how alike two ФИО are, from 0 (nothing alike) to 1
// (equal after normalisation), to rank roster candidates in explanations; it
// never decides a match.
//
// Each part is normalised (NormaliseName; a malformed part is only trimmed
// and upper-cased) and scored with the Jaro-Winkler similarity of
// github.com/hbollon/go-edlib, which works on runes, so Cyrillic letters
// count as one character each. The parts are weighted 0.45 (surname), 0.35
// (given name) and 0.20 (patronymic); a patronymic absent on either side is
// left out and the other weights are scaled up. The reading with surname and
// given name swapped counts too, at 0.9 of its score.
func NameSimilarity(a, b FullName) float64 {
	na, nb := similarityForm(a), similarityForm(b)
	straight := nameScore(na.Last, nb.Last, na.First, nb.First, na.Patronymic, nb.Patronymic)
	swapped := swappedPenalty * nameScore(na.Last, nb.First, na.First, nb.Last, na.Patronymic, nb.Patronymic)
	return max(straight, swapped)
}

func nameScore(l1, l2, f1, f2, p1, p2 string) float64 {
	score := weightLast*partSimilarity(l1, l2) + weightFirst*partSimilarity(f1, f2)
	if p1 == "" || p2 == "" {
		return score / (weightLast + weightFirst)
	}
	return score + weightPatronymic*partSimilarity(p1, p2)
}

func partSimilarity(a, b string) float64 {
	if a == "" || b == "" {
		return 0
	}
	return float64(edlib.JaroWinklerSimilarity(a, b))
}

// similarityForm normalises each part, falling back to a trimmed upper-case
// form for a part NormaliseName rejects.
func similarityForm(n FullName) FullName {
	part := func(s string) string {
		v, _, err := NormaliseName(s)
		if err != nil {
			return strings.ToUpper(strings.TrimSpace(s))
		}
		return v
	}
	return FullName{Last: part(n.Last), First: part(n.First), Patronymic: part(n.Patronymic)}
}
