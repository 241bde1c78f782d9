package linking

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"

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

	// cause is the store's *store.FieldError when the row holds a string
	// no store keeps (errors.Is(err, store.ErrInvalidField)).
	cause error
}

// Unwrap returns the store's refusal behind the error, if any.
func (e RowError) Unwrap() error { return e.cause }

// fieldRowError is the RowError of a string the store refuses (a
// *store.FieldError): it names the field and the problem, and the record
// only when its id is not the bad string.
func fieldRowError(externalID string, err error) (RowError, bool) {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return RowError{}, false
	}
	if fe.Field == "external_id" {
		externalID = ""
	}
	return RowError{ExternalID: externalID, Field: fe.Field, Message: fe.Problem, cause: err}, true
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
// When the row is invalid the error is a RowErrors listing every problem
// found (errors.As with a RowError gives the first).
func (r RosterRow) Person(ix Indexer) (store.Person, error) {
	var errs RowErrors
	id := r.ExternalID
	if strings.TrimSpace(r.ExternalID) == "" {
		errs = append(errs, RowError{Field: "external_id", Message: "is required"})
	} else if err := store.CheckID("external_id", r.ExternalID); err != nil {
		re, _ := fieldRowError("", err)
		errs = append(errs, re)
		id = "" // the id is the problem: the other errors do not repeat it
	}
	fail := func(field, msg string) { errs = append(errs, RowError{ExternalID: id, Field: field, Message: msg}) }
	role := store.Role(r.Role)
	if !role.Valid() {
		fail("role", "must be student, parent, teacher or staff")
	}
	for i, c := range r.Contacts {
		switch {
		case c.Type != "email" && c.Type != "phone":
			fail(fmt.Sprintf("contacts[%d].type", i), "must be email or phone")
		case strings.TrimSpace(c.Value) == "":
			fail(fmt.Sprintf("contacts[%d].value", i), "is required")
		}
	}
	p := store.Person{ExternalID: r.ExternalID, Role: role, LastName: strings.TrimSpace(r.LastName),
		FirstName: strings.TrimSpace(r.FirstName), MiddleName: strings.TrimSpace(r.MiddleName),
		School: r.School, Class: r.Class, Contacts: r.Contacts}
	if p.LastName == "" {
		fail("last_name", "is required")
	}
	if p.FirstName == "" {
		fail("first_name", "is required")
	}
	// The index is computed from the normalised values: normalising again
	// (inside IndexOf) then takes the fast path, and gives the same strings
	// a login computes.
	var name FullName
	if p.LastName != "" && p.FirstName != "" {
		var err error
		name, _, err = NormaliseFullName(FullName{Last: p.LastName, First: p.FirstName, Patronymic: p.MiddleName})
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				fail(fe.Field, "contains characters a name cannot have")
			} else {
				fail("last_name", "is not a name")
			}
		}
	}
	if bd, err := ParseBirthDate(r.BirthDate); err != nil {
		fail("birth_date", "must be a real date, YYYY-MM-DD")
	} else {
		p.BirthDate = bd
	}
	if r.SNILS != "" {
		s, _, err := NormaliseSNILS(r.SNILS)
		switch {
		case err != nil:
			fail("snils", "must be 11 digits")
		case strings.Trim(s, "0") == "":
			p.Flags = append(p.Flags, FlagSNILSZero)
		case !SNILSChecksumValid(s):
			p.SNILS = s
			p.Flags = append(p.Flags, FlagSNILSChecksum)
		default:
			p.SNILS = s
		}
	}
	var cert BirthCert // normalised
	if c := r.BirthCert; c != nil && (c.Number != "" || c.Series != "") {
		bc := BirthCert{Type: BirthCertType(c.Type), Series: c.Series, Number: c.Number}
		var err error
		cert, _, err = NormaliseBirthCert(bc)
		if err != nil {
			switch {
			case errors.Is(err, ErrBirthCertType):
				fail("birth_cert.type", "must be RF_BRTH_CERT, FID_BRTH_CERT or OLD_BRTH_CERT")
			case errors.Is(err, ErrBirthCertNumber):
				fail("birth_cert.number", "must be 6 or 7 digits")
			default:
				fail("birth_cert.series", "must be a Roman numeral and two Cyrillic letters, e.g. II-МЮ")
			}
		}
		issue, err := ParseBirthDate(c.IssueDate)
		if err != nil {
			fail("birth_cert.issue_date", "must be a real date, YYYY-MM-DD")
		}
		typ := c.Type
		if typ == "" {
			typ = string(BirthCertRF)
		}
		p.BirthCert = &store.BirthCert{Type: typ, Series: c.Series, Number: c.Number, IssueDate: issue, ActNo: c.ActNo}
	}
	if len(errs) > 0 {
		// What the store would refuse besides, among the fields not yet
		// named (the store's own check stops at its first).
		named := map[string]bool{}
		for _, e := range errs {
			named[e.Field] = true
		}
		for _, f := range []struct {
			field, value string
			max          int
		}{{"last_name", p.LastName, store.MaxNameLength}, {"first_name", p.FirstName, store.MaxNameLength},
			{"middle_name", p.MiddleName, store.MaxNameLength}, {"school", p.School, store.MaxSchoolLength},
			{"class", p.Class, store.MaxClassLength}} {
			if named[f.field] {
				continue
			}
			if re, ok := fieldRowError(id, store.CheckText(f.field, f.value, f.max)); ok {
				errs = append(errs, re)
			}
		}
		return store.Person{}, errs
	}
	ident := IdentityOfRecord(p)
	ident.Name, ident.BirthCert = name, cert
	p.Index = IndexOf(ix, ident)
	// What the store will refuse is a row error now, naming the field:
	// NUL and other control characters, invalid UTF-8, over the
	// documented maximum lengths.
	if err := store.ValidatePerson(p); err != nil {
		if re, ok := fieldRowError(r.ExternalID, err); ok {
			return store.Person{}, RowErrors{re}
		}
		return store.Person{}, RowErrors{{ExternalID: r.ExternalID, Message: "is not a valid person row"}}
	}
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
	rel := store.Relation{Parent: r.Parent, Student: r.Student, Kind: r.Kind}
	if err := store.ValidateRelations([]store.Relation{rel}); err != nil {
		if re, ok := fieldRowError("", err); ok {
			return store.Relation{}, re
		}
		return store.Relation{}, RowError{Field: "parent", Message: "is not a valid relation"}
	}
	return rel, nil
}

