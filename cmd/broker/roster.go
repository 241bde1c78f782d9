package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/linking/rostergen"
)

// RosterCmd is `broker roster`.
type RosterCmd struct {
	Import   RosterImportCmd   `cmd:"" help:"Import an NDJSON or CSV roster (docs/roster-format.md) into a tenant."`
	Generate RosterGenerateCmd `cmd:"" help:"Generate a synthetic roster with an ESIA persons file and a manifest of deliberate errors (load tests)."`
}

// RosterGenerateCmd is `broker roster generate --tenant T --persons N --out DIR`.
type RosterGenerateCmd struct {
	Tenant         string   `required:"" help:"Tenant the roster is for (named in the printed import command)."`
	Persons        int      `default:"1000" help:"Person rows in the roster."`
	Seed           uint64   `default:"1" help:"Seed: the same seed gives the same files."`
	ErrorShare     float64  `name:"error-share" default:"0.05" help:"Share of people whose roster row carries a deliberate error."`
	Errors         []string `name:"errors" help:"Error classes to deal out (default all): snils_typo, snils_transposition, yo, lookalike_letter, day_month_swap, missing_patronymic, duplicate_record, missing_snils."`
	ESIASample     int      `name:"esia-sample" default:"1000" help:"About how many roster people get an ESIA account in the ESIA persons file."`
	Strangers      int      `default:"-1" help:"ESIA persons in no roster (default esia-sample/50)."`
	AllowNameMatch bool     `name:"allow-name-match" default:"true" negatable:"" help:"The tenant policy the manifest's outcomes assume."`
	Out            string   `required:"" type:"path" help:"Directory for roster.ndjson, esia-persons.json and manifest.ndjson."`
}

// Run writes the three files and prints a summary as JSON.
func (c *RosterGenerateCmd) Run(g *Globals) error {
	cfg := rostergen.Config{Persons: c.Persons, Seed: c.Seed, ErrorShare: c.ErrorShare, ESIASample: c.ESIASample,
		Strangers: c.Strangers, AllowNameMatch: c.AllowNameMatch}
	switch {
	case c.Strangers < 0:
		cfg.Strangers = 0 // the default
	case c.Strangers == 0:
		cfg.Strangers = -1 // none
	}
	for _, e := range c.Errors {
		cfg.Errors = append(cfg.Errors, rostergen.ErrorClass(e))
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	files := map[string]*os.File{}
	for _, name := range []string{"roster.ndjson", "esia-persons.json", "manifest.ndjson"} {
		f, err := os.Create(filepath.Join(c.Out, name))
		if err != nil {
			return err
		}
		defer f.Close()
		files[name] = f
	}
	sum, err := rostergen.Generate(cfg, files["roster.ndjson"], files["esia-persons.json"], files["manifest.ndjson"])
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := f.Close(); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "import with: broker roster import --tenant %s %s\n", c.Tenant, filepath.Join(c.Out, "roster.ndjson"))
	return nil
}

// RosterImportCmd is `broker roster import --tenant T FILE`.
type RosterImportCmd struct {
	StoreFlags
	Tenant   string `required:"" help:"Tenant to import into."`
	File     string `arg:"" help:"Roster file (NDJSON, or CSV with --format csv), or - for standard input."`
	Format   string `default:"ndjson" enum:"ndjson,csv" help:"ndjson (one JSON object per line) or csv (the header and columns of docs/roster-format.md; UTF-8 or Windows-1251, ';' or ',')."`
	Encoding string `default:"auto" enum:"auto,utf-8,windows-1251" help:"Encoding of a CSV file: auto (UTF-8 if it is valid UTF-8, else Windows-1251), utf-8 or windows-1251."`
	Quiet    bool   `help:"No progress and no list of rejected and flagged rows on standard error."`
	Batch    int    `default:"1000" help:"Person rows written per transaction."`
	Writers  int    `default:"2" help:"Transactions writing at once."`
}

