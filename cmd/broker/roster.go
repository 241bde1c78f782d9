package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/linking/rostergen"
)

// RosterCmd is `broker roster`.
type RosterCmd struct {
	Import   RosterImportCmd   `cmd:"" help:"Import an NDJSON roster (docs/roster-format.md) into a tenant."`
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
	Tenant  string `required:"" help:"Tenant to import into."`
	File    string `arg:"" help:"NDJSON file, or - for standard input."`
	Quiet   bool   `help:"No progress on standard error."`
	Batch   int    `default:"1000" help:"Person rows written per transaction."`
	Writers int    `default:"2" help:"Transactions writing at once."`
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
	im := &linking.Importer{Roster: st.Store, Index: st.PII, Links: links, BatchSize: c.Batch, Writers: c.Writers, Progress: func(lines int) {
		if c.Quiet {
			return
		}
		fmt.Fprint(os.Stderr, progressLine(lines, cr.n.Load(), size, time.Since(start)))
	}}
	rep, err := im.Import(g.Ctx, c.Tenant, cr)
	if !c.Quiet {
		fmt.Fprintln(os.Stderr)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(rep)
	if err != nil {
		return err
	}
	if len(rep.Errors) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d row(s) rejected; the others were imported", len(rep.Errors))}
	}
	return nil
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