// ImportReport is what a roster import did.
type ImportReport struct {
	Persons   int `json:"persons"`
	Deleted   int `json:"deleted"`
	Relations int `json:"relations"`
	Flagged   int `json:"flagged"`
	// FlaggedRows are the rows imported with a flag, each with its reason
	// (at most MaxErrors; FlaggedTruncated says there were more).
	FlaggedRows      []RowFlag `json:"flagged_rows,omitempty"`
	FlaggedTruncated bool      `json:"flagged_truncated,omitempty"`
	// LinksRemoved are the links of deleted records that were removed
	// (their tokens revoked), LinksSuspended those of changed records that
	// a re-check suspended (Importer.Links).
	LinksRemoved   int        `json:"links_removed,omitempty"`
	LinksSuspended int        `json:"links_suspended,omitempty"`
	Errors         []RowError `json:"errors,omitempty"`
	// ErrorsTruncated says more errors happened than Errors holds.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
}

// Importer streams NDJSON rosters into the store in batches: good rows
// land, bad rows are reported by line, and a batch the store rejects is
// retried row by row so that one bad row costs only itself.
//
// It is a pipeline, so that a roster of millions of rows takes the time of
// its slowest stage, not of their sum, and memory that does not grow with
// the roster: one goroutine reads lines, Workers goroutines parse,
// normalise and index them, the calling goroutine checks them in file order
// (duplicates, errors) and makes batches, and one goroutine writes the
// batches while the next ones are prepared. Person records go through
// store.PersonCopier when the store has it. Relations are written in
// batches as soon as the records before them in the file are written; a
// relation naming a record that is neither in the store nor earlier in the
// file waits (on disk beyond MemoryRows) until the end of the file.
// Deletions of records are applied at the end, after every upsert.
type Importer struct {
	Roster store.Roster
	Index  Indexer
	// Links keeps the links of the records written in step with them:
	// every batch of records written is re-checked (RecheckRecords) and
	// the links of records to delete are removed first, tokens revoked
	// (UnlinkRecords). When it is nil and Roster is also a store.Links,
	// a deletion of a linked record is refused as a row error rather than
	// leave the person's tokens valid without their link.
	Links     RecordLinks
	BatchSize int // person rows per write (default 1000)
	MaxErrors int // errors kept in the report (default 1000)
	// Progress, when set, is called after every batch written with the
	// line number of its last row. Calls come from the importer's writing
	// goroutines, one at a time.
	Progress func(lines int)
	// Workers parse and index rows in parallel (default GOMAXPROCS).
	Workers int
	// Writers is how many person batches are written at once, each in its
	// own transaction (default 2): the database works on one while the
	// other waits for its commit.
	Writers int
	// MemoryRows bounds the relations waiting for a record further down
	// the file, and the deletions waiting for the end, kept in memory;
	// more go to a temporary file in SpillDir (default 65536 each).
	MemoryRows int
	// SpillDir is where that temporary file is made (default os.TempDir()).
	SpillDir string
}

