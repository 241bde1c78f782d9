package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Maximum lengths, in characters (Unicode code points, as JSON Schema's
// maxLength counts), of the strings the stores keep. Every store refuses a
// longer one with a *FieldError. They are documented in
// docs/roster-format.md and api/openapi.yaml.
//
// Ids are bounded so that the widest key of the schema (tenant, parent and
// student of a relation: three ids, at worst 4 bytes a character) stays
// under PostgreSQL's btree row limit of 2704 bytes.
const (
	// MaxIDLength bounds ids: record ids (external_id, parent, student),
	// tenant, client, consent, request and event ids, ESIA oids,
	// reference codes.
	MaxIDLength = 128
	// MaxNameLength bounds a last, first or middle name.
	MaxNameLength = 200
	// MaxSchoolLength bounds a school's name.
	MaxSchoolLength = 300
	// MaxClassLength bounds a class («5А», «10 физ-мат»).
	MaxClassLength = 100
	// MaxDocumentLength bounds a SNILS as written and the type, series,
	// number and act number of a birth certificate.
	MaxDocumentLength = 32
	// MaxContactLength bounds a contact's value (an e-mail address may have
	// 254 characters, RFC 5321).
	MaxContactLength = 254
	// MaxContacts is how many contacts a record may have.
	MaxContacts = 20
	// MaxWordLength bounds short codes: roles, kinds, statuses, outcomes,
	// steps, actions, flags, index values, text versions and hashes.
	MaxWordLength = 64
	// MaxTextLength bounds one-line texts: display and operator names,
	// addresses, reasons, delivery errors.
	MaxTextLength = 1000
	// MaxLongTextLength bounds texts that may span lines: the purpose of
	// processing, evidence notes.
	MaxLongTextLength = 10000
	// MaxURLLength bounds URLs (webhook, redirect URIs).
	MaxURLLength = 2048
	// MaxSecretLength bounds secrets and OAuth signatures.
	MaxSecretLength = 512
)

// ErrInvalidField is what a *FieldError is (errors.Is), besides ErrInvalid:
// a field that is missing, or a string the store cannot keep — not valid
// UTF-8, a control character where none is allowed, or too long.
var ErrInvalidField = errors.New("store: invalid field")

// FieldError says which field of an entity a store refused and why. It
// never holds the value (it may be personal data). errors.Is(err,
// ErrInvalid) and errors.Is(err, ErrInvalidField) are both true of it.
type FieldError struct {
	// Field is named as the roster row and the APIs name it (snake_case,
	// "contacts[1].value", "birth_cert.series").
	Field string
	// Problem says what is wrong, e.g. "contains the control character U+0000".
	Problem string
}

func (e *FieldError) Error() string { return "store: invalid: " + e.Field + ": " + e.Problem }

// Is makes a FieldError both ErrInvalid and ErrInvalidField.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid || target == ErrInvalidField }

// textKind says which characters a field allows besides printable ones.
type textKind uint8

const (
	oneLine   textKind = iota // no control characters at all
	multiLine                 // line feed, carriage return and tab allowed
)

// CheckText checks a one-line string: valid UTF-8, no control character
// (C0, DEL, C1), at most max characters. "" passes.
func CheckText(field, s string, max int) error { return checkText(field, s, max, oneLine) }

// CheckMultiline is CheckText allowing line breaks and tabs.
func CheckMultiline(field, s string, max int) error { return checkText(field, s, max, multiLine) }

// CheckID checks an id: CheckText with MaxIDLength. "" passes; the
// entity validators say where an id is required.
func CheckID(field, s string) error { return checkText(field, s, MaxIDLength, oneLine) }

// CheckIDs checks ids given to a read or a delete, each as CheckID; the
// field of the i-th is field[i] when there are several.
func CheckIDs(field string, ids ...string) error {
	for i, id := range ids {
		if err := CheckID(field, id); err != nil {
			if len(ids) > 1 {
				err.(*FieldError).Field = fmt.Sprintf("%s[%d]", field, i)
			}
			return err
		}
	}
	return nil
}

func checkText(field, s string, max int, kind textKind) error {
	// Fast path: short ASCII without control characters.
	if len(s) <= max {
		clean := true
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x7f {
				clean = false
				break
			}
		}
		if clean {
			return nil
		}
	}
	n := 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return &FieldError{Field: field, Problem: "is not valid UTF-8"}
			}
		}
		if unicode.IsControl(r) && !(kind == multiLine && (r == '\n' || r == '\r' || r == '\t')) {
			return &FieldError{Field: field, Problem: fmt.Sprintf("contains the control character %U", r)}
		}
		if n++; n > max {
			return &FieldError{Field: field, Problem: fmt.Sprintf("is longer than %d characters", max)}
		}
	}
	return nil
}

// CheckJSON checks a JSON document a store keeps (attempt, audit and
// outbox details): valid JSON in valid UTF-8, and no \u0000 escape, which
// PostgreSQL's jsonb cannot hold. Empty passes.
func CheckJSON(field string, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if !utf8.Valid(b) {
		return &FieldError{Field: field, Problem: "is not valid UTF-8"}
	}
	if !json.Valid(b) {
		return &FieldError{Field: field, Problem: "is not valid JSON"}
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+5 < len(b) && string(b[i+1:i+6]) == "u0000" {
			return &FieldError{Field: field, Problem: "contains the control character U+0000"}
		}
		i++ // skip the escaped character (a backslash, a quote, ...)
	}
	return nil
}

// check runs checks in order and returns the first failure.
func check(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkList checks every element of a list with the field name field[i].
func checkList(field string, list []string, max, maxItems int) error {
	if len(list) > maxItems {
		return &FieldError{Field: field, Problem: fmt.Sprintf("has more than %d items", maxItems)}
	}
	for i, s := range list {
		if err := CheckText(fmt.Sprintf("%s[%d]", field, i), s, max); err != nil {
			return err
		}
	}
	return nil
}

// required is a FieldError for an empty required field.
func required(field string) error { return &FieldError{Field: field, Problem: "is required"} }

// ValidKeys reports whether every key could belong to a stored entity
// (CheckID passes). No entity can have a key that fails it, so the
// stores answer a read or a delete by such a key as for a missing entity
// (ErrNotFound, an empty list, nothing deleted) without asking the
// database, which would fail on the bytes (PostgreSQL refuses NUL and
// invalid UTF-8).
func ValidKeys(keys ...string) bool {
	for _, k := range keys {
		if CheckID("", k) != nil {
			return false
		}
	}
	return true
}

// ValidKeyList returns the keys of ids that could belong to a stored
// entity (ValidKeys), ids itself when all can.
func ValidKeyList(ids []string) []string {
	for i, id := range ids {
		if !ValidKeys(id) {
			out := append([]string(nil), ids[:i]...)
			for _, id := range ids[i+1:] {
				if ValidKeys(id) {
					out = append(out, id)
				}
			}
			return out
		}
	}
	return ids
}
