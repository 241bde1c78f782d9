package server

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/diarybroker/broker/pkg/store/postgres"
)

// WaitForDatabase waits until PostgreSQL answers, when the settings name
// one: Build cannot go without it (the keys are kept there). It tries every
// interval and logs what it waits for (see waiter); it returns ctx's error
// if ctx ends first.
func WaitForDatabase(ctx context.Context, s Settings, logger *slog.Logger, every time.Duration) error {
	if s.DatabaseURL == "" {
		return nil
	}
	w := newWaiter(logger)
	for {
		if w.report(map[string]error{"postgres": pingDatabase(ctx, s.DatabaseURL)}) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func pingDatabase(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pool, err := postgres.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	return pool.Ping(ctx)
}

// WaitReady runs the readiness checks (PostgreSQL, Redis, ESIA's trust:
// what /readyz answers) every interval until all pass, logging what it
// waits for; it returns nil then, or ctx's error if ctx ends first. serve
// logs «broker ready» only after it.
func (c *Components) WaitReady(ctx context.Context, every time.Duration) error {
	w := newWaiter(c.Logger)
	for {
		errs := map[string]error{}
		for name, check := range c.Ready {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			errs[name] = check(cctx)
			cancel()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if w.report(errs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// waiter logs what start-up waits for: a WARN line when a service is first
// found unavailable, again once a minute while it stays so, and an INFO
// line when it answers — never a line per try.
type waiter struct {
	log    *slog.Logger
	since  map[string]time.Time // first failure of each service still down
	logged map[string]time.Time // its last line
}

func newWaiter(log *slog.Logger) *waiter {
	return &waiter{log: log, since: map[string]time.Time{}, logged: map[string]time.Time{}}
}

// report takes one round of checks and says whether every service answered.
func (w *waiter) report(errs map[string]error) bool {
	now := time.Now()
	names := make([]string, 0, len(errs))
	for name := range errs {
		names = append(names, name)
	}
	slices.Sort(names)
	ok := true
	for _, name := range names {
		err := errs[name]
		since, waiting := w.since[name]
		switch {
		case err != nil && !waiting:
			w.since[name], w.logged[name] = now, now
			w.log.Warn("waiting for "+name, "service", name, "error", errorText(err))
		case err != nil && now.Sub(w.logged[name]) >= time.Minute:
			w.logged[name] = now
			w.log.Warn("still waiting for "+name, "service", name, "waited", now.Sub(since).Round(time.Second).String(), "error", errorText(err))
		case err == nil && waiting:
			delete(w.since, name)
			delete(w.logged, name)
			w.log.Info(name+" is available", "service", name, "waited", now.Sub(since).Round(time.Millisecond).String())
		}
		ok = ok && err == nil
	}
	return ok
}

func errorText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return err.Error()
}
