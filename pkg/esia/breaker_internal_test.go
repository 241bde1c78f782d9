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
// reports its outcome (or holds it to report in a later step).
func TestBreaker(t *testing.T) {
	const limit, cooldown = 3, 30 * time.Second
	type step struct {
		at      time.Duration
		outcome callOutcome
		hold    bool // keep the ticket, report it in a later step with report
		report  int  // 1-based index of a held step whose outcome is reported now (no new call)
		allowed bool
		state   string // "" leaves the state unchecked
	}
	up, down, none := outcomeUp, outcomeDown, outcomeNone
	const closed, open, halfOpen = "closed", "open", "half-open"
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
		{"after the cool-down one probe; its success closes", []step{
			{outcome: down, allowed: true}, {outcome: down, allowed: true},
			{outcome: down, allowed: true, state: open},
			{at: cooldown, outcome: up, hold: true, allowed: true, state: halfOpen},
			{at: cooldown, allowed: false, state: halfOpen}, // a second call while the probe runs
			{at: cooldown + time.Second, report: 4, state: closed},
			{at: cooldown + time.Second, outcome: up, allowed: true, state: closed},
		}},
		{"a failed probe reopens for another cool-down", []step{
			{outcome: down, allowed: true}, {outcome: down, allowed: true},
			{outcome: down, allowed: true, state: open},
			{at: cooldown + time.Second, outcome: down, allowed: true, state: open},
			{at: 2*cooldown + time.Second - time.Nanosecond, allowed: false, state: open},
			{at: 2*cooldown + time.Second, outcome: up, allowed: true, state: closed},
		}},
		{"a cancelled probe lets the next call probe", []step{
			{outcome: down, allowed: true}, {outcome: down, allowed: true},
			{outcome: down, allowed: true, state: open},
			{at: cooldown, outcome: none, allowed: true, state: halfOpen},
			{at: cooldown, outcome: down, allowed: true, state: open},
		}},
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
			{at: cooldown, outcome: up, allowed: true, state: closed},
			{at: cooldown, report: 1, state: closed},
			{at: cooldown, report: 2, state: closed},
			{at: cooldown, report: 3, state: closed},
			{at: cooldown, outcome: up, allowed: true, state: closed},
		}},
		{"a failure from before the probe does not reopen it", []step{
			{outcome: down, hold: true, allowed: true},
			{outcome: down, allowed: true}, {outcome: down, allowed: true},
			{outcome: down, allowed: true, state: open},
			{at: cooldown, outcome: up, allowed: true, state: closed},
			{at: cooldown, report: 1, state: closed},
		}},
	}
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b breaker
			held := map[int]ticket{}
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				if s.report > 0 {
					b.record(held[s.report], tc.steps[s.report-1].outcome, now, limit, cooldown)
				} else {
					tk, _, ok := b.allow(now)
					if ok != s.allowed {
						t.Fatalf("step %d: allowed = %v, want %v", i+1, ok, s.allowed)
					}
					if ok && s.hold {
						held[i+1] = tk
					} else if ok {
						b.record(tk, s.outcome, now, limit, cooldown)
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
