package sessions_test

import (
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
)

func TestRedisConformance(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessionstest.Harness {
		r := sessionstest.NewRedis(t)
		return sessionstest.Harness{
			Store: r,
			TTL:   100 * time.Millisecond,
			Elapse: func(_ time.Duration, done func() bool) bool {
				// Poll until Redis expires the key, with a deadline.
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) {
					if done() {
						return true
					}
					time.Sleep(10 * time.Millisecond)
				}
				return false
			},
		}
	})
}
