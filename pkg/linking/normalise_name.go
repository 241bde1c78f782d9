package linking

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ErrNameCharacters reports a name part with characters no name has: digits
// (other than a zero standing for the letter О), punctuation other than the
// hyphen, the apostrophe and the dot, symbols and control characters. The
// error never quotes the value.
var ErrNameCharacters = errors.New("linking: name has characters other than letters, spaces, hyphens, apostrophes and dots")

// FullName is a person's ФИО as ESIA and the diaries keep it: the surname
// (фамилия), the given name (имя) and the patronymic (отчество). An empty
// Patronymic means "unknown" (ESIA omits middleName for people who have none,
// and diaries often leave it out): it is never a difference.
type FullName struct {
	Last       string `json:"last"`
	First      string `json:"first"`
	Patronymic string `json:"patronymic,omitempty"`
}

// NormaliseName returns the canonical form of one part of a ФИО (a surname,
// a given name or a patronymic) and the rules that changed it.
//
// In order (DESIGN.md §5):
//  1. Unicode NFC (RuleNFC), so that "е"+U+0308 is "ё" and "и"+U+0306 is "й";
//     invisible characters are dropped (RuleInvisible).
//  2. White space is trimmed and collapsed to one " " (RuleSpace). Every
//     hyphen or dash variant (isDash) becomes "-" with no space around it,
//     so "Петров – Водкин" is "ПЕТРОВ-ВОДКИН" (RuleDash): a double surname
//     stays one value. Typographic apostrophes become "'" (RuleApostrophe).
//  3. Letters are upper-cased (RuleCase) and "Ё" is written "Е" (RuleYo).
//  4. Latin letters drawn like Cyrillic capitals (latinLookalike: A B C E H K
//     M O P T X Y and Ë, in either case since upper-casing comes first) and
//     the digit 0 become the Cyrillic letters (RuleLookalike), in every word
//     that has a Cyrillic letter, and in a word made only of such letters
//     (the whole name typed in the Latin layout: "OKCAHA"). A word of Latin
//     letters with other letters among them ("ANNA") is left Latin: it is a
//     name written in Latin script, not a slip.
//
// The result has upper-case letters (no "Ё"), combining marks NFC could not
// compose, "'", "." and single " " or "-" between words. Normalising it again
// gives it back with no rules. A blank input is absent: "", 0, nil. Any other
// character is ErrNameCharacters.
func NormaliseName(s string) (string, RuleSet, error) {
	canonical, simple := scanName(s)
	if canonical {
		return s, 0, nil
	}
	var rules RuleSet
	if !simple && norm.NFC.QuickSpanString(s) != len(s) {
		if n := norm.NFC.String(s); n != s {
			rules |= RuleNFC
			s = n
		}
	}
	out, r, marks, err := normaliseNameNFC(s)
	if err != nil {
		return "", 0, err
	}
	if out == "" {
		return "", 0, nil // blank: absent
	}
	rules |= r
	// A mapped letter followed by a combining mark may now compose (Latin
	// "Y"+U+0306 has no precomposed form, Cyrillic "Ў" has): run again until
	// the value is stable, which takes at most a couple of rounds.
	for i := 0; marks && i < 4; i++ {
		n := norm.NFC.String(out)
		if n == out {
			break
		}
		rules |= RuleNFC
		if out, r, marks, err = normaliseNameNFC(n); err != nil {
			return "", 0, err
		}
		rules |= r
	}
	return out, rules, nil
}

// NormaliseFullName normalises the three parts of n with NormaliseName and
// returns the union of the rules that fired. The first error is returned,
// wrapped with the part's field name.
func NormaliseFullName(n FullName) (FullName, RuleSet, error) {
	var out FullName
	var all RuleSet
	for _, p := range [...]struct {
		field string
		in    string
		out   *string
	}{
		{FieldLastName, n.Last, &out.Last},
		{FieldFirstName, n.First, &out.First},
		{FieldPatronymic, n.Patronymic, &out.Patronymic},
	} {
		v, r, err := NormaliseName(p.in)
		if err != nil {
			return FullName{}, 0, fieldError(p.field, err)
		}
		*p.out = v
		all |= r
	}
	return out, all, nil
}

// scanName looks at s once. canonical reports a value NormaliseName would
// return unchanged, made only of А–Я (no Ё), "'" and "." with single " " or
// "-" between words: the common case of an already normalised value, which
// then costs nothing. simple reports a value made only of ASCII and the
// Russian letters, which is in NFC (none of them decomposes or combines), so
// the NFC check can be skipped.
func scanName(s string) (canonical, simple bool) {
	canonical, simple = s != "", true
	sep := true // at the start, a separator is not allowed
	for _, r := range s {
		switch {
		case 'А' <= r && r <= 'Я', r == '\'', r == '.':
			sep = false
		case r == ' ', r == '-':
			if sep {
				canonical = false
			}
			sep = true
		default:
			canonical = false
			if r >= 0x80 && !isRussianLetter(r) {
				return false, false
			}
		}
	}
	return canonical && !sep, simple
}