// Run imports the roster and prints the report as JSON.
func (c *RosterImportCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Store.GetTenant(g.Ctx, c.Tenant); err != nil {
		return fmt.Errorf("tenant %s: %w", c.Tenant, err)
	}
	var in io.Reader = os.Stdin
	var size int64
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		in = f
	}
	// Changed and deleted records keep their links in step, as through the
	// roster API: re-checked or removed, tokens revoked, webhooks, audit.
	links, err := st.RosterLinks(g.Ctx, "cli")
	if err != nil {
		return err
	}
	cr := &countingReader{r: in}
	start := time.Now()
	var drawn atomic.Bool
	im := &linking.Importer{Roster: st.Store, Index: st.PII, Links: links, BatchSize: c.Batch, Writers: c.Writers, Progress: func(lines int) {
		if c.Quiet {
			return
		}
		drawn.Store(true)
		fmt.Fprint(os.Stderr, progressLine(lines, cr.n.Load(), size, time.Since(start)))
	}}
	var rep linking.ImportReport
	if c.Format == "csv" {
		enc := c.Encoding
		if enc == "auto" {
			enc = linking.EncodingAuto
		}
		rep, err = im.ImportCSV(g.Ctx, c.Tenant, cr, linking.CSVOptions{Encoding: enc})
	} else {
		rep, err = im.Import(g.Ctx, c.Tenant, cr)
	}
	if drawn.Load() {
		fmt.Fprintln(os.Stderr) // the progress bar's line ends before anything else is said
	}
	var notNDJSON *linking.NotNDJSONError
	switch {
	case errors.As(err, &notNDJSON) && notNDJSON.Kind == "csv":
		return fmt.Errorf("%s: %w; import it with --format csv (docs/roster-format.md, CSV)", c.File, err)
	case errors.Is(err, linking.ErrNotNDJSON), errors.Is(err, linking.ErrBadCSV):
		return fmt.Errorf("%s: %w; nothing was imported", c.File, err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
	if err != nil {
		return err
	}
	if !c.Quiet {
		listRows(os.Stderr, rep)
	}
	summary := importSummary(rep)
	if len(rep.Errors) > 0 {
		return &exitError{code: 1, msg: summary}
	}
	if !c.Quiet {
		fmt.Fprintln(os.Stderr, summary)
	}
	return nil
}

// maxListed bounds the rows listed on standard error; the report on
// standard output has them all.
const maxListed = 50

// listRows writes the rejected rows (every error of each) and the flagged
// rows, one a line: line, record, field, problem — never a value.
func listRows(w io.Writer, rep linking.ImportReport) {
	for i, e := range rep.Errors {
		if i == maxListed {
			fmt.Fprintf(w, "… and %d more errors in the report (standard output)\n", len(rep.Errors)-maxListed)
			break
		}
		fmt.Fprintln(w, "rejected: "+e.Error())
	}
	for i, f := range rep.FlaggedRows {
		if i == maxListed {
			fmt.Fprintf(w, "… and %d more flagged rows in the report (standard output)\n", len(rep.FlaggedRows)-maxListed)
			break
		}
		fmt.Fprintf(w, "flagged: line %d (%s): %s: %s (%s)\n", f.Line, f.ExternalID, f.Field, f.Message, f.Flag)
	}
}

// importSummary says what the import did, without pretending: how many rows
// were rejected, and what was imported — "none" when nothing was.
func importSummary(rep linking.ImportReport) string {
	var done []string
	for _, n := range []struct {
		n    int
		what string
	}{{rep.Persons, "person row(s)"}, {rep.Relations, "relation(s)"}, {rep.Deleted, "deletion(s)"}} {
		if n.n > 0 {
			done = append(done, fmt.Sprintf("%d %s", n.n, n.what))
		}
	}
	imported := "none were imported"
	if len(done) > 0 {
		imported = "imported " + strings.Join(done, ", ")
	}
	var s string
	if len(rep.Errors) > 0 {
		lines := map[int]bool{}
		for _, e := range rep.Errors {
			lines[e.Line] = true
		}
		atLeast := ""
		if rep.ErrorsTruncated {
			atLeast = "at least "
		}
		s = fmt.Sprintf("%s%d row(s) rejected (%d error(s)); %s", atLeast, len(lines), len(rep.Errors), imported)
	} else {
		s = strings.ToUpper(imported[:1]) + imported[1:]
	}
	if rep.Flagged > 0 {
		s += fmt.Sprintf("; %d imported row(s) flagged for the school to check", rep.Flagged)
	}
	return s
}

// countingReader counts the bytes read; the importer reads on one
// goroutine and reports progress on another.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progressLine draws "[#####-----]  42%  120000 rows  21000 rows/s".
func progressLine(lines int, read, size int64, elapsed time.Duration) string {
	rate := float64(lines) / elapsed.Seconds()
	if size <= 0 {
		return fmt.Sprintf("\r%d rows  %.0f rows/s", lines, rate)
	}
	frac := float64(read) / float64(size)
	if frac > 1 {
		frac = 1
	}
	const width = 30
	bar := make([]byte, width)
	for i := range bar {
		if float64(i) < frac*width {
			bar[i] = '#'
		} else {
			bar[i] = '-'
		}
	}
	return fmt.Sprintf("\r[%s] %3.0f%%  %d rows  %.0f rows/s", bar, frac*100, lines, rate)
}
