package linking

import "strings"

// RowErrors are every problem of one roster row, in the order checked. A
// school fixes a row once, not once per problem: a bad role must not hide
// an impossible date and a three-digit SNILS.
type RowErrors []RowError

func (es RowErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap gives each RowError, so errors.As finds the first and errors.Is
// sees a store refusal behind any of them.
func (es RowErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// RowFlag is a row that was imported with a flag: accepted, but the school
// should look at it. Like RowError it names the line, the record and the
// field, never the value.
type RowFlag struct {
	Line       int    `json:"line"`
	ExternalID string `json:"external_id"`
	Field      string `json:"field"`
	Flag       string `json:"flag"`
	Message    string `json:"message"`
}

// flagReasons explain each flag to the school.
var flagReasons = map[string]struct{ field, message string }{
	FlagSNILSChecksum: {"snils", "the SNILS check digits are wrong: imported as written, never corrected; ask the school to check it"},
	FlagSNILSZero:     {"snils", "the SNILS is a placeholder of zeros: imported without a SNILS"},
}

// rowFlags lists the flags of the record written from line.
func rowFlags(line int, externalID string, flags []string) []RowFlag {
	out := make([]RowFlag, 0, len(flags))
	for _, f := range flags {
		r, ok := flagReasons[f]
		if !ok {
			r.message = "flagged"
		}
		out = append(out, RowFlag{Line: line, ExternalID: externalID, Field: r.field, Flag: f, Message: r.message})
	}
	return out
}
