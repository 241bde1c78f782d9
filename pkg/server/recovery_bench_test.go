package server_test

import (
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// BenchmarkESIARecovery measures, in real time against the simulator, how
// long logins keep failing after ESIA answers again: each iteration breaks
// the simulator's token endpoint, opens the circuit breaker with concurrent
// logins, keeps ESIA down for outage (so that it comes back in the middle
// of a cool-down), mends it and logs in every 100 ms until a login reaches
// the diary. It reports recovery_ms (ESIA mended → first login through) and
// refused_ms (how long a refused login took while the breaker was open),
// with the default settings (3 s cool-down, 10 s time-out, 3 s connect
// time-out).
func BenchmarkESIARecovery(b *testing.B) {
	const (
		outage = 4500 * time.Millisecond
		every  = 100 * time.Millisecond
	)
	faults := []struct {
		name  string
		fault esiasim.Fault
	}{
		{"5xx", esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503}},
		{"connection dropped", esiasim.Fault{Endpoint: esiasim.EndpointToken, Drop: true}},
		{"no answer", esiasim.Fault{Endpoint: esiasim.EndpointToken, Hang: true}},
	}
	for _, f := range faults {
		b.Run(f.name, func(b *testing.B) {
			br := startBroker(b, true, nil)
			sim := br.comp.Simulator
			var recovery, refused time.Duration
			var refusals int
			for b.Loop() {
				sim.InjectFault(f.fault)
				var wg sync.WaitGroup
				for range esia.DefaultBreakerFailures {
					wg.Go(func() { loginAs(b, br, newDiary(br), oidTeacher) })
				}
				wg.Wait()
				if br.comp.ESIA.Available() == nil {
					b.Fatal("the breaker did not open")
				}
				for end := time.Now().Add(outage); time.Now().Before(end); time.Sleep(every) {
					start := time.Now()
					if o := loginAs(b, br, newDiary(br), oidTeacher); o.Status != 503 {
						b.Fatalf("login during the outage: %d", o.Status)
					}
					refused += time.Since(start)
					refusals++
				}
				sim.ClearFaults()
				mended := time.Now()
				for {
					o := loginAs(b, br, newDiary(br), oidTeacher)
					if o.Redirect != nil && o.Redirect.Query().Get("code") != "" {
						break
					}
					if time.Since(mended) > time.Minute {
						b.Fatal("logins never came back")
					}
					time.Sleep(every)
				}
				recovery += time.Since(mended)
			}
			b.ReportMetric(float64(recovery.Milliseconds())/float64(b.N), "recovery_ms")
			b.ReportMetric(float64(refused.Microseconds())/1000/float64(refusals), "refused_ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
