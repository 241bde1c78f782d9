package esia_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// BenchmarkLogin measures a parent's whole ESIA login against the simulator
// (authorization URL, code exchange with token verification, person, kids)
// and reports the HTTP calls made to ESIA per login, per embedding mode.
func BenchmarkLogin(b *testing.B) {
	for _, m := range embedModes {
		b.Run(m.name, func(b *testing.B) {
			w := newWorld(b, func(c *esiasim.Config) { c.Embed = m.mode })
			var calls atomic.Int64
			w.cfg.Observe = func(string, string, time.Duration) { calls.Add(1) }
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				state, _ := esia.NewState()
				u, err := w.cfg.AuthURL(ctx, state, url.Values{"sim_person": {"1000100006"}})
				if err != nil {
					b.Fatal(err)
				}
				resp, err := noRedirect.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				loc, _ := url.Parse(resp.Header.Get("Location"))
				tok, err := w.cfg.Exchange(ctx, loc.Query().Get("code"))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := w.cfg.Person(ctx, tok); err != nil {
					b.Fatal(err)
				}
				if _, err := w.cfg.Kids(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(calls.Load())/float64(b.N), "esia-calls/op")
		})
	}
}
