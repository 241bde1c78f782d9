package linking

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/diarybroker/broker/pkg/store"
)

// CSVColumns are the columns a CSV roster may have (docs/roster-format.md,
// "CSV"), in the documented order. Each is the NDJSON field of the same
// name; birth_cert_* are the birth certificate's fields, email and phone
// one contact each. A file has a header line naming the columns it uses, in
// any order.
var CSVColumns = []string{
	"type", "op", "external_id", "role", "last_name", "first_name", "middle_name", "birth_date", "snils",
	"birth_cert_type", "birth_cert_series", "birth_cert_number", "birth_cert_issue_date", "birth_cert_act_no",
	"school", "class", "email", "phone", "parent", "student", "kind",
}

// ErrBadCSV is wrapped by the error of a CSV roster that cannot be read at
// all (its header is not the documented one, or it is NDJSON): nothing is
// imported.
var ErrBadCSV = errors.New("the CSV roster cannot be read")

// CSV encodings.
const (
	EncodingAuto        = ""             // UTF-8 when the start of the file is valid UTF-8, else Windows-1251
	EncodingUTF8        = "utf-8"        // with or without a byte order mark
	EncodingWindows1251 = "windows-1251" // what Excel writes as "CSV (разделители — точки с запятой)" on a Russian Windows
)

// CSVOptions say how to read a CSV roster.
type CSVOptions struct {
	// Encoding is EncodingAuto, EncodingUTF8 or EncodingWindows1251.
	Encoding string
}

// csvSeparator returns ';' or ',', whichever splits line into more fields
// outside quotes (';' on a tie: Excel's separator with a Russian locale),
// and that number of fields.
func csvSeparator(line []byte) (rune, int) {
	semi, comma, quoted := 1, 1, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == ';':
			semi++
		case b == ',':
			comma++
		}
	}
	if comma > semi {
		return ',', comma
	}
	return ';', semi
}

// csvRows turns a CSV roster into NDJSON, one line per CSV line so that the
// import's line numbers are the CSV file's: the header and the lines inside
// a record's quoted fields become blank lines, and a record that cannot be
// a row (a wrong number of fields, broken quoting) becomes a blank line and
// an error of its line.
type csvRows struct {
	cr      *csv.Reader
	columns []string // per CSV field; "" for an ignored blank column
	out     *bufio.Writer
	line    int // NDJSON lines written
	errs    []RowError
}

// newCSVRows reads the header. The error wraps ErrBadCSV.
func newCSVRows(r io.Reader, opt CSVOptions, out io.Writer) (*csvRows, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	bom := false
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
		bom = true
	}
	head, err := br.Peek(br.Size())
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("linking: read CSV roster: %w", err)
	}
	if rest := bytes.TrimLeft(head, " \t\r\n"); len(rest) > 0 && (rest[0] == '{' || rest[0] == '[') {
		return nil, fmt.Errorf("%w: it is JSON, not CSV (import it without --format csv)", ErrBadCSV)
	}
	var in io.Reader = br
	switch opt.Encoding {
	case EncodingUTF8:
	case EncodingWindows1251:
		in = charmap.Windows1251.NewDecoder().Reader(br)
	case EncodingAuto:
		if !bom && !validUTF8Prefix(head, err == io.EOF) {
			in = charmap.Windows1251.NewDecoder().Reader(br)
		}
	default:
		return nil, fmt.Errorf("%w: unknown encoding %q (utf-8 or windows-1251)", ErrBadCSV, opt.Encoding)
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	sep, _ := csvSeparator(first)
	cr := csv.NewReader(in)
	cr.Comma = sep
	cr.FieldsPerRecord = -1 // checked against the header here, row by row
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the file is empty; its first line must be the header (%s)", ErrBadCSV, strings.Join(CSVColumns, string(sep)))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrBadCSV, csvProblem(err))
	}
	known := map[string]bool{}
	for _, c := range CSVColumns {
		known[c] = true
	}
	rows := &csvRows{cr: cr, out: bufio.NewWriter(out)}
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "":
		case !known[name]:
			if !utf8.ValidString(h) || strings.ContainsFunc(h, func(r rune) bool { return r < ' ' }) {
				name = fmt.Sprintf("number %d", i+1)
			} else {
				name = fmt.Sprintf("%q", strings.TrimSpace(h))
			}
			return nil, fmt.Errorf("%w: header: unknown column %s; the columns are %s (docs/roster-format.md)", ErrBadCSV, name, strings.Join(CSVColumns, ", "))
		case seen[name]:
			return nil, fmt.Errorf("%w: header: column %s appears twice", ErrBadCSV, name)
		}
		seen[name] = true
		rows.columns = append(rows.columns, name)
	}
	if !seen["external_id"] && !(seen["parent"] && seen["student"]) {
		return nil, fmt.Errorf("%w: header: no external_id column (nor parent and student for relations); the columns are %s", ErrBadCSV, strings.Join(CSVColumns, ", "))
	}
	line, _ := cr.FieldPos(0)
	rows.pad(line) // the header's lines
	return rows, nil
}

