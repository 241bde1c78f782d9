package postgres

import "time"

// WithClock returns a store sharing s's pool that stamps rows with now
// (tests inject a fixed clock).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.clock = now
	return &c
}

// now stamps rows whose time the caller left zero. PostgreSQL keeps
// microseconds, so times are truncated to match what is read back.
func (s *Store) now() time.Time {
	if s.clock == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return s.clock().UTC().Truncate(time.Microsecond)
}