// RecordLinks keeps links in step with the roster records an import
// writes; *LinkAdmin implements it (see its methods).
type RecordLinks interface {
	RecheckRecords(ctx context.Context, tenantID string, ps []store.Person) ([]store.Link, error)
	UnlinkRecords(ctx context.Context, tenantID string, externalIDs []string) ([]store.Link, error)
}

// MaxRowBytes is the longest NDJSON line accepted.
const MaxRowBytes = 64 << 10

// chunkLines is how many lines travel together between the stages.
const chunkLines = 256

// chunk is a run of consecutive lines, raw and then parsed.
type chunk struct {
	seq   int
	first int    // line number of the first line
	data  []byte // the lines, one after another
	ends  []int  // end offset of each line in data
	items []item // parsed, one per non-blank line
	// long are the numbers of the lines longer than MaxRowBytes, in order:
	// their bytes were skipped (data holds them as blank lines).
	long []int
}

type itemKind uint8

const (
	itemError itemKind = iota
	itemPerson
	itemPersonDelete
	itemRelation
	itemRelationDelete
)

type item struct {
	kind   itemKind
	line   int
	person store.Person
	rel    store.Relation
	id     string // external id of a deletion
	err    RowError
	more   []RowError // the row's further errors
}

// lined is a value with the line it came from.
type lined[T any] struct {
	Line int `json:"l"`
	V    T   `json:"v"`
}

// op is one unit of work for the writing goroutine, done in order.
type op struct {
	persons   []lined[store.Person]
	relations []pendingRelation
	relDelete *lined[store.Relation]
}

// pendingRelation is a relation on its way to the store. seen says both
// of its records are person rows earlier in the file (and so were written,
// or rejected, before it): when it still fails it is an error, not a
// relation waiting for a record further down.
type pendingRelation struct {
	lined[store.Relation]
	seen bool
}

// importRun is the state of one Import call.
type importRun struct {
	im       *Importer
	ctx      context.Context
	tenantID string
	batch    int
	maxErrs  int

	mu  sync.Mutex // guards rep between the checking and writing goroutines
	rep ImportReport

	// Owned by the checking goroutine.
	seen      idSet
	persons   []lined[store.Person]
	relations []lined[store.Relation]
	deletes   *spool[lined[string]]

	// Owned by the writing goroutine.
	deferred *spool[lined[store.Relation]]
}

func (run *importRun) addErr(e RowError) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if len(run.rep.Errors) < run.maxErrs {
		run.rep.Errors = append(run.rep.Errors, e)
	} else {
		run.rep.ErrorsTruncated = true
	}
}

func (run *importRun) addFlags(fs []RowFlag) {
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, f := range fs {
		if len(run.rep.FlaggedRows) < run.maxErrs {
			run.rep.FlaggedRows = append(run.rep.FlaggedRows, f)
		} else {
			run.rep.FlaggedTruncated = true
		}
	}
}

func (run *importRun) count(f func(r *ImportReport)) {
	run.mu.Lock()
	f(&run.rep)
	run.mu.Unlock()
}

