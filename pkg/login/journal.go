package login

import (
	"context"
	"sync"

	"github.com/diarybroker/broker/pkg/store"
)

// A request of a login records several attempt events — ESIA's answer,
// the matching, the code issued — which written one by one are as many
// transactions, each waiting for its commit's WAL flush (issue 13). Under
// a journal (WithJournal) they are kept in the request and written by
// FlushJournal in one write per attempt: the server flushes just before
// the request's answer is written, so that whoever holds the answer — a
// person with a reference code, a test — finds the events stored.

// journal is the attempt events of one request, kept until flushed.
type journal struct {
	mu      sync.Mutex
	flushed bool
	entries []journalEntry
}

type journalEntry struct {
	a  store.Attempt
	ev store.AttemptEvent
}

type journalKey struct{}

// WithJournal returns a context under which the Service's attempt events
// are kept until FlushJournal writes them. A request that uses it must
// flush before its answer is written (and, in case it writes none, when
// it ends).
func WithJournal(ctx context.Context) context.Context {
	return context.WithValue(ctx, journalKey{}, &journal{})
}

func journalOf(ctx context.Context) *journal {
	j, _ := ctx.Value(journalKey{}).(*journal)
	return j
}

// keep adds an event; false once the journal was flushed or is full (the
// event is then written at once, after what the journal kept).
func (j *journal) keep(a store.Attempt, ev store.AttemptEvent) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.flushed || len(j.entries) >= store.MaxAttemptEventsPerWrite {
		return false
	}
	j.entries = append(j.entries, journalEntry{a: a, ev: ev})
	return true
}

// take returns the kept events and marks the journal flushed.
func (j *journal) take() []journalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.flushed = true
	out := j.entries
	j.entries = nil
	return out
}

// FlushJournal writes the attempt events kept under ctx (WithJournal):
// one RecordAttempt per attempt with its events in order and its summary
// as recording them one by one would leave it. Events recorded under ctx
// afterwards are written at once. Calling it again, or without a journal,
// does nothing. A failure is logged, never returned: recording never
// fails a login.
func (s *Service) FlushJournal(ctx context.Context) {
	j := journalOf(ctx)
	if j == nil {
		return
	}
	ctx = context.WithoutCancel(ctx) // a person who left still left a trace
	for _, w := range mergeJournal(j.take()) {
		if err := s.cfg.Attempts.RecordAttempt(ctx, w.a, w.evs...); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "recording login attempt failed", "ref", w.a.Ref, "events", len(w.evs), "error", err)
		}
	}
}

// attemptWrite is one attempt's share of a journal.
type attemptWrite struct {
	a   store.Attempt
	evs []store.AttemptEvent
}

// mergeJournal groups a journal's events by attempt, in the order the
// attempts first appear, and folds each attempt's summaries as the store
// would one after the other: the first summary's creation time, the
// tenant and client first given stay; the ESIA oid, outcome and reason
// last given win.
func mergeJournal(entries []journalEntry) []attemptWrite {
	var out []attemptWrite
	at := map[string]int{}
	for _, e := range entries {
		i, ok := at[e.a.Ref]
		if !ok {
			at[e.a.Ref] = len(out)
			out = append(out, attemptWrite{a: e.a, evs: []store.AttemptEvent{e.ev}})
			continue
		}
		w := &out[i]
		if w.a.TenantID == "" {
			w.a.TenantID = e.a.TenantID
		}
		if w.a.ClientID == "" {
			w.a.ClientID = e.a.ClientID
		}
		if e.a.ESIAOID != "" {
			w.a.ESIAOID = e.a.ESIAOID
		}
		if e.a.Outcome != "" {
			w.a.Outcome = e.a.Outcome
		}
		if e.a.Reason != "" {
			w.a.Reason = e.a.Reason
		}
		w.evs = append(w.evs, e.ev)
	}
	return out
}
