package login

import (
	"context"
	"errors"
	"fmt"

	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/store"
)

// StoreFailure returns the reason for a failure of one of the broker's own
// stores — session_store_unavailable (Redis), database_unavailable
// (PostgreSQL) — or "" when err is not one.
func StoreFailure(err error) string {
	switch {
	case errors.Is(err, sessions.ErrUnavailable):
		return ReasonSessionStoreUnavailable
	case errors.Is(err, store.ErrUnavailable):
		return ReasonDatabaseUnavailable
	}
	return ""
}

// StoreUnavailable reports whether reason is an outage of one of the
// broker's own stores: the person may retry later (pages answer 503).
func StoreUnavailable(reason string) bool {
	return reason == ReasonSessionStoreUnavailable || reason == ReasonDatabaseUnavailable
}

// Classify returns the reason and the page text for a failed login by where
// it failed: the session store, the database, else ESIA (Explain).
func Classify(err error) (string, Message) {
	if reason := StoreFailure(err); reason != "" {
		return reason, MessageFor(reason)
	}
	return Explain(err)
}

// sessionsFailed marks an error of the sessions store as
// sessions.ErrUnavailable whatever the store returned: it failed there.
func sessionsFailed(op string, err error) error {
	if errors.Is(err, sessions.ErrUnavailable) {
		return fmt.Errorf("login: %s: %w", op, err)
	}
	return fmt.Errorf("login: %s: %w: %w", op, sessions.ErrUnavailable, err)
}

// storeFailed ends a login that a store failed: the attempt is recorded
// under the reason (when the database is down this fails too, and the
// reference code is only in the ERROR line logged here), and the Result
// carries the reason. Any other error is returned as it is.
func (s *Service) storeFailed(ctx context.Context, res *Result, a store.Attempt, step string, err error) (*Result, error) {
	reason := StoreFailure(err)
	if reason == "" {
		return nil, err
	}
	a.Outcome, a.Reason = reason, reason
	s.record(ctx, a, step, map[string]any{"reason": reason, "error": err.Error()})
	s.cfg.Logger.ErrorContext(ctx, "login failed: store unavailable", "ref", a.Ref, "step", step, "reason", reason, "error", err)
	res.Reason, res.Message = reason, MessageFor(reason)
	return res, nil
}

// notKept is Begin's answer when the pending login could not be kept: a
// failure of the session store is recorded in the database under
// session_store_unavailable, so that the reference code returned in
// Started finds it; any other error is returned as it is.
func (s *Service) notKept(ctx context.Context, a store.Attempt, detail map[string]any, err error) (Started, error) {
	if !errors.Is(err, sessions.ErrUnavailable) {
		return Started{}, err
	}
	a.Outcome, a.Reason = ReasonSessionStoreUnavailable, ReasonSessionStoreUnavailable
	detail["reason"], detail["error"] = ReasonSessionStoreUnavailable, err.Error()
	s.record(ctx, a, "authorize", detail)
	return Started{Ref: a.Ref}, err
}

// pendingFailed is Callback's answer when the pending login could not be
// read. When the session store failed, the diary and the reference code
// are out of reach with it: the failure gets a new code, recorded.
func (s *Service) pendingFailed(ctx context.Context, err error) (*Result, error) {
	if !errors.Is(err, sessions.ErrUnavailable) {
		return nil, err
	}
	res := &Result{Pending: Pending{Ref: NewRef()}}
	return s.storeFailed(ctx, res, store.Attempt{Ref: res.Pending.Ref}, "callback", err)
}
