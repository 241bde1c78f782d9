package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
)

// RosterCmd is `broker roster`.
type RosterCmd struct {
	Import RosterImportCmd `cmd:"" help:"Import an NDJSON roster (docs/roster-format.md) into a tenant."`
}

// RosterImportCmd is `broker roster import --tenant T FILE`.
type RosterImportCmd struct {
	StoreFlags
	Tenant string `required:"" help:"Tenant to import into."`
	File   string `arg:"" help:"NDJSON file, or - for standard input."`
	Quiet  bool   `help:"No progress on standard error."`
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
	cr := &countingReader{r: in}
	start := time.Now()
	im := &linking.Importer{Roster: st.Store, Index: st.PII, Progress: func(lines int) {
		if c.Quiet {
			return
		}
		fmt.Fprint(os.Stderr, progressLine(lines, cr.n, size, time.Since(start)))
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

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
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
