package linking

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

// RosterRow is one line of a roster in NDJSON, the row schema of the roster
// API (docs/roster-format.md). A row is a person (type "person", the
// default) or a relation (type "relation").
type RosterRow struct {
	Type string `json:"type,omitempty"`
	// Op is "upsert" (default) or "delete".
	Op string `json:"op,omitempty"`

	ExternalID string          `json:"external_id,omitempty"`
	Role       string          `json:"role,omitempty"`
	LastName   string          `json:"last_name,omitempty"`
	FirstName  string          `json:"first_name,omitempty"`
	MiddleName string          `json:"middle_name,omitempty"`
	BirthDate  string          `json:"birth_date,omitempty"`
	SNILS      string          `json:"snils,omitempty"`
	BirthCert  *RowBirthCert   `json:"birth_cert,omitempty"`
	School     string          `json:"school,omitempty"`
	Class      string          `json:"class,omitempty"`
	Contacts   []store.Contact `json:"contacts,omitempty"`

	// Relation rows.
	Parent  string `json:"parent,omitempty"`
	Student string `json:"student,omitempty"`
	Kind    string `json:"kind,omitempty"`
}

// RowBirthCert is the birth certificate of a roster row.
type RowBirthCert struct {
	Type      string `json:"type,omitempty"`
	Series    string `json:"series,omitempty"`
	Number    string `json:"number,omitempty"`
	IssueDate string `json:"issue_date,omitempty"`
	ActNo     string `json:"act_no,omitempty"`
}

// RowError is a problem with one roster row. It names the line, the record
// and the field, never the value.
type RowError struct {
	Line       int    `json:"line"`
	ExternalID string `json:"external_id,omitempty"`
	Field      string `json:"field,omitempty"`
	Message    string `json:"message"`
}

func (e RowError) Error() string {
	s := fmt.Sprintf("line %d", e.Line)
	if e.ExternalID != "" {
		s += " (" + e.ExternalID + ")"
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Message
}

// Flags set on records whose data is accepted but questionable.
const (
	FlagSNILSChecksum = "snils_checksum" // the SNILS check digits are wrong
	FlagSNILSZero     = "snils_zero"     // a placeholder SNILS of zeros, kept as absent
)

// Relation kinds a row may carry.
var relationKinds = map[string]bool{"mother": true, "father": true, "guardian": true, "other": true, "": true}

// ParseRosterRow decodes one NDJSON line.
func ParseRosterRow(line []byte) (RosterRow, error) {
	var r RosterRow
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return RosterRow{}, fmt.Errorf("not a roster row: %s", jsonProblem(err))
	}
	if dec.More() {
		return RosterRow{}, errors.New("not a roster row: more than one JSON value on the line")
	}
	return r, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "invalid JSON"
}

