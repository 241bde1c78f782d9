package linking

import (
	"strings"
	"unicode"
)

// RuleSet records which normalisation rules changed a value. It is a bit set
// so that the normalisers, which run on every login and on every row of a
// roster import, can record rules without allocating; Names renders it for
// explanations.
type RuleSet uint16

// The normalisation rules. Each normaliser documents which of them it applies
// and in what order. The names returned by RuleSet.Names are stable: they are
// stored in login attempts and shown to support staff.
const (
	// RuleInvisible: zero-width and direction characters (U+200B–U+200F,
	// U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF, soft hyphen
	// U+00AD) were removed. They arrive with values pasted from Word, Excel
	// and web pages and cannot be seen by the person who typed them.
	RuleInvisible RuleSet = 1 << iota
	// RuleNFC: the value was brought to Unicode NFC (for example "е" followed
	// by a combining diaeresis became "ё", "и" with a combining breve "й").
	RuleNFC
	// RuleCompat: compatibility characters were folded (NFKC), for example
	// the Roman numeral sign "Ⅱ" or full-width letters in a certificate
	// series. Only codes get NFKC; names get NFC.
	RuleCompat
	// RuleCase: letters were upper-cased.
	RuleCase
	// RuleYo: "Ё" was written as "Е". Russian writing makes the two dots
	// optional (Правила 1956 г., §10), so diaries and registries disagree.
	RuleYo
	// RuleLookalike: a Latin letter (or the digit zero) that looks like a
	// Cyrillic letter was replaced by that Cyrillic letter: the keyboard was
	// in the wrong layout, or the text was pasted from a PDF.
	RuleLookalike
	// RuleDash: a dash other than the ASCII hyphen-minus ("‐", "‑", "‒", "–",
	// "—", "―", "−" …), repeated hyphens or spaces around a hyphen were
	// replaced by one "-".
	RuleDash
	// RuleSpace: whitespace was trimmed, collapsed to one space, or a
	// non-breaking or other Unicode space was replaced by " ".
	RuleSpace
	// RuleApostrophe: a typographic apostrophe ("’", "ʼ", "‘", "`", "´", "′")
	// was replaced by "'".
	RuleApostrophe
	// RuleSeparators: a SNILS or a certificate was written in a layout other
	// than the canonical one (other spaces, dashes or none at all).
	RuleSeparators
	// RuleRomanLookalike: the Roman part of a certificate series was written
	// with Cyrillic letters (І Х С М У Л) or the digit 1 and read as the
	// Latin numerals I X C M V L I.
	RuleRomanLookalike
	// RuleNumberPrefix: a "№" sign before a certificate number was removed.
	RuleNumberPrefix
	// RuleNumberOnly: a foreign birth certificate (FID_BRTH_CERT) was compared
	// by its number only; its series is free text.
	RuleNumberOnly

	ruleEnd // one past the last rule
)

var ruleNames = [...]string{
	"invisible",
	"nfc",
	"compat",
	"case",
	"yo",
	"lookalike",
	"dash",
	"space",
	"apostrophe",
	"separators",
	"roman_lookalike",
	"number_prefix",
	"number_only",
}

// Has reports whether every rule of r is in s.
func (s RuleSet) Has(r RuleSet) bool { return s&r == r }

// Names returns the names of the rules in s, in the order of the constants,
// or nil when s is empty.
func (s RuleSet) Names() []string {
	if s == 0 {
		return nil
	}
	var names []string
	for i, name := range ruleNames {
		if s&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// String returns the rule names joined by "+", or "" when s is empty.
func (s RuleSet) String() string { return strings.Join(s.Names(), "+") }

// isInvisible reports characters that have no glyph: format controls that
// come with copied text and the soft hyphen.
func isInvisible(r rune) bool {
	switch {
	case r == 0x00AD, r == 0xFEFF:
		return true
	case 0x200B <= r && r <= 0x200F,
		0x202A <= r && r <= 0x202E,
		0x2060 <= r && r <= 0x2064,
		0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

// isDash reports the hyphen and dash characters people type or paste in place
// of the hyphen-minus: U+2010 hyphen, U+2011 non-breaking hyphen, U+2012
// figure dash, U+2013 en dash, U+2014 em dash, U+2015 horizontal bar, U+2212
// minus sign, U+2E3A/U+2E3B two- and three-em dashes, U+FE58 small em dash,
// U+FE63 small hyphen-minus and U+FF0D full-width hyphen-minus.
func isDash(r rune) bool {
	switch r {
	case '-', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212,
		0x2E3A, 0x2E3B, 0xFE58, 0xFE63, 0xFF0D:
		return true
	}
	return false
}

// isSpace reports Unicode white space, as unicode.IsSpace does (the no-break
// spaces U+00A0, U+2007 and U+202F included), without its table look-up for
// the Cyrillic letters every name is made of.
func isSpace(r rune) bool {
	switch {
	case r < 0x80:
		return r == ' ' || ('\t' <= r && r <= '\r')
	case r < 0x1680:
		return r == 0x85 || r == 0xA0
	case 0x2000 <= r && r <= 0x200A:
		return true
	}
	switch r {
	case 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return false
}

// isApostrophe reports the characters used as an apostrophe in names
// (О'Нил, Д'Артаньян).
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', 0x00B4, 0x02B9, 0x02BC, 0x2018, 0x2019, 0x2032:
		return true
	}
	return false
}

// latinLookalike maps the upper-case Latin letters that are drawn like a
// Cyrillic capital to that capital. Names and certificate letters are
// upper-cased before this map is used, so it serves lower-case input too.
// Besides the spec's A B C E H K M O P T X Y it has Ë (Latin E with
// diaeresis, typed for Ё on Latin keyboards); Ë maps to Ё, which the yo
// rule then writes as Е.
func latinLookalike(r rune) (rune, bool) {
	switch r {
	case 'A':
		return 'А', true
	case 'B':
		return 'В', true
	case 'C':
		return 'С', true
	case 'E':
		return 'Е', true
	case 'H':
		return 'Н', true
	case 'K':
		return 'К', true
	case 'M':
		return 'М', true
	case 'O':
		return 'О', true
	case 'P':
		return 'Р', true
	case 'T':
		return 'Т', true
	case 'X':
		return 'Х', true
	case 'Y':
		return 'У', true
	case 'Ë':
		return 'Ё', true
	}
	return r, false
}

// isCyrillicCapital reports А–Я and Ё.
func isCyrillicCapital(r rune) bool {
	return ('А' <= r && r <= 'Я') || r == 'Ё'
}

// toUpper upper-cases r, with a fast path for ASCII and basic Cyrillic.
func toUpper(r rune) rune {
	switch {
	case 'a' <= r && r <= 'z':
		return r - ('a' - 'A')
	case 'а' <= r && r <= 'я':
		return r - ('а' - 'А')
	case r == 'ё':
		return 'Ё'
	case r < 0x80, 'А' <= r && r <= 'Я':
		return r
	}
	return unicode.ToUpper(r)
}
