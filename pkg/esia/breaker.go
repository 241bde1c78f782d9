package esia

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of the circuit breaker (Config.BreakerFailures, BreakerCooldown).
const (
	DefaultBreakerFailures = 5
	// DefaultBreakerCooldown is short because no person waits for a probe
	// (the breaker sends its own, see Config.BreakerCooldown): it bounds how
	// long logins stay refused after ESIA answers again.
	DefaultBreakerCooldown = 3 * time.Second
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
	// breakerHalfOpen fails every call fast while the breaker's own probe
	// asks ESIA; the probe's answer closes the breaker or opens it again.
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
// consecutive calls that found ESIA down it opens and fails calls fast.
// The cool-down counts from the failure that opened it, or from the start
// of the last failed probe; the first call or Available after it starts a
// probe of the breaker's own in the background — no person's call is ever
// the probe — and the probe's answer closes the breaker or opens it for
// another cool-down. It counts logical calls: a GET and its one retry are one call.
type breaker struct {
	mu        sync.Mutex
	state     breakerState
	failures  int       // consecutive outcomeDown while closed
	openUntil time.Time // end of the cool-down while open
	openedAt  time.Time // when it left closed, for the log line that closes it
	probedAt  time.Time // when the probe under way started
	// gen changes whenever the state does; the outcome of a call let
	// through under an older generation is ignored, so that the late
	// answers of calls started before the breaker opened cannot close it.
	gen uint64
	// probes counts probes under way, for tests (WaitProbe).
	probes sync.WaitGroup
}

// transition is a change of state, logged once the lock is released.
type transition struct {
	to       breakerState
	endpoint string // the call label whose outcome changed the state
	cause    string
	failures int
	retryAt  time.Time
	downFor  time.Duration
}

// allow decides whether a call may go to ESIA now. When it may not, it
// returns the time the cool-down ends (zero while a probe is under way), and
// whether the caller must start a probe (the cool-down just ended).
func (b *breaker) allow(now time.Time) (gen uint64, until time.Time, probe *transition, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case breakerOpen:
		if now.Before(b.openUntil) {
			return 0, b.openUntil, nil, false
		}
		b.setState(breakerHalfOpen)
		b.probedAt = now
		b.probes.Add(1)
		return 0, time.Time{}, &transition{to: breakerHalfOpen, endpoint: probeLabel}, false
	case breakerHalfOpen:
		return 0, time.Time{}, nil, false
	}
	return b.gen, time.Time{}, nil, true
}

// record takes the outcome of a call allowed under gen, and returns the
// transition it caused, if any.
func (b *breaker) record(gen uint64, o callOutcome, now time.Time, limit int, cooldown time.Duration) *transition {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.gen || b.state != breakerClosed {
		return nil
	}
	switch o {
	case outcomeUp:
		b.failures = 0
	case outcomeDown:
		b.failures++
		if b.failures >= limit {
			n := b.failures
			b.open(now, cooldown)
			b.openedAt = now
			return &transition{to: breakerOpen, failures: n, retryAt: b.openUntil}
		}
	}
	return nil
}

// probed takes the outcome of the breaker's probe and returns the
// transition: closed when ESIA answered, open otherwise until a cool-down
// after the probe started (so that a probe ESIA left hanging does not
// stretch the time between probes).
func (b *breaker) probed(o callOutcome, now time.Time, cooldown time.Duration) *transition {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != breakerHalfOpen {
		return nil
	}
	if o == outcomeUp {
		b.setState(breakerClosed)
		return &transition{to: breakerClosed, endpoint: probeLabel, downFor: now.Sub(b.openedAt)}
	}
	b.open(b.probedAt, cooldown)
	return &transition{to: breakerOpen, endpoint: probeLabel, retryAt: b.openUntil}
}

func (b *breaker) open(now time.Time, cooldown time.Duration) {
	b.setState(breakerOpen)
	b.openUntil = now.Add(cooldown)
}