// Person validates a person row and turns it into a record with blind
// indexes. An invalid SNILS check digit is kept and flagged, never fixed.
func (r RosterRow) Person(ix Indexer) (store.Person, error) {
	fail := func(field, msg string) (store.Person, error) {
		return store.Person{}, RowError{ExternalID: r.ExternalID, Field: field, Message: msg}
	}
	if strings.TrimSpace(r.ExternalID) == "" {
		return fail("external_id", "is required")
	}
	role := store.Role(r.Role)
	if !role.Valid() {
		return fail("role", "must be student, parent, teacher or staff")
	}
	p := store.Person{ExternalID: r.ExternalID, Role: role, LastName: strings.TrimSpace(r.LastName),
		FirstName: strings.TrimSpace(r.FirstName), MiddleName: strings.TrimSpace(r.MiddleName),
		School: r.School, Class: r.Class, Contacts: r.Contacts}
	if p.LastName == "" || p.FirstName == "" {
		return fail("last_name", "last_name and first_name are required")
	}
	if _, _, err := NormaliseFullName(FullName{Last: p.LastName, First: p.FirstName, Patronymic: p.MiddleName}); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return fail(fe.Field, "contains characters a name cannot have")
		}
		return fail("last_name", "is not a name")
	}
	bd, err := ParseBirthDate(r.BirthDate)
	if err != nil {
		return fail("birth_date", "must be a real date, YYYY-MM-DD")
	}
	p.BirthDate = bd
	if r.SNILS != "" {
		s, _, err := NormaliseSNILS(r.SNILS)
		if err != nil {
			return fail("snils", "must be 11 digits")
		}
		switch {
		case strings.Trim(s, "0") == "":
			p.Flags = append(p.Flags, FlagSNILSZero)
		case !SNILSChecksumValid(s):
			p.SNILS = s
			p.Flags = append(p.Flags, FlagSNILSChecksum)
		default:
			p.SNILS = s
		}
	}
	if c := r.BirthCert; c != nil && (c.Number != "" || c.Series != "") {
		bc := BirthCert{Type: BirthCertType(c.Type), Series: c.Series, Number: c.Number}
		if _, _, err := NormaliseBirthCert(bc); err != nil {
			switch {
			case errors.Is(err, ErrBirthCertType):
				return fail("birth_cert.type", "must be RF_BRTH_CERT, FID_BRTH_CERT or OLD_BRTH_CERT")
			case errors.Is(err, ErrBirthCertNumber):
				return fail("birth_cert.number", "must be 6 or 7 digits")
			default:
				return fail("birth_cert.series", "must be a Roman numeral and two Cyrillic letters, e.g. II-МЮ")
			}
		}
		issue, err := ParseBirthDate(c.IssueDate)
		if err != nil {
			return fail("birth_cert.issue_date", "must be a real date, YYYY-MM-DD")
		}
		typ := c.Type
		if typ == "" {
			typ = string(BirthCertRF)
		}
		p.BirthCert = &store.BirthCert{Type: typ, Series: c.Series, Number: c.Number, IssueDate: issue, ActNo: c.ActNo}
	}
	p.Index = IndexOf(ix, IdentityOfRecord(p))
	return p, nil
}

// Relation validates a relation row.
func (r RosterRow) Relation() (store.Relation, error) {
	if r.Parent == "" || r.Student == "" {
		return store.Relation{}, RowError{Field: "parent", Message: "a relation needs parent and student"}
	}
	if !relationKinds[r.Kind] {
		return store.Relation{}, RowError{Field: "kind", Message: "must be mother, father, guardian or other"}
	}
	return store.Relation{Parent: r.Parent, Student: r.Student, Kind: r.Kind}, nil
}

// ImportReport is what a roster import did.
type ImportReport struct {
	Persons   int        `json:"persons"`
	Deleted   int        `json:"deleted"`
	Relations int        `json:"relations"`
	Flagged   int        `json:"flagged"`
	Errors    []RowError `json:"errors,omitempty"`
	// ErrorsTruncated says more errors happened than Errors holds.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
}

// Importer streams NDJSON rosters into the store in batches: good rows
// land, bad rows are reported by line, and a batch the store rejects is
// retried row by row so that one bad row costs only itself.
type Importer struct {
	Roster    store.Roster
	Index     Indexer
	BatchSize int // default 1000
	MaxErrors int // errors kept in the report (default 1000)
	// Progress, when set, is called after every batch with the lines read.
	Progress func(lines int)
}

// MaxRowBytes is the longest NDJSON line accepted.
const MaxRowBytes = 64 << 10

