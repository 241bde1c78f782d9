package memory

import (
	"slices"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// DefaultMaxRows is how many rows of each bounded table — OAuth records,
// OAuth grants, finished login attempts, audit entries — the memory store
// keeps by default (Limits).
const DefaultMaxRows = 5000

// Limits bound the tables of the memory store that grow with every login,
// so that a `broker dev` under load (a load test's 100,000 logins and
// more) stays small instead of keeping a login's code for its lifespan,
// its grant for 30 days and its attempt for a year, as a production store
// would. A table is brought back to its limit when it has grown past it by
// a sixteenth (amortised: one pass for many writes), after the write or
// transaction that grew it:
//
//   - OAuth records (codes, tokens, PKCE and OpenID sessions): the
//     expired first, all of them (the janitor's work, done early); then
//     the inactive ones — used codes, rotated or revoked tokens — oldest
//     first. Live records are dropped only past LiveRecordsFactor times
//     the limit (codes made and not yet exchanged, each with its PKCE and
//     OpenID sessions; a grant's tokens go with their grant), oldest
//     first, each with every record of its request and its grant, as if
//     they had expired.
//   - OAuth grants: the expired first, then the oldest, each with every
//     record of its request (a token whose grant is forgotten is invalid,
//     as if expired).
//   - Login attempts: the finished ones (not in progress) oldest first,
//     with their events, the records they named and their kept values;
//     attempts in progress are never dropped (the retention janitor
//     abandons them after the login timeout).
//   - Audit entries: the oldest first.
//
// Nothing is dropped while its table is within its limit. Consents, their
// evidence, links, roster records and the outbox are not bounded here:
// logins do not grow them, and the retention janitor purges delivered
// webhook events.
type Limits struct {
	OAuthRecords int
	OAuthGrants  int
	Attempts     int
	Audit        int
}

// LiveRecordsFactor is how many times its limit the OAuth records table
// may grow with live records before the oldest are dropped: a benchmark
// that makes 5,000 codes before exchanging them keeps a live record for
// each (three where a code's PKCE and OpenID sessions have rows of their
// own; Limits).
const LiveRecordsFactor = 4

// DefaultLimits bound every table at DefaultMaxRows.
func DefaultLimits() Limits {
	return Limits{OAuthRecords: DefaultMaxRows, OAuthGrants: DefaultMaxRows, Attempts: DefaultMaxRows, Audit: DefaultMaxRows}
}

// Rows bounds every table at n rows; n < 0 leaves them unbounded, 0 is
// DefaultMaxRows.
func Rows(n int) Limits {
	return Limits{OAuthRecords: n, OAuthGrants: n, Attempts: n, Audit: n}
}

// withDefaults gives the fields left 0 DefaultMaxRows.
func (l Limits) withDefaults() Limits {
	for _, f := range []*int{&l.OAuthRecords, &l.OAuthGrants, &l.Attempts, &l.Audit} {
		if *f == 0 {
			*f = DefaultMaxRows
		}
	}
	return l
}

// over reports whether a table of n rows with limit max (< 0: none) is
// due to be brought back to max: past it by a sixteenth, at least one row.
func over(n, max int) bool {
	return max >= 0 && n > max+max/16
}

// bound brings the tables that grew past their limits back to them; it
// runs when a write or a transaction ends, so that nothing it drops needs
// undoing. The caller holds the write lock.
func (s *Store) bound() {
	if l := s.limits.OAuthRecords; l >= 0 {
		// Live records are dropped only far past the limit: the pass
		// counts from the table's size after the last one (or its low
		// since), so that many live ones do not make every write a pass.
		n := s.oauthRecordCount()
		s.recordsMark = max(l, min(s.recordsMark, n))
		if n > s.recordsMark+l/16 {
			s.boundOAuthRecords()
			s.recordsMark = max(l, s.oauthRecordCount())
		}
	}
	if over(len(s.oauthGrants), s.limits.OAuthGrants) {
		s.boundOAuthGrants()
	}
	if l := s.limits.Attempts; l >= 0 {
		// Attempts in progress are not dropped: the pass counts from the
		// table's size after the last one (or its low since), so that
		// many logins under way do not make every write a pass.
		n := len(s.attempts)
		s.attemptsMark = max(l, min(s.attemptsMark, n))
		if n > s.attemptsMark+l/16 {
			s.boundAttempts()
			s.attemptsMark = max(l, len(s.attempts))
		}
	}
	if over(len(s.audit), s.limits.Audit) {
		s.audit = slices.Clone(s.audit[len(s.audit)-s.limits.Audit:])
	}
}

func (s *Store) oauthRecordCount() int {
	n := 0
	for _, byKind := range s.oauth {
		n += len(byKind)
	}
	return n
}

// forgetRequest drops every record of a request and its grant.
func (s *Store) forgetRequest(requestID string) {
	for kind := range s.oauthByRequest {
		for _, sig := range s.requestRecords(kind, requestID) {
			s.removeRecord(kind, sig)
		}
	}
	delete(s.oauthGrants, requestID)
}

// boundOAuthRecords drops the expired records, then inactive ones oldest
// first down to the limit, then live requests oldest first down to
// LiveRecordsFactor times the limit.
func (s *Store) boundOAuthRecords() {
	now := s.now()
	type row struct {
		kind      store.OAuthKind
		sig, req  string
		createdAt time.Time
		inactive  bool
	}
	var rows []row
	for kind, byKind := range s.oauth {
		for sig, r := range byKind {
			if !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(now) {
				s.removeRecord(kind, sig)
				continue
			}
			rows = append(rows, row{kind, sig, r.RequestID, r.CreatedAt, !r.Active})
		}
	}
	// Inactive first, then by age; ties by signature, so that the order
	// is the same on every run.
	slices.SortFunc(rows, func(a, b row) int {
		if a.inactive != b.inactive {
			if a.inactive {
				return -1
			}
			return 1
		}
		if c := a.createdAt.Compare(b.createdAt); c != 0 {
			return c
		}
		return strings.Compare(a.sig, b.sig)
	})
	for _, r := range rows {
		n := s.oauthRecordCount()
		switch {
		case r.inactive && n > s.limits.OAuthRecords, r.req == "" && n > LiveRecordsFactor*s.limits.OAuthRecords:
			s.removeRecord(r.kind, r.sig)
		case !r.inactive && n > LiveRecordsFactor*s.limits.OAuthRecords:
			s.forgetRequest(r.req)
		case r.inactive:
			continue
		default:
			return
		}
	}
}

// boundOAuthGrants drops the expired grants, then the oldest with their
// records, down to the limit.
func (s *Store) boundOAuthGrants() {
	now := s.now()
	var live []store.OAuthGrant
	for id, g := range s.oauthGrants {
		if !g.ExpiresAt.IsZero() && g.ExpiresAt.Before(now) {
			delete(s.oauthGrants, id)
			continue
		}
		live = append(live, g)
	}
	slices.SortFunc(live, func(a, b store.OAuthGrant) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.RequestID, b.RequestID)
	})
	for _, g := range live[:max(0, len(live)-s.limits.OAuthGrants)] {
		s.forgetRequest(g.RequestID)
	}
}

// boundAttempts drops the oldest finished attempts down to the limit, with
// what they named and the values kept for them.
func (s *Store) boundAttempts() {
	finished := make([]*store.Attempt, 0, len(s.attempts))
	for _, a := range s.attempts {
		if a.Outcome != store.OutcomeInProgress {
			finished = append(finished, a)
		}
	}
	slices.SortFunc(finished, func(a, b *store.Attempt) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Ref, b.Ref)
	})
	for _, a := range finished[:max(0, len(finished)-s.limits.Attempts)] {
		delete(s.attempts, a.Ref)
		delete(s.attemptRecords, a.Ref)
		delete(s.values, a.Ref)
	}
}
