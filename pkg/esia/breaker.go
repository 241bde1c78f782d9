package esia

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of the circuit breaker (Config.BreakerFailures, BreakerCooldown).
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
)

// ErrCircuitOpen is the cause of the error a call to ESIA fails with,
// without reaching ESIA, while the circuit breaker is open. The error is a
// Retryable *Error and matches ErrUnavailable as well:
//
//	errors.Is(err, esia.ErrUnavailable) // true: tell the person to try later
//	errors.Is(err, esia.ErrCircuitOpen) // true: ESIA was not even asked
var ErrCircuitOpen = errors.New("circuit breaker open")

// breakerState is where the breaker is in its cycle.
type breakerState int

const (
	// breakerClosed lets every call through and counts consecutive failures.
	breakerClosed breakerState = iota
	// breakerOpen fails every call fast until the cool-down is over.
	breakerOpen
	// breakerHalfOpen lets one probe call through; its outcome closes the
	// breaker again or reopens it.
	breakerHalfOpen
)

func (s breakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

// callOutcome is what a finished call tells the breaker.
type callOutcome int

const (
	// outcomeUp: ESIA answered (2xx, or an error of the request or the
	// person such as ESIA-007004, 007011 or a 4xx).
	outcomeUp callOutcome = iota
	// outcomeDown: ESIA is down (ESIA-007007/007008, 5xx, time-out, no
	// connection).
	outcomeDown
	// outcomeNone: the caller gave up first (its context ended); the call
	// says nothing about ESIA.
	outcomeNone
)

// outcomeOf classifies the result of Config.do.
func outcomeOf(err error) callOutcome {
	var e *Error
	switch {
	case err == nil:
		return outcomeUp
	case errors.As(err, &e):
		if e.Retryable {
			return outcomeDown
		}
		return outcomeUp
	}
	// The caller's context ended, or the request could not even be built.
	return outcomeNone
}

// breaker is the circuit breaker of one Config: after `failures`
// consecutive calls that found ESIA down it opens, fails calls fast for the
// cool-down, then lets a single probe through. It counts logical calls: a
// GET and its one retry are one call.
type breaker struct {
	mu        sync.Mutex
	state     breakerState
	failures  int       // consecutive outcomeDown while closed
	openUntil time.Time // end of the cool-down while open
	probing   bool      // the half-open probe is under way
	// gen changes whenever the state does; the outcome of a call let
	// through under an older generation is ignored, so that the late
	// answers of calls started before the breaker opened cannot close it.
	gen uint64
}

// ticket is what allow hands a call, and record takes back.
type ticket struct {
	gen   uint64
	probe bool
}

// allow decides whether a call may go to ESIA now. When it may not, it
// returns the time the cool-down ends (zero while a probe is under way).
func (b *breaker) allow(now time.Time) (ticket, time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if now.Before(b.openUntil) {
			return ticket{}, b.openUntil, false
		}
		b.setState(breakerHalfOpen)
		fallthrough
	case breakerHalfOpen:
		if b.probing {
			return ticket{}, time.Time{}, false
		}
		b.probing = true
		return ticket{gen: b.gen, probe: true}, time.Time{}, true
	}
	return ticket{gen: b.gen}, time.Time{}, true
}

// record takes the outcome of a call allowed with t.
func (b *breaker) record(t ticket, o callOutcome, now time.Time, limit int, cooldown time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.gen != b.gen {
		return
	}
	if t.probe {
		b.probing = false
		switch o {
		case outcomeUp:
			b.setState(breakerClosed)
		case outcomeDown:
			b.open(now, cooldown)
		}
		// outcomeNone: still half-open, the next call probes.
		return
	}
	switch o {
	case outcomeUp:
		b.failures = 0
	case outcomeDown:
		b.failures++
		if b.failures >= limit {
			b.open(now, cooldown)
		}
	}
}

func (b *breaker) open(now time.Time, cooldown time.Duration) {
	b.setState(breakerOpen)
	b.openUntil = now.Add(cooldown)
}

func (b *breaker) setState(s breakerState) {
	b.state = s
	b.gen++
	b.failures = 0
	b.probing = false
}

// openAt reports whether the breaker refuses calls at now without changing
// its state, and until when.
func (b *breaker) openAt(now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil, b.state == breakerOpen && now.Before(b.openUntil)
}

// snapshot returns the state, for tests.
func (b *breaker) snapshot() (breakerState, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.failures
}

// breakerInit guards the making of every Config's breaker; it is held for
// a pointer check once the breaker exists.
var breakerInit sync.Mutex

// breakerState returns c's breaker, making it at the first call.
func (c *Config) breakerState() *breaker {
	breakerInit.Lock()
	defer breakerInit.Unlock()
	if c.breaker == nil {
		c.breaker = &breaker{}
	}
	return c.breaker
}

// breakerFailures is the threshold in use; 0 means the breaker is off.
func (c *Config) breakerFailures() int {
	switch {
	case c.BreakerFailures < 0:
		return 0
	case c.BreakerFailures == 0:
		return DefaultBreakerFailures
	}
	return c.BreakerFailures
}

func (c *Config) breakerCooldown() time.Duration {
	if c.BreakerCooldown > 0 {
		return c.BreakerCooldown
	}
	return DefaultBreakerCooldown
}

// Available reports, without calling ESIA, whether calls go through now: nil,
// or while the circuit breaker is open an error matching ErrUnavailable and
// ErrCircuitOpen. It never takes the probe call of a half-open breaker (once
// the cool-down is over it returns nil and the next real call probes), so a
// login can check it before sending a person to ESIA's login page.
func (c *Config) Available() error {
	limit := c.breakerFailures()
	if limit == 0 {
		return nil
	}
	until, open := c.breakerState().openAt(c.now())
	if !open {
		return nil
	}
	return &Error{Description: fmt.Sprintf("ESIA is unavailable (circuit breaker open after %d calls in a row failed); calls resume at %s",
		limit, until.Format(time.RFC3339)), Retryable: true, cause: ErrCircuitOpen}
}

// guard runs call under the circuit breaker: it fails fast while the
// breaker is open and feeds the breaker the call's outcome otherwise.
func (c *Config) guard(label string, call func() ([]byte, error)) ([]byte, error) {
	limit := c.breakerFailures()
	if limit == 0 {
		return call()
	}
	b := c.breakerState()
	t, until, ok := b.allow(c.now())
	if !ok {
		if c.Observe != nil {
			c.Observe(label, "circuit_open", 0)
		}
		desc := fmt.Sprintf("ESIA is unavailable (circuit breaker open after %d calls in a row failed); calls resume ", limit)
		if until.IsZero() {
			desc += "after the probe call under way"
		} else {
			desc += "at " + until.Format(time.RFC3339)
		}
		return nil, &Error{Description: desc, Retryable: true, cause: ErrCircuitOpen}
	}
	body, err := call()
	b.record(t, outcomeOf(err), c.now(), limit, c.breakerCooldown())
	return body, err
}
