package esia

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestBreaker drives the state machine step by step on an injected clock:
// each step lets one call ask the breaker at t0+at and, when let through,
// reports its outcome (or holds it to report in a later step), or finishes
// the breaker's probe with an outcome.
func TestBreaker(t *testing.T) {
	const limit, cooldown = 3, 3 * time.Second
	type step struct {
		at      time.Duration
		outcome callOutcome
		hold    bool // keep the ticket, report it in a later step with report
		report  int  // 1-based index of a held step whose outcome is reported now (no new call)
		probed  bool // no new call: the probe under way finishes with outcome
		allowed bool
		probe   bool   // the refused call starts the probe
		state   string // "" leaves the state unchecked
	}
	up, down, none := outcomeUp, outcomeDown, outcomeNone
	const closed, open, halfOpen = "closed", "open", "half-open"
	opened := []step{
		{outcome: down, allowed: true}, {outcome: down, allowed: true},
		{outcome: down, allowed: true, state: open},
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"successes keep it closed", []step{
			{outcome: up, allowed: true, state: closed},
			{outcome: up, allowed: true, state: closed},
		}},
		{"limit failures in a row open it", []step{
			{outcome: down, allowed: true, state: closed},
			{outcome: down, allowed: true, state: closed},
			{outcome: down, allowed: true, state: open},
			{at: time.Second, allowed: false, state: open},
			{at: cooldown - time.Nanosecond, allowed: false, state: open},
		}},
		{"an answer between failures resets the count", []step{
			{outcome: down, allowed: true, state: closed},
			{outcome: down, allowed: true, state: closed},
			{outcome: up, allowed: true, state: closed},
			{outcome: down, allowed: true, state: closed},
			{outcome: down, allowed: true, state: closed},
			{outcome: down, allowed: true, state: open},
		}},
		{"cancelled calls neither count nor reset", []step{
			{outcome: down, allowed: true, state: closed},
			{outcome: none, allowed: true, state: closed},
			{outcome: down, allowed: true, state: closed},
			{outcome: none, allowed: true, state: closed},
			{outcome: down, allowed: true, state: open},
		}},
		{"the first call after the cool-down starts the probe, is refused; the probe's success closes", append(opened[:3:3],
			step{at: cooldown, allowed: false, probe: true, state: halfOpen},
			step{at: cooldown, allowed: false, state: halfOpen}, // a second call while the probe runs: no second probe
			step{at: cooldown + time.Second, probed: true, outcome: up, state: closed},
			step{at: cooldown + time.Second, outcome: up, allowed: true, state: closed},
		)},
		{"refusals do not stretch the cool-down", append(opened[:3:3],
			step{at: time.Second, allowed: false, state: open},
			step{at: 2 * time.Second, allowed: false, state: open},
			step{at: cooldown - time.Nanosecond, allowed: false, state: open},
			step{at: cooldown, allowed: false, probe: true, state: halfOpen},
		)},
		{"a failed probe reopens until a cool-down after it started", append(opened[:3:3],
			step{at: cooldown + time.Second, allowed: false, probe: true, state: halfOpen},
			step{at: cooldown + 2*time.Second, probed: true, outcome: down, state: open}, // it took 1 s
			step{at: 2*cooldown + time.Second - time.Nanosecond, allowed: false, state: open},
			step{at: 2*cooldown + time.Second, allowed: false, probe: true, state: halfOpen},
			step{at: 2*cooldown + 2*time.Second, probed: true, outcome: up, state: closed},
			step{at: 2*cooldown + 2*time.Second, outcome: up, allowed: true, state: closed},
		)},
		{"a probe that outlived the cool-down lets the next call probe at once", append(opened[:3:3],
			step{at: cooldown, allowed: false, probe: true, state: halfOpen},
			step{at: 2*cooldown + time.Second, probed: true, outcome: down, state: open},
			step{at: 2*cooldown + time.Second, allowed: false, probe: true, state: halfOpen},
		)},
		{"a probe without an answer in time counts as down", append(opened[:3:3],
			step{at: cooldown, allowed: false, probe: true, state: halfOpen},
			step{at: cooldown, probed: true, outcome: down, state: open},
		)},
		{"late answers of calls started before it opened are ignored", []step{
			{outcome: up, hold: true, allowed: true, state: closed},
			{outcome: down, hold: true, allowed: true, state: closed},
			{outcome: down, allowed: true}, {outcome: down, allowed: true},
			{outcome: down, allowed: true, state: open},
			{at: time.Second, report: 1, state: open}, // a success from before: still open
			{at: time.Second, report: 2, state: open},
			{at: time.Second, allowed: false, state: open},
		}},
		{"failures from before it opened do not count after it closed", []step{
			{outcome: down, hold: true, allowed: true},
			{outcome: down, hold: true, allowed: true},
			{outcome: down, hold: true, allowed: true},
			{outcome: down, allowed: true}, {outcome: down, allowed: true},
			{outcome: down, allowed: true, state: open},
			{at: cooldown, allowed: false, probe: true, state: halfOpen},
			{at: cooldown, probed: true, outcome: up, state: closed},
			{at: cooldown, report: 1, state: closed},
			{at: cooldown, report: 2, state: closed},
			{at: cooldown, report: 3, state: closed},
			{at: cooldown, outcome: up, allowed: true, state: closed},
		}},
	}
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b breaker
			held := map[int]uint64{}
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				switch {
				case s.report > 0:
					b.record(held[s.report], tc.steps[s.report-1].outcome, now, limit, cooldown)
				case s.probed:
					b.probed(s.outcome, now, cooldown)
				default:
					gen, _, probe, ok := b.allow(now)
					if ok != s.allowed || (probe != nil) != s.probe {
						t.Fatalf("step %d: allowed = %v, probe = %v, want %v, %v", i+1, ok, probe != nil, s.allowed, s.probe)
					}
					if ok && s.hold {
						held[i+1] = gen
					} else if ok {
						b.record(gen, s.outcome, now, limit, cooldown)
					}
				}
				if got, _ := b.snapshot(); s.state != "" && got.String() != s.state {
					t.Fatalf("step %d: state %v, want %v", i+1, got, s.state)
				}
			}
		})
	}
}

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		err  error
		want callOutcome
	}{
		{nil, outcomeUp},
		{newESIAError("invalid_grant", "ESIA-007011: code expired", 400), outcomeUp},
		{newESIAError("access_denied", "ESIA-007004: refused", 400), outcomeUp},
		{parseErrorBody(http.StatusNotFound, nil), outcomeUp},
		{newESIAError("server_error", "ESIA-007008: maintenance", 400), outcomeDown},
		{newESIAError("server_error", "ESIA-007007: internal", 400), outcomeDown},
		{parseErrorBody(http.StatusBadGateway, []byte("<html>")), outcomeDown},
		{&Error{Description: "no answer", Retryable: true, timeout: true}, outcomeDown},
		{fmt.Errorf("wrapped: %w", &Error{Description: "refused", Retryable: true, cause: errors.New("dial")}), outcomeDown},
		{context.Canceled, outcomeNone},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), outcomeNone},
	}
	for _, tc := range tests {
		if got := outcomeOf(tc.err); got != tc.want {
			t.Errorf("outcomeOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