// validUTF8Prefix reports whether b is UTF-8, allowing a rune cut at its
// end when b is not the whole input.
func validUTF8Prefix(b []byte, whole bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if whole {
		return false
	}
	for cut := 1; cut < utf8.UTFMax && cut <= len(b); cut++ {
		if utf8.Valid(b[:len(b)-cut]) {
			return true
		}
	}
	return false
}

// pad writes blank lines up to and including line.
func (c *csvRows) pad(line int) {
	for c.line < line {
		c.out.WriteByte('\n')
		c.line++
	}
}

// next converts one record; it returns io.EOF at the end, or the error of
// writing the output.
func (c *csvRows) next() error {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return io.EOF
	}
	var pe *csv.ParseError
	if err != nil && errors.As(err, &pe) {
		// The reader goes on after the line it could not read.
		c.errs = append(c.errs, RowError{Line: pe.StartLine, Message: "CSV: " + csvProblem(err)})
		c.pad(max(pe.Line, pe.StartLine))
		return c.out.Flush()
	}
	if err != nil {
		return err
	}
	line, _ := c.cr.FieldPos(0)
	empty := true
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			empty = false
			break
		}
	}
	switch {
	case empty: // a spreadsheet's empty row (";;;;")
	case len(rec) != len(c.columns):
		c.errs = append(c.errs, RowError{Line: line, Message: fmt.Sprintf("CSV: the row has %d fields, the header %d", len(rec), len(c.columns))})
	default:
		b, err := json.Marshal(c.row(rec))
		if err != nil {
			return err
		}
		c.pad(line - 1)
		c.out.Write(b)
		c.out.WriteByte('\n')
		c.line++
	}
	// The lines a quoted field spanned, so the next record keeps its number.
	end, _ := c.cr.FieldPos(max(len(rec)-1, 0))
	c.pad(end)
	return c.out.Flush()
}

// row is the roster row of a record with as many fields as the header.
func (c *csvRows) row(rec []string) RosterRow {
	var r RosterRow
	var bc RowBirthCert
	for i, col := range c.columns {
		v := strings.TrimSpace(rec[i])
		if v == "" || col == "" {
			continue
		}
		switch col {
		case "type":
			r.Type = v
		case "op":
			r.Op = v
		case "external_id":
			r.ExternalID = v
		case "role":
			r.Role = v
		case "last_name":
			r.LastName = v
		case "first_name":
			r.FirstName = v
		case "middle_name":
			r.MiddleName = v
		case "birth_date":
			r.BirthDate = v
		case "snils":
			r.SNILS = v
		case "birth_cert_type":
			bc.Type = v
		case "birth_cert_series":
			bc.Series = v
		case "birth_cert_number":
			bc.Number = v
		case "birth_cert_issue_date":
			bc.IssueDate = v
		case "birth_cert_act_no":
			bc.ActNo = v
		case "school":
			r.School = v
		case "class":
			r.Class = v
		case "email", "phone":
			r.Contacts = append(r.Contacts, store.Contact{Type: col, Value: v})
		case "parent":
			r.Parent = v
		case "student":
			r.Student = v
		case "kind":
			r.Kind = v
		}
	}
	if bc != (RowBirthCert{}) {
		r.BirthCert = &bc
	}
	return r
}

// csvProblem describes a CSV error without quoting the input.
func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			return `a quoted field is not closed, or has a " inside that is not doubled`
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return `a " inside an unquoted field`
		}
		return "unreadable"
	}
	return "unreadable"
}

// ImportCSV reads a CSV roster (docs/roster-format.md, "CSV") into
// tenantID's roster: each record becomes the roster row of the same fields
// and goes through the same checks as an NDJSON row, reported by its line
// in the CSV file. The file is UTF-8 (a byte order mark is skipped) or
// Windows-1251, its separator ';' or ','. A header that is not the
// documented one fails at once (ErrBadCSV) with nothing imported.
func (im *Importer) ImportCSV(ctx context.Context, tenantID string, r io.Reader, opt CSVOptions) (ImportReport, error) {
	pr, pw := io.Pipe()
	headerDone := make(chan error, 1)
	var rows *csvRows
	convDone := make(chan struct{})
	go func() {
		defer close(convDone)
		var err error
		rows, err = newCSVRows(r, opt, pw)
		headerDone <- err
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		for err == nil {
			err = rows.next()
		}
		if err == io.EOF {
			err = rows.out.Flush()
		}
		pw.CloseWithError(err)
	}()
	// The header is read before the import starts, so that a wrong one is
	// one error and not an import of nothing.
	if err := <-headerDone; err != nil {
		<-convDone
		return ImportReport{}, err
	}
	rep, err := im.Import(ctx, tenantID, pr)
	pr.CloseWithError(errors.New("import ended")) // stops the converter if the import stopped early
	<-convDone
	if len(rows.errs) > 0 {
		maxErrs := im.MaxErrors
		if maxErrs <= 0 {
			maxErrs = 1000
		}
		rep.Errors = append(rep.Errors, rows.errs...)
		sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].Line < rep.Errors[j].Line })
		if len(rep.Errors) > maxErrs {
			rep.Errors, rep.ErrorsTruncated = rep.Errors[:maxErrs], true
		}
	}
	return rep, err
}
