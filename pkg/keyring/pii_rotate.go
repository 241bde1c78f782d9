package keyring

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// KeyRefresh is how long a PII seals with the keys it read before reading
// them again: the longest a replica that has not seen a rotation keeps
// sealing under the retired key.
const KeyRefresh = time.Minute

// DefaultRetireAfter is how long a retired personal-data key is kept after
// its rotation even when no row uses it any more: longer than KeyRefresh
// plus the longest write transaction, so that no replica can still be
// writing a row under it when it goes.
const DefaultRetireAfter = 10 * time.Minute

func (p *PII) refreshIfStale() error {
	p.mu.RLock()
	fresh := p.now().Sub(p.loaded) < KeyRefresh && !p.now().Before(p.loaded)
	p.mu.RUnlock()
	if fresh {
		return nil
	}
	p.refreshMu.Lock()
	defer p.refreshMu.Unlock()
	p.mu.RLock()
	fresh = p.now().Sub(p.loaded) < KeyRefresh && !p.now().Before(p.loaded)
	p.mu.RUnlock()
	if fresh {
		return nil // another caller reloaded meanwhile
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return p.Reload(ctx)
}

// ResealOptions control PII.Reseal.
type ResealOptions struct {
	// Batch is the rows re-sealed per transaction (default 500).
	Batch int
	// Workers is how many batches run at once in this process (default
	// 1); other processes may re-seal at the same time.
	Workers int
	// RetireAfter: a retired key is deleted once no row uses it and it
	// was retired at least this long ago (default DefaultRetireAfter;
	// negative: at once, for a broker with no replica running).
	RetireAfter time.Duration
	// Progress, when set, is called after every batch (one call at a time).
	Progress func(ResealProgress)
}

// ResealProgress is how far a re-sealing of one table is.
type ResealProgress struct {
	Table store.SealedTable
	Done  int64 // rows re-sealed by this call
	Total int64 // rows under retired keys when it started
}

// ResealReport is what Reseal did.
type ResealReport struct {
	ActiveKey string                      `json:"active_key"`
	Resealed  map[store.SealedTable]int64 `json:"resealed"`
	// Remaining counts the rows still under retired keys at the end: rows
	// another transaction held, or wrote under a retired key since.
	Remaining map[store.SealedTable]int64 `json:"remaining"`
	Retired   []string                    `json:"retired,omitempty"` // keys deleted
	Kept      []RetiredKey                `json:"kept,omitempty"`    // retired keys still there
	Elapsed   time.Duration               `json:"elapsed"`
}

// RetiredKey is a retired key Reseal kept, and why.
type RetiredKey struct {
	ID        string    `json:"id"`
	RetiredAt time.Time `json:"retired_at"`
	Rows      int64     `json:"rows"`       // rows still sealed under it
	NotBefore time.Time `json:"not_before"` // when it may be deleted once unused
	Reason    string    `json:"reason,omitempty"`
}

// Reseal re-encrypts, with the active personal-data key, every row sealed
// under a retired one — roster records and OAuth records alike — and then
// deletes the retired keys no row uses any more and that were retired
// RetireAfter ago. It may run in several processes at once (rows are
// claimed with FOR UPDATE SKIP LOCKED) and while the broker serves: each
// row is updated in one statement, readable before and after, and replicas
// that meet a key id they do not know read the keys again. Running it again
// later finishes what it left (rows written meanwhile by replicas that had
// not yet seen the rotation, keys too recently retired).
func (p *PII) Reseal(ctx context.Context, r store.Resealer, opt ResealOptions) (ResealReport, error) {
	start := time.Now()
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	switch {
	case opt.RetireAfter == 0:
		opt.RetireAfter = DefaultRetireAfter
	case opt.RetireAfter < 0:
		opt.RetireAfter = 0
	}
	if err := p.Reload(ctx); err != nil {
		return ResealReport{}, err
	}
	rep := ResealReport{ActiveKey: p.ActiveKeyID(), Resealed: map[store.SealedTable]int64{}, Remaining: map[store.SealedTable]int64{}}
	keys, err := p.keys.ListKeys(ctx, store.KeyPII)
	if err != nil {
		return rep, fmt.Errorf("keyring: list pii keys: %w", err)
	}
	var retired []store.Key
	var old []string
	for _, k := range keys {
		if !k.Active() {
			retired = append(retired, k)
			old = append(old, k.ID)
		}
	}
	if len(old) == 0 {
		rep.Elapsed = time.Since(start)
		return rep, nil
	}
	counts, err := r.SealedKeys(ctx)
	if err != nil {
		return rep, err
	}
	var progressMu sync.Mutex
	for _, table := range store.SealedTables {
		var total int64
		for _, id := range old {
			total += counts[table][id]
		}
		if total == 0 {
			continue
		}
		var done atomic.Int64
		errs := make(chan error, opt.Workers)
		// Each worker makes one pass over the table; the workers (and other
		// processes) leapfrog each other's claimed batches.
		for range opt.Workers {
			go func() {
				after := ""
				for {
					n, next, err := r.Reseal(ctx, table, old, opt.Batch, after)
					if err != nil {
						errs <- err
						return
					}
					if n > 0 && opt.Progress != nil {
						d := done.Add(int64(n))
						progressMu.Lock()
						opt.Progress(ResealProgress{Table: table, Done: d, Total: total})
						progressMu.Unlock()
					} else {
						done.Add(int64(n))
					}
					if next == "" {
						errs <- nil
						return
					}
					after = next
				}
			}()
		}
		var werr error
		for range opt.Workers {
			werr = errors.Join(werr, <-errs)
		}
		rep.Resealed[table] = done.Load()
		if werr != nil {
			return rep, fmt.Errorf("keyring: reseal %s: %w", table, werr)
		}
	}
	if counts, err = r.SealedKeys(ctx); err != nil {
		return rep, err
	}
	now := p.now()
	for _, k := range retired {
		var rows int64
		for _, table := range store.SealedTables {
			rows += counts[table][k.ID]
			rep.Remaining[table] += counts[table][k.ID]
		}
		kept := RetiredKey{ID: k.ID, RetiredAt: k.RetiredAt, Rows: rows, NotBefore: k.RetiredAt.Add(opt.RetireAfter)}
		switch {
		case rows > 0:
			kept.Reason = "rows are still sealed under it"
		case now.Before(kept.NotBefore):
			kept.Reason = "retired too recently: replicas may still be sealing with it"
		default:
			deleted, err := r.DeleteSealingKey(ctx, k.ID)
			if err != nil {
				return rep, err
			}
			if deleted {
				rep.Retired = append(rep.Retired, k.ID)
				continue
			}
			kept.Reason = "a row was sealed under it meanwhile"
		}
		rep.Kept = append(rep.Kept, kept)
	}
	rep.Elapsed = time.Since(start)
	return rep, p.Reload(ctx)
}