// isRussianLetter reports А–я, Ё and ё.
func isRussianLetter(r rune) bool {
	return ('А' <= r && r <= 'я') || r == 'Ё' || r == 'ё'
}

// isFastLetter reports the letters most names are made of, without the
// Unicode table look-ups of unicode.IsLetter.
func isFastLetter(r rune) bool {
	return isRussianLetter(r) || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
}

// normaliseNameNFC applies steps 2–4 of NormaliseName to an NFC string. marks
// reports whether the output has combining marks (and may need NFC again).
func normaliseNameNFC(s string) (out string, rules RuleSet, marks bool, err error) {
	var b strings.Builder
	b.Grow(len(s) + len(s)/2) // a Latin lookalike grows from 1 byte to 2
	var (
		inSep   bool // inside a run of separators
		sepDash bool // the run has a dash
		sepRule RuleSet
		sepN    int
	)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case isInvisible(r):
			rules |= RuleInvisible
			i += size
			continue
		case isSpace(r) || isDash(r):
			if !inSep {
				inSep, sepDash, sepRule, sepN = true, false, 0, 0
			}
			sepN++
			if isDash(r) {
				sepDash = true
				if r != '-' {
					sepRule |= RuleDash
				}
			} else if r != ' ' {
				sepRule |= RuleSpace
			}
			i += size
			continue
		}
		// A word starts at i and runs to the next separator.
		if inSep || b.Len() == 0 {
			rules |= separatorRules(b.Len() == 0 && inSep, inSep, sepDash, sepRule, sepN)
			if b.Len() > 0 {
				if sepDash {
					b.WriteByte('-')
				} else {
					b.WriteByte(' ')
				}
			}
			inSep = false
		}
		end := wordEnd(s, i)
		mapLookalikes := wordTakesLookalikes(s[i:end])
		for _, r := range s[i:end] {
			switch {
			case isFastLetter(r):
			case isInvisible(r):
				rules |= RuleInvisible
				continue
			case isApostrophe(r):
				if r != '\'' {
					rules |= RuleApostrophe
				}
				b.WriteByte('\'')
				continue
			case r == '.':
				b.WriteByte('.')
				continue
			case r == '0' && mapLookalikes:
				rules |= RuleLookalike
				b.WriteRune('О')
				continue
			case unicode.IsMark(r):
				marks = true
				b.WriteRune(r)
				continue
			case !unicode.IsLetter(r):
				return "", 0, false, ErrNameCharacters
			}
			u := toUpper(r)
			if u != r {
				rules |= RuleCase
			}
			if c, ok := latinLookalike(u); ok && mapLookalikes {
				rules |= RuleLookalike
				u = c
			}
			if u == 'Ё' {
				rules |= RuleYo
				u = 'Е'
			}
			b.WriteRune(u)
		}
		i = end
	}
	if inSep { // trailing separators
		rules |= separatorRules(true, true, sepDash, sepRule, sepN)
	}
	return b.String(), rules, marks, nil
}

// separatorRules returns the rules a run of n separators fired. A run at
// either end of the value is dropped; a run between words becomes "-" when it
// has a dash and " " otherwise.
func separatorRules(atEdge, inSep, dash bool, rules RuleSet, n int) RuleSet {
	if !inSep {
		return 0
	}
	switch {
	case atEdge && dash:
		return rules | RuleDash
	case atEdge:
		return rules | RuleSpace
	case dash && n > 1:
		return rules | RuleDash
	case n > 1:
		return rules | RuleSpace
	}
	return rules
}

// wordEnd returns the index in s of the first separator at or after i, or
// len(s).
func wordEnd(s string, i int) int {
	for j, r := range s[i:] {
		if isSpace(r) || isDash(r) {
			return i + j
		}
	}
	return len(s)
}

// wordTakesLookalikes decides whether the Latin lookalikes of a word become
// Cyrillic: when the word has a Cyrillic letter, or when it has Latin letters
// and every letter or digit in it is a lookalike (the Latin layout was on).
// Both tests look at upper-cased letters, so that the decision is the same
// for the value and for its normalised form (idempotence).
func wordTakesLookalikes(w string) bool {
	allLookalike, latin := true, false
	for _, r := range w {
		switch {
		case isRussianLetter(r):
			return true
		case r == '0':
			continue
		case r < 0x80 && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'):
			continue // ASCII punctuation
		case unicode.Is(unicode.Cyrillic, r):
			return true
		case unicode.IsLetter(r):
			if _, ok := latinLookalike(toUpper(r)); ok {
				latin = true
			} else {
				allLookalike = false
			}
		}
	}
	return allLookalike && latin
}

// fieldError prefixes err with the field it is about, keeping errors.Is.
func fieldError(field string, err error) error {
	return &FieldError{Field: field, Err: err}
}

// FieldError is an error about one field of a person (FieldSNILS,
// FieldLastName …). It never carries the field's value.
type FieldError struct {
	Field string
	Err   error
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the underlying error, such as ErrNameCharacters.
func (e *FieldError) Unwrap() error { return e.Err }
