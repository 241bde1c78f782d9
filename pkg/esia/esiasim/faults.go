package esiasim

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Fault makes an endpoint misbehave, for tests of the client's error paths
// and for load tests.
type Fault struct {
	// Endpoint is one of the Endpoint* names; "" means every endpoint.
	Endpoint string
	// Status, when set, is answered instead of the real answer: with ESIA's
	// error JSON when Code is set, with Body when set, with a plain error
	// page otherwise.
	Status int
	// Code is an ESIA code, e.g. "ESIA-007008"; with Status 0 it is
	// answered with HTTP 400.
	Code string
	// Body is answered as is (with Status, default 200, and ContentType,
	// default text/html): a maintenance page where JSON is expected, a
	// truncated JSON document.
	Body        string
	ContentType string
	// Drop closes the connection without an answer, as a crashed gateway
	// does (the client sees EOF or a reset).
	Drop bool
	// Delay waits before answering (real time; for load and manual tests).
	Delay time.Duration
	// Hang blocks until the client gives up or Close is called.
	Hang bool
	// Rate is the fraction of matching requests affected, spread evenly
	// and deterministically (0.25: the 4th, 8th, 12th, …); 0 or 1 means
	// every one. Requests the fault skips go on to later faults.
	Rate float64
	// Times is how many requests the fault affects; 0 means until
	// ClearFaults.
	Times int
}

type faultState struct {
	Fault
	left int // remaining requests; <0 for unlimited
	seen int // matching requests so far, for Rate
}

// hits reports whether the fault affects the next matching request.
func (f *faultState) hits() bool {
	f.seen++
	if f.Rate <= 0 || f.Rate >= 1 {
		return true
	}
	// Affected whenever ⌊seen·rate⌋ grows: exactly rate of the requests,
	// evenly spread, without randomness.
	return int(float64(f.seen)*f.Rate) > int(float64(f.seen-1)*f.Rate)
}

// InjectFault adds a fault. Faults apply in the order added; the first one
// matching the endpoint (and, with Rate, selecting the request) is used and
// counted.
func (s *Simulator) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faults = append(s.faults, &faultState{Fault: f, left: left})
}

// Faults returns the active faults; Times is what each has left (0:
// unlimited).
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		c := f.Fault
		c.Times = max(f.left, 0)
		out = append(out, c)
	}
	return out
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

// SetTokenLifetime makes the tokens issued from now on live d instead of
// TokenLifetime (0 restores it), so that tests can see them expire.
func (s *Simulator) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenTTL = d
}

func (s *Simulator) tokenLifetime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokenTTL > 0 {
		return s.tokenTTL
	}
	return TokenLifetime
}

// Latency returns the delay of every answer.
func (s *Simulator) Latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
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
		if !f.hits() {
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
				// Read the body first: net/http notices a client that gave up
				// (and cancels r.Context()) only once the body has been read.
				_, _ = io.Copy(io.Discard, r.Body)
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
			case f.Drop:
				drop(w)
				return
			case f.Code != "":
				status := f.Status
				if status == 0 {
					status = http.StatusBadRequest
				}
				writeJSONError(w, status, newError(f.Code, "injected fault"), "")
				return
			case f.Body != "":
				ct, status := f.ContentType, f.Status
				if ct == "" {
					ct = "text/html; charset=utf-8"
				}
				if status == 0 {
					status = http.StatusOK
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(status)
				_, _ = w.Write([]byte(f.Body))
				return
			case f.Status != 0:
				http.Error(w, http.StatusText(f.Status), f.Status)
				return
			}
		}
		next(w, r)
	})
}

// drop closes the connection under w without an answer. Where it cannot be
// hijacked (HTTP/2) it aborts the handler, net/http's documented way to
// abort a response.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
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