// Import reads NDJSON rows from r into tenantID's roster. A UTF-8 byte
// order mark at the start is skipped; input that is plainly not NDJSON (a
// JSON array, CSV, UTF-16) fails at once with a *NotNDJSONError and
// nothing imported.
func (im *Importer) Import(ctx context.Context, tenantID string, r io.Reader) (ImportReport, error) {
	br := bufio.NewReaderSize(r, 64<<10) // readChunks reads through it
	skipBOM(br)
	if err := sniffNDJSON(br); err != nil {
		return ImportReport{}, err
	}
	r = br
	run := &importRun{im: im, tenantID: tenantID, batch: im.BatchSize, maxErrs: im.MaxErrors, seen: newIDSet()}
	if run.batch <= 0 {
		run.batch = 1000
	}
	if run.maxErrs <= 0 {
		run.maxErrs = 1000
	}
	memRows := im.MemoryRows
	if memRows <= 0 {
		memRows = 64 << 10
	}
	run.deletes = &spool[lined[string]]{max: memRows, dir: im.SpillDir}
	run.deferred = &spool[lined[store.Relation]]{max: memRows, dir: im.SpillDir}
	defer run.deletes.close()
	defer run.deferred.close()
	workers := im.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	run.ctx = ctx

	// Reading, parsing and writing run beside this goroutine, which checks
	// the parsed lines in file order.
	raw := make(chan *chunk, 2*workers)
	parsed := make(chan *chunk, 2*workers)
	var readErr error
	go func() {
		defer close(raw)
		readErr = readChunks(ctx, r, raw)
	}()
	var parsing sync.WaitGroup
	for range workers {
		parsing.Add(1)
		go func() {
			defer parsing.Done()
			for c := range raw {
				im.parse(c)
				select {
				case parsed <- c:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		parsing.Wait()
		close(parsed)
	}()
	ops := make(chan op, 2)
	writeDone := make(chan error, 1)
	go func() { writeDone <- run.write(ops, cancel) }()

	send := func(o op) bool {
		select {
		case ops <- o:
			return true
		case <-ctx.Done():
			return false
		}
	}
	flushPersons := func() bool {
		if len(run.persons) == 0 {
			return true
		}
		ok := send(op{persons: run.persons})
		run.persons = make([]lined[store.Person], 0, run.batch)
		return ok
	}
	flushRelations := func() bool {
		if len(run.relations) == 0 {
			return true
		}
		if !flushPersons() {
			return false
		}
		rs := make([]pendingRelation, len(run.relations))
		for i, r := range run.relations {
			rs[i] = pendingRelation{r, run.seen.has(r.V.Parent) && run.seen.has(r.V.Student)}
		}
		run.relations = run.relations[:0]
		return send(op{relations: rs})
	}

	var fatal error
	next, waiting, line := 0, map[int]*chunk{}, 0
	running := true
	for c := range parsed {
		if !running {
			continue // drain
		}
		waiting[c.seq] = c
		for running {
			c, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			line = c.first + len(c.ends) - 1
			for i := range c.items {
				it := &c.items[i]
				if err := run.check(it); err != nil {
					fatal, running = err, false
					cancel(err)
					break
				}
				switch it.kind {
				case itemPerson:
					run.persons = append(run.persons, lined[store.Person]{it.line, it.person})
					if len(run.persons) >= run.batch {
						// Relations go after the batch that makes their
						// records, or sooner when many pile up.
						running = flushPersons() && (len(run.relations) < run.batch || flushRelations())
					}
				case itemRelation:
					run.relations = append(run.relations, lined[store.Relation]{it.line, it.rel})
					if len(run.relations) >= 4*run.batch {
						running = flushRelations()
					}
				case itemRelationDelete:
					// In file order with the other relation rows.
					running = flushRelations() && send(op{relDelete: &lined[store.Relation]{it.line, it.rel}})
				}
				if !running {
					break
				}
			}
		}
	}
	if running {
		flushRelations()
		flushPersons()
	}
	close(ops)
	switch werr := <-writeDone; {
	case werr != nil:
		return run.report(), werr
	case fatal != nil:
		return run.report(), fatal
	case ctx.Err() != nil:
		return run.report(), context.Cause(ctx)
	}
	if readErr != nil {
		return run.report(), fmt.Errorf("linking: import: read: %w", readErr)
	}
	// What waited for the end of the file: relations whose records came
	// later, then deletions.
	if err := run.deferred.each(run.batch, func(rs []lined[store.Relation]) error {
		pending := make([]pendingRelation, len(rs))
		for i, r := range rs {
			pending[i] = pendingRelation{r, true}
		}
		return run.writeRelations(pending)
	}); err != nil {
		return run.report(), err
	}
	if err := run.deletes.each(run.batch, run.deletePersons); err != nil {
		return run.report(), err
	}
	if im.Progress != nil {
		im.Progress(line)
	}
	return run.report(), nil
}

// deletePersons deletes a batch of records, their links first.
func (run *importRun) deletePersons(ds []lined[string]) error {
	// In one transaction where the store has them, the records locked
	// first: a login cannot link one between its unlinking and its deletion.
	if tx, ok := run.im.Roster.(store.Transactor); ok {
		return tx.InTx(run.ctx, func(ctx context.Context) error { return run.deleteBatch(ctx, ds) })
	}
	return run.deleteBatch(run.ctx, ds)
}

// deleteBatch unlinks (or, without Importer.Links, refuses to delete the
// linked ones of) and deletes a batch of records.
func (run *importRun) deleteBatch(ctx context.Context, ds []lined[string]) error {
	ids := make([]string, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.V)
	}
	if err := run.im.Roster.LockPersons(ctx, run.tenantID, ids); err != nil {
		return fmt.Errorf("linking: import: %w", err)
	}
	switch links, ok := run.im.Roster.(store.Links); {
	case run.im.Links != nil:
		removed, err := run.im.Links.UnlinkRecords(ctx, run.tenantID, ids)
		if err != nil {
			return fmt.Errorf("linking: import: %w", err)
		}
		run.count(func(r *ImportReport) { r.LinksRemoved += len(removed) })
	case ok:
		found, err := links.LinksByRecords(ctx, run.tenantID, ids)
		if err != nil {
			return fmt.Errorf("linking: import: %w", err)
		}
		linked := map[string]bool{}
		for _, l := range found {
			linked[l.ExternalID] = true
		}
		ids = ids[:0]
		for _, d := range ds {
			if linked[d.V] {
				run.addErr(RowError{Line: d.Line, ExternalID: d.V, Field: "op",
					Message: "the record is linked to an ESIA account; unlink it first (DELETE /api/v1/roster/persons/{id}/links) or delete it through the roster API"})
				continue
			}
			ids = append(ids, d.V)
		}
	}
	if err := run.im.Roster.DeletePersons(ctx, run.tenantID, ids); err != nil {
		return fmt.Errorf("linking: import: %w", err)
	}
	run.count(func(r *ImportReport) { r.Deleted += len(ids) })
	return nil
}

// report returns the report with its errors in line order.
func (run *importRun) report() ImportReport {
	run.mu.Lock()
	defer run.mu.Unlock()
	rep := run.rep
	sort.SliceStable(rep.Errors, func(i, j int) bool { return rep.Errors[i].Line < rep.Errors[j].Line })
	sort.SliceStable(rep.FlaggedRows, func(i, j int) bool { return rep.FlaggedRows[i].Line < rep.FlaggedRows[j].Line })
	return rep
}

// readChunks splits r into chunks of lines. A line longer than
// MaxRowBytes is skipped to its end (and reported by parse): one runaway
// row costs itself, not the rest of the roster.
func readChunks(ctx context.Context, r io.Reader, out chan<- *chunk) error {
	br := bufio.NewReaderSize(r, 64<<10)
	c := &chunk{first: 1}
	seq, line := 0, 0
	emit := func() bool {
		c.seq = seq
		seq++
		size := len(c.data)
		select {
		case out <- c:
		case <-ctx.Done():
			return false
		}
		c = &chunk{first: line + 1, data: make([]byte, 0, size+size/4)}
		return true
	}
	for {
		start := len(c.data)
		var long bool
		var err error
		c.data, long, err = appendLine(c.data, br)
		if err != nil && err != io.EOF {
			// The lines read before the failure go on; the one it cut
			// does not.
			c.data = c.data[:start]
			if len(c.ends) > 0 {
				emit()
			}
			return err
		}
		if err == io.EOF && len(c.data) == start && !long {
			break // no line after the last newline
		}
		line++
		if long {
			c.data = c.data[:start]
			c.long = append(c.long, line)
		}
		c.ends = append(c.ends, len(c.data))
		if err == io.EOF {
			break
		}
		if len(c.ends) == chunkLines && !emit() {
			return nil
		}
	}
	if len(c.ends) > 0 {
		emit()
	}
	return nil
}

// appendLine appends the next line of br to buf, without its newline (and
// carriage return, as bufio.ScanLines drops it). A line longer than
// MaxRowBytes is read to its end and reported as long, its bytes dropped.
// err is io.EOF when the input ended with this line.
func appendLine(buf []byte, br *bufio.Reader) (_ []byte, long bool, err error) {
	start := len(buf)
	for {
		var part []byte
		part, err = br.ReadSlice('\n')
		if !long {
			if len(buf)-start+len(part) > MaxRowBytes+2 { // room for "\r\n"
				long, buf = true, buf[:start]
			} else {
				buf = append(buf, part...)
			}
		}
		if err != bufio.ErrBufferFull {
			break
		}
	}
	if (err != nil && err != io.EOF) || long {
		return buf, long, err
	}
	text := bytes.TrimSuffix(bytes.TrimSuffix(buf[start:], []byte("\n")), []byte("\r"))
	if len(text) > MaxRowBytes {
		return buf[:start], true, err
	}
	return buf[:start+len(text)], false, err
}

// parse decodes, validates and indexes the lines of c (in a worker).
func (im *Importer) parse(c *chunk) {
	start := 0
	c.items = make([]item, 0, len(c.ends))
	long := c.long
	for i, end := range c.ends {
		raw := bytes.TrimSpace(c.data[start:end])
		start = end
		if len(long) > 0 && long[0] == c.first+i {
			long = long[1:]
			c.items = append(c.items, item{line: c.first + i,
				err: RowError{Message: fmt.Sprintf("line longer than %d bytes; skipped", MaxRowBytes)}})
			continue
		}
		if len(raw) == 0 {
			continue
		}
		it := item{line: c.first + i}
		row, err := ParseRosterRow(raw)
		if err != nil {
			it.err = RowError{Message: err.Error()}
			c.items = append(c.items, it)
			continue
		}
		switch row.Type {
		case "", "person":
			switch {
			case row.Op == "delete" && row.ExternalID == "":
				it.err = RowError{Field: "external_id", Message: "is required"}
			case row.Op == "delete" && store.CheckID("external_id", row.ExternalID) != nil:
				it.err, _ = fieldRowError("", store.CheckID("external_id", row.ExternalID))
			case row.Op == "delete":
				it.kind, it.id = itemPersonDelete, row.ExternalID
			case row.Op != "" && row.Op != "upsert":
				it.err = RowError{ExternalID: row.ExternalID, Field: "op", Message: "must be upsert or delete"}
			default:
				p, err := row.Person(im.Index)
				if err != nil {
					var all RowErrors
					switch {
					case errors.As(err, &all) && len(all) > 0:
						it.err, it.more = all[0], all[1:]
					case !errors.As(err, &it.err):
						it.err = RowError{ExternalID: row.ExternalID, Message: "is not a valid person row"}
					}
					break
				}
				it.kind, it.person = itemPerson, p
			}
		case "relation":
			rel, err := row.Relation()
			if err != nil {
				if !errors.As(err, &it.err) {
					it.err = RowError{Message: "is not a valid relation row"}
				}
				break
			}
			it.kind, it.rel = itemRelation, rel
			if row.Op == "delete" {
				it.kind = itemRelationDelete
			}
		default:
			it.err = RowError{Field: "type", Message: "must be person or relation"}
		}
		c.items = append(c.items, it)
	}
	c.data, c.ends = nil, c.ends[:len(c.ends):len(c.ends)]
}

// check looks at one parsed line in file order: errors are reported,
// second rows of an external id are reported and dropped, deletions are
// put aside for the end. An error stops the import.
func (run *importRun) check(it *item) error {
	switch it.kind {
	case itemError:
		it.err.Line = it.line
		run.addErr(it.err)
		for _, e := range it.more {
			e.Line = it.line
			run.addErr(e)
		}
	case itemPerson:
		if first, dup := run.seen.add(it.person.ExternalID, it.line); dup {
			run.addErr(RowError{Line: it.line, ExternalID: it.person.ExternalID, Field: "external_id",
				Message: fmt.Sprintf("appears twice (first on line %d); the later row is ignored", first)})
			it.kind = itemError
		}
	case itemPersonDelete:
		if err := run.deletes.add(lined[string]{it.line, it.id}); err != nil {
			return fmt.Errorf("linking: import: %w", err)
		}
		it.kind = itemError // handled
	}
	if it.kind == itemError {
		*it = item{kind: itemError} // nothing more to do with it
	}
	return nil
}

// write does the ops (the writing goroutine). Person batches are written
// by up to Writers transactions at once: they hold different records.
// Relation operations wait for every person batch handed over before them
// and run one after another, in file order. On an error it cancels the
// import and drains the rest.
func (run *importRun) write(ops <-chan op, cancel context.CancelCauseFunc) error {
	writers := run.im.Writers
	if writers <= 0 {
		writers = 2
	}
	var (
		inFlight sync.WaitGroup
		slots    = make(chan struct{}, writers)
		errMu    sync.Mutex
		firstErr error
		progress sync.Mutex
		reported int
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel(err)
	}
	failed := func() bool {
		errMu.Lock()
		defer errMu.Unlock()
		return firstErr != nil
	}
	for o := range ops {
		if failed() {
			continue // drain: let the checking goroutine finish
		}
		if o.persons != nil {
			slots <- struct{}{}
			inFlight.Add(1)
			go func() {
				defer func() { <-slots; inFlight.Done() }()
				if err := run.writePersons(o.persons); err != nil {
					fail(err)
					return
				}
				if run.im.Progress != nil {
					progress.Lock()
					if line := o.persons[len(o.persons)-1].Line; line > reported {
						reported = line
						run.im.Progress(line)
					}
					progress.Unlock()
				}
			}()
			continue
		}
		inFlight.Wait() // the records before these relations are written
		if failed() {
			continue
		}
		var err error
		switch {
		case o.relations != nil:
			err = run.writeRelations(o.relations)
		case o.relDelete != nil:
			if err = run.im.Roster.DeleteRelations(run.ctx, run.tenantID, []store.Relation{o.relDelete.V}); err != nil {
				err = fmt.Errorf("linking: import: %w", err)
			}
		}
		if err != nil {
			fail(err)
		}
	}
	inFlight.Wait()
	return firstErr
}

// writePersons writes one batch; when the store rejects it, row by row.
func (run *importRun) writePersons(batch []lined[store.Person]) error {
	ps := make([]store.Person, len(batch))
	for i, p := range batch {
		ps[i] = p.V
	}
	upsert := run.im.Roster.UpsertPersons
	if pc, ok := run.im.Roster.(store.PersonCopier); ok {
		upsert = pc.CopyPersons
	}
	err := upsert(run.ctx, run.tenantID, ps)
	if err != nil && !errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("linking: import: %w", err)
	}
	written, flagged := make([]store.Person, 0, len(ps)), []RowFlag(nil)
	for i, p := range batch {
		if err != nil { // find the bad row(s)
			if err := run.im.Roster.UpsertPersons(run.ctx, run.tenantID, ps[i:i+1]); err != nil {
				if !errors.Is(err, store.ErrInvalid) {
					return fmt.Errorf("linking: import: %w", err)
				}
				e, ok := fieldRowError(p.V.ExternalID, err)
				if !ok {
					e = RowError{ExternalID: p.V.ExternalID, Message: "rejected by the store"}
				}
				e.Line = p.Line
				run.addErr(e)
				continue
			}
		}
		written = append(written, p.V)
		if len(p.V.Flags) > 0 {
			flagged = append(flagged, rowFlags(p.Line, p.V.ExternalID, p.V.Flags)...)
		}
	}
	suspended := 0
	if run.im.Links != nil {
		links, err := run.im.Links.RecheckRecords(run.ctx, run.tenantID, written)
		if err != nil {
			return fmt.Errorf("linking: import: %w", err)
		}
		suspended = len(links)
	}
	rows := 0
	for i, f := range flagged {
		if i == 0 || f.Line != flagged[i-1].Line {
			rows++
		}
	}
	run.addFlags(flagged)
	run.count(func(r *ImportReport) { r.Persons += len(written); r.Flagged += rows; r.LinksSuspended += suspended })
	return nil
}

// writeRelations writes a batch of relations. Those whose records do not
// exist are errors when the records were earlier in the file (they were
// rejected), and otherwise wait for the end of the file.
func (run *importRun) writeRelations(batch []pendingRelation) error {
	rs := make([]store.Relation, len(batch))
	for i, r := range batch {
		rs[i] = r.V
	}
	var missing []int
	if kr, ok := run.im.Roster.(store.KnownRelations); ok {
		var err error
		if missing, err = kr.UpsertKnownRelations(run.ctx, run.tenantID, rs); err != nil && !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("linking: import: %w", err)
		} else if err != nil {
			if missing, err = run.relationsOneByOne(rs); err != nil {
				return err
			}
		}
	} else if err := run.im.Roster.UpsertRelations(run.ctx, run.tenantID, rs); err != nil {
		if !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("linking: import: %w", err)
		}
		if missing, err = run.relationsOneByOne(rs); err != nil {
			return err
		}
	}
	for _, i := range missing {
		r := batch[i]
		if r.seen {
			e, err := run.relationProblem(r.V)
			if err != nil {
				return fmt.Errorf("linking: import: %w", err)
			}
			e.Line = r.Line
			run.addErr(e)
			continue
		}
		if err := run.deferred.add(r.lined); err != nil {
			return fmt.Errorf("linking: import: %w", err)
		}
	}
	run.count(func(rep *ImportReport) { rep.Relations += len(rs) - len(missing) })
	return nil
}