func (b *breaker) setState(s breakerState) {
	b.state = s
	b.gen++
	b.failures = 0
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

// probeLabel is the Observe endpoint label of the breaker's probe.
const probeLabel = "probe"

// probeTimeout bounds the probe: the cool-down (a probe ESIA leaves hanging
// fails in time for the next one), at least a second, at most Timeout.
func (c *Config) probeTimeout() time.Duration {
	return min(max(c.breakerCooldown(), time.Second), c.timeout())
}

// Available reports, without waiting for ESIA, whether calls go through
// now: nil, or while the circuit breaker is open or probing an error
// matching ErrUnavailable and ErrCircuitOpen. Once the cool-down is over it
// starts the breaker's probe in the background (as a refused call does) and
// still answers with the error: calls resume when the probe finds ESIA
// answering. A login checks it before sending a person to ESIA's login page.
func (c *Config) Available() error {
	limit := c.breakerFailures()
	if limit == 0 {
		return nil
	}
	_, until, probe, ok := c.breakerState().allow(c.now())
	if ok {
		return nil
	}
	return c.refusal(limit, until, probe)
}

// refusal starts the probe when allow asked for it, and returns the error
// of a refused call.
func (c *Config) refusal(limit int, until time.Time, probe *transition) error {
	if probe != nil {
		c.logTransition(probe)
		go c.probe()
	}
	desc := fmt.Sprintf("ESIA is unavailable (circuit breaker open after %d calls in a row failed); calls resume ", limit)
	if until.IsZero() {
		desc += "once a probe finds ESIA answering"
	} else {
		desc += "at the earliest at " + until.Format(time.RFC3339)
	}
	return &Error{Description: desc, Retryable: true, cause: ErrCircuitOpen}
}

// probe asks ESIA's token endpoint with an empty form. A working ESIA
// answers at once with an error of the request (ESIA-007014, a missing
// parameter), which proves it up; a 5xx, ESIA-007007/007008, a time-out or
// no connection proves it still down. The probe carries no secret, code or
// personal data, and is sent once per cool-down at most while ESIA is down.
func (c *Config) probe() {
	b := c.breakerState()
	defer b.probes.Done() // after the log line: WaitProbe sees it written
	_, err := c.attempt(context.Background(), call{label: probeLabel, timeout: c.probeTimeout(),
		newRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(PathToken), strings.NewReader(""))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			return req, nil
		}})
	o := outcomeOf(err)
	if o == outcomeNone {
		o = outcomeDown
	}
	if t := b.probed(o, c.now(), c.breakerCooldown()); t != nil {
		t.cause = causeOf(err)
		var e *Error
		if o == outcomeUp && errors.As(err, &e) {
			t.cause = fmt.Sprintf("ESIA answered the probe (HTTP %d)", e.HTTPStatus)
		}
		c.logTransition(t)
	}
}

// guard runs call under the circuit breaker: it fails fast while the
// breaker is open and feeds the breaker the call's outcome otherwise.
func (c *Config) guard(label string, call func() ([]byte, error)) ([]byte, error) {
	limit := c.breakerFailures()
	if limit == 0 {
		return call()
	}
	b := c.breakerState()
	gen, until, probe, ok := b.allow(c.now())
	if !ok {
		if c.Observe != nil {
			c.Observe(label, "circuit_open", 0)
		}
		return nil, c.refusal(limit, until, probe)
	}
	body, err := call()
	if t := b.record(gen, outcomeOf(err), c.now(), limit, c.breakerCooldown()); t != nil {
		t.endpoint, t.cause = label, causeOf(err)
		c.logTransition(t)
	}
	return body, err
}

// logTransition writes the one log line of a change of the breaker's state:
// WARN when it opens, INFO when it probes or closes. Refused calls log
// nothing: the line that opened the breaker says why they are refused.
func (c *Config) logTransition(t *transition) {
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{"esia_host", c.host(), "endpoint", t.endpoint}
	switch t.to {
	case breakerOpen:
		attrs = append(attrs, "cause", t.cause, "retry_at", t.retryAt)
		if t.failures > 0 {
			attrs = append(attrs, "failures", t.failures)
		}
		log.Warn("esia circuit breaker open: calls to ESIA fail fast", attrs...)
	case breakerHalfOpen:
		log.Info("esia circuit breaker half-open: probing ESIA", attrs...)
	case breakerClosed:
		attrs = append(attrs, "cause", t.cause, "down_for", t.downFor.String())
		log.Info("esia circuit breaker closed: ESIA answers again", attrs...)
	}
}

// host is BaseURL's host, for log lines.
func (c *Config) host() string {
	if u, err := url.Parse(c.BaseURL); err == nil {
		return u.Host
	}
	return ""
}

// causeOf describes a call's outcome for the breaker's log line without
// the request URL (a REST path names the person's oid).
func causeOf(err error) string {
	if err == nil {
		return "ESIA answered"
	}
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	s := e.Error()
	var ue *url.Error
	if errors.As(e.cause, &ue) {
		s += ": " + ue.Err.Error()
	} else if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}
