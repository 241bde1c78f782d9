package esiasim

import (
	"context"
	"net/http"
	"time"
)

// Fault makes an endpoint misbehave, for tests of the client's error paths.
type Fault struct {
	// Endpoint is one of the Endpoint* names; "" means every endpoint.
	Endpoint string
	// Status, when set, is answered instead of the real answer: with ESIA's
	// error JSON when Code is set, with a plain error page otherwise.
	Status int
	// Code is an ESIA code, e.g. "ESIA-007008"; with Status 0 it is
	// answered with HTTP 400.
	Code string
	// Delay waits before answering (real time; for load and manual tests).
	Delay time.Duration
	// Hang blocks until the client gives up or Close is called.
	Hang bool
	// Times is how many requests the fault affects; 0 means until
	// ClearFaults.
	Times int
}

type faultState struct {
	Fault
	left int // remaining requests; <0 for unlimited
}

// InjectFault adds a fault. Faults apply in the order added; the first one
// matching the endpoint is used and counted.
func (s *Simulator) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults = append(s.faults, &faultState{Fault: f, left: left})
}

// ClearFaults removes every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// SetLatency delays every answer by d (0 for none), for load tests.
func (s *Simulator) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// takeFault returns the fault for endpoint, if any, and counts it.
func (s *Simulator) takeFault(endpoint string) (*Fault, time.Duration, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *Fault
	for i, f := range s.faults {
		if f.Endpoint != "" && f.Endpoint != endpoint {
			continue
		}
		fault := f.Fault
		found = &fault
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		break
	}
	return found, s.latency, s.released
}

// faulty wraps a handler with latency and fault injection.
func (s *Simulator) faulty(endpoint string, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, latency, released := s.takeFault(endpoint)
		if !wait(r.Context(), latency, released) {
			return
		}
		if f != nil {
			if f.Hang {
				select {
				case <-r.Context().Done():
				case <-released:
				}
				return
			}
			if !wait(r.Context(), f.Delay, released) {
				return
			}
			switch {
			case f.Code != "":
				status := f.Status
				if status == 0 {
					status = http.StatusBadRequest
				}
				writeJSONError(w, status, newError(f.Code, "injected fault"), "")
				return
			case f.Status != 0:
				http.Error(w, http.StatusText(f.Status), f.Status)
				return
			}
		}
		next(w, r)
	})
}

// wait sleeps d unless ctx ends or released is closed first; it reports
// whether the request should go on.
func wait(ctx context.Context, d time.Duration, released <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-released:
		return true
	case <-ctx.Done():
		return false
	}
}