// Import reads NDJSON rows from r into tenantID's roster.
func (im *Importer) Import(ctx context.Context, tenantID string, r io.Reader) (ImportReport, error) {
	batch := im.BatchSize
	if batch <= 0 {
		batch = 1000
	}
	maxErrs := im.MaxErrors
	if maxErrs <= 0 {
		maxErrs = 1000
	}
	var rep ImportReport
	addErr := func(e RowError) {
		if len(rep.Errors) < maxErrs {
			rep.Errors = append(rep.Errors, e)
		} else {
			rep.ErrorsTruncated = true
		}
	}
	type lined[T any] struct {
		line int
		v    T
	}
	var persons []lined[store.Person]
	var deletes []lined[string]
	var relations []lined[store.Relation]

	flushPersons := func() error {
		if len(persons) == 0 {
			return nil
		}
		ps := make([]store.Person, len(persons))
		for i, p := range persons {
			ps[i] = p.v
		}
		err := im.Roster.UpsertPersons(ctx, tenantID, ps)
		if err != nil && !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("linking: import: %w", err)
		}
		if err == nil {
			rep.Persons += len(ps)
		} else {
			for _, p := range persons { // find the bad row(s)
				if err := im.Roster.UpsertPersons(ctx, tenantID, []store.Person{p.v}); err != nil {
					if !errors.Is(err, store.ErrInvalid) {
						return fmt.Errorf("linking: import: %w", err)
					}
					addErr(RowError{Line: p.line, ExternalID: p.v.ExternalID, Message: "rejected by the store"})
					continue
				}
				rep.Persons++
			}
		}
		for _, p := range persons {
			if len(p.v.Flags) > 0 {
				rep.Flagged++
			}
		}
		persons = persons[:0]
		return nil
	}
	flushDeletes := func() error {
		if len(deletes) == 0 {
			return nil
		}
		ids := make([]string, len(deletes))
		for i, d := range deletes {
			ids[i] = d.v
		}
		if err := im.Roster.DeletePersons(ctx, tenantID, ids); err != nil {
			return fmt.Errorf("linking: import: %w", err)
		}
		rep.Deleted += len(ids)
		deletes = deletes[:0]
		return nil
	}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxRowBytes)
	line := 0
	seen := map[string]int{}
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		row, err := ParseRosterRow(raw)
		if err != nil {
			addErr(RowError{Line: line, Message: err.Error()})
			continue
		}
		switch row.Type {
		case "", "person":
			if row.Op == "delete" {
				if row.ExternalID == "" {
					addErr(RowError{Line: line, Field: "external_id", Message: "is required"})
					continue
				}
				deletes = append(deletes, lined[string]{line, row.ExternalID})
				continue
			}
			if row.Op != "" && row.Op != "upsert" {
				addErr(RowError{Line: line, ExternalID: row.ExternalID, Field: "op", Message: "must be upsert or delete"})
				continue
			}
			p, err := row.Person(im.Index)
			if err != nil {
				var re RowError
				if errors.As(err, &re) {
					re.Line = line
					addErr(re)
				}
				continue
			}
			if first, dup := seen[p.ExternalID]; dup {
				addErr(RowError{Line: line, ExternalID: p.ExternalID, Field: "external_id",
					Message: fmt.Sprintf("appears twice (first on line %d); the later row is ignored", first)})
				continue
			}
			seen[p.ExternalID] = line
			persons = append(persons, lined[store.Person]{line, p})
			if len(persons) >= batch {
				if err := flushPersons(); err != nil {
					return rep, err
				}
				if im.Progress != nil {
					im.Progress(line)
				}
			}
		case "relation":
			rel, err := row.Relation()
			if err != nil {
				var re RowError
				errors.As(err, &re)
				re.Line = line
				addErr(re)
				continue
			}
			if row.Op == "delete" {
				if err := im.Roster.DeleteRelations(ctx, tenantID, []store.Relation{rel}); err != nil {
					return rep, fmt.Errorf("linking: import: %w", err)
				}
				continue
			}
			relations = append(relations, lined[store.Relation]{line, rel})
		default:
			addErr(RowError{Line: line, Field: "type", Message: "must be person or relation"})
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			addErr(RowError{Line: line + 1, Message: fmt.Sprintf("line longer than %d bytes; import stopped", MaxRowBytes)})
		} else {
			return rep, fmt.Errorf("linking: import: read: %w", err)
		}
	}
	if err := flushPersons(); err != nil {
		return rep, err
	}
	if err := flushDeletes(); err != nil {
		return rep, err
	}
	// Relations last: both ends may appear anywhere in the file.
	for start := 0; start < len(relations); start += batch {
		end := min(start+batch, len(relations))
		rs := make([]store.Relation, 0, end-start)
		for _, r := range relations[start:end] {
			rs = append(rs, r.v)
		}
		err := im.Roster.UpsertRelations(ctx, tenantID, rs)
		if err == nil {
			rep.Relations += len(rs)
			continue
		}
		if !errors.Is(err, store.ErrInvalid) {
			return rep, fmt.Errorf("linking: import: %w", err)
		}
		for _, r := range relations[start:end] {
			if err := im.Roster.UpsertRelations(ctx, tenantID, []store.Relation{r.v}); err != nil {
				if !errors.Is(err, store.ErrInvalid) {
					return rep, fmt.Errorf("linking: import: %w", err)
				}
				addErr(RowError{Line: r.line, ExternalID: r.v.Student, Field: "parent", Message: "relation to a record that is not in the roster"})
				continue
			}
			rep.Relations++
		}
	}
	if im.Progress != nil {
		im.Progress(line)
	}
	return rep, nil
}
