package linking

import (
	"strings"
	"unicode/utf8"
)

// Masks of the support console's pages (docs/support.md), where a person
// on the phone must be recognised without the page showing what is not
// needed for it:
//
//   - a full name: the last name in full and the initials, «Павлов И. Н.»;
//   - a document number: all but its last three characters, "***345";
//   - a contact: an e-mail's first letter and domain, "s***@example.com",
//     a phone's last two digits, "***67".
//
// A SNILS and a birth date are masked as everywhere else (MaskSNILS,
// MaskBirthDate).

// MaskFullName masks a full name as its last name and initials: «Павлов
// И. Н.». A part that cannot be read masks as "***".
func MaskFullName(last, first, middle string) string {
	parts := []string{}
	if l, _, err := NormaliseName(last); err != nil {
		parts = append(parts, maskMalformed)
	} else if l != "" {
		parts = append(parts, strings.TrimSpace(last))
	}
	for _, p := range []string{first, middle} {
		v, _, err := NormaliseName(p)
		switch {
		case err != nil:
			parts = append(parts, maskMalformed)
		case v != "":
			r, _ := utf8.DecodeRuneInString(strings.TrimSpace(p))
			parts = append(parts, string(r)+".")
		}
	}
	return strings.Join(parts, " ")
}

// MaskDocumentNumber masks a document number as stars and its last three
// characters, "***345"; a number of three characters or fewer is all
// stars, "***".
func MaskDocumentNumber(n string) string {
	n = strings.TrimSpace(n)
	count := utf8.RuneCountInString(n)
	if count == 0 {
		return ""
	}
	if count <= 3 {
		return "***"
	}
	tail := []rune(n)[count-3:]
	return strings.Repeat("*", count-3) + string(tail)
}

// MaskContact masks an e-mail address ("s***@example.com") or a phone
// number ("***67").
func MaskContact(kind, value string) string {
	value = strings.TrimSpace(value)
	if kind == "email" {
		if at := strings.LastIndexByte(value, '@'); at > 0 {
			r, _ := utf8.DecodeRuneInString(value)
			return string(r) + "***" + value[at:]
		}
		return maskMalformed
	}
	var digits []rune
	for _, r := range value {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 6 {
		return maskMalformed
	}
	return "***" + string(digits[len(digits)-2:])
}