// relationProblem says why the store refused a relation: a record it
// names is not in the roster, or is not of the role its place needs (the
// parent a parent record, the student a student record).
func (run *importRun) relationProblem(r store.Relation) (RowError, error) {
	for _, end := range []struct {
		field, id string
		role      store.Role
	}{{"parent", r.Parent, store.RoleParent}, {"student", r.Student, store.RoleStudent}} {
		p, err := run.im.Roster.GetPerson(run.ctx, run.tenantID, end.id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return RowError{ExternalID: end.id, Field: end.field, Message: "relation to a record that is not in the roster"}, nil
		case err != nil:
			return RowError{}, err
		case p.Role != end.role:
			return RowError{ExternalID: end.id, Field: end.field, Message: fmt.Sprintf("must name a record of role %s, not %s", end.role, p.Role)}, nil
		}
	}
	return RowError{ExternalID: r.Student, Field: "parent", Message: "relation rejected by the store"}, nil
}

// relationsOneByOne writes relations singly and returns the positions of
// those the store refused.
func (run *importRun) relationsOneByOne(rs []store.Relation) ([]int, error) {
	var missing []int
	for i, r := range rs {
		if err := run.im.Roster.UpsertRelations(run.ctx, run.tenantID, []store.Relation{r}); err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				return nil, fmt.Errorf("linking: import: %w", err)
			}
			missing = append(missing, i)
		}
	}
	return missing, nil
}

