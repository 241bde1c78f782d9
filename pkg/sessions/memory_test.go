package sessions_test

import (
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestMemoryConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessionstest.Harness {
		clock := &fakeClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
		return sessionstest.Harness{
			Store: sessions.NewMemory(clock.Now),
			TTL:   15 * time.Minute,
			Elapse: func(d time.Duration, done func() bool) bool {
				clock.Advance(d)
				return done()
			},
		}
	})
}