// idSet remembers the external ids of the person rows of one import and
// the line of each, in about 56 bytes per id whatever its length (a
// million ids: 56 MB; BenchmarkIDSetMemory): ids are kept as two
// independent 64-bit hashes with per-process random seeds. Two different
// ids collide with probability 2^-128 per pair, far below any hardware
// error rate, and an outsider cannot aim for a collision without the
// seeds. It is the one part of an import that grows with the roster.
type idSet struct {
	s1, s2 maphash.Seed
	lines  map[[2]uint64]int32
}

func newIDSet() idSet {
	return idSet{s1: maphash.MakeSeed(), s2: maphash.MakeSeed(), lines: map[[2]uint64]int32{}}
}

func (s idSet) key(id string) [2]uint64 {
	return [2]uint64{maphash.String(s.s1, id), maphash.String(s.s2, id)}
}

// add remembers id at line; when it was there already it returns the
// first line and true.
func (s idSet) add(id string, line int) (int, bool) {
	k := s.key(id)
	if first, ok := s.lines[k]; ok {
		return int(first), true
	}
	s.lines[k] = int32(min(line, 1<<31-1))
	return 0, false
}

func (s idSet) has(id string) bool {
	_, ok := s.lines[s.key(id)]
	return ok
}

// spool keeps values for later, in order: up to max in memory, the rest in
// a temporary file (JSON lines), so that memory stays bounded however many
// there are.
type spool[T any] struct {
	max int
	dir string
	mem []T
	f   *os.File
	w   *bufio.Writer
	n   int
}

func (s *spool[T]) add(v T) error {
	s.n++
	if s.f == nil && len(s.mem) < s.max {
		s.mem = append(s.mem, v)
		return nil
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, "roster-import-*.ndjson")
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.f, s.w = f, bufio.NewWriter(f)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.w.Write(b)
	if err := s.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

// each calls fn with the values in order, batch at a time.
func (s *spool[T]) each(batch int, fn func([]T) error) error {
	for start := 0; start < len(s.mem); start += batch {
		if err := fn(s.mem[start:min(start+batch, len(s.mem))]); err != nil {
			return err
		}
	}
	if s.f == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	dec := json.NewDecoder(bufio.NewReader(s.f))
	buf := make([]T, 0, batch)
	for {
		var v T
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		if buf = append(buf, v); len(buf) == batch {
			if err := fn(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		return fn(buf)
	}
	return nil
}

func (s *spool[T]) close() {
	if s.f != nil {
		s.f.Close()
		os.Remove(s.f.Name())
		s.f = nil
	}
}
