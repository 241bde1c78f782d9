package esia_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
)

// flakyESIA answers every call with the status (and body) set last; 0
// means "hang until the client gives up".
type flakyESIA struct {
	mu     sync.Mutex
	status int
	body   string
	hits   atomic.Int32
	probes atomic.Int32 // empty POSTs to the token endpoint: the breaker's probes
}

func (f *flakyESIA) set(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *flakyESIA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == esia.PathToken && r.ContentLength == 0 {
		f.probes.Add(1)
	} else {
		f.hits.Add(1)
	}
	f.mu.Lock()
	status, body := f.status, f.body
	f.mu.Unlock()
	if status == 0 {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// breakerWorld is a Config for a flaky ESIA with an injected clock and the
// Observe calls recorded.
func breakerWorld(t *testing.T) (*esia.Config, *flakyESIA, *clock, func() []string) {
	t.Helper()
	f := &flakyESIA{status: 200, body: `{"firstName":"Иван"}`}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	clk := &clock{t: today}
	var (
		mu  sync.Mutex
		obs []string
	)
	k := keys()
	cfg := &esia.Config{
		BaseURL: srv.URL, ClientID: clientID, CertificateHash: hash64, RedirectURL: redirect,
		Scopes: []string{"openid", "fullname"}, Signer: &recordingSigner{},
		Issuer: "http://esia-portal1.test.gosuslugi.ru/", Keys: esia.NewKeySet(cert(t, k.esia.Certificate())),
		Now: clk.Now, Timeout: time.Second, Logger: slog.New(slog.DiscardHandler),
		Observe: func(endpoint, code string, _ time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			obs = append(obs, endpoint+" "+code)
		},
	}
	return cfg, f, clk, func() []string {
		mu.Lock()
		defer mu.Unlock()
		defer func() { obs = nil }()
		return obs
	}
}

func TestBreakerOpensOnOutage(t *testing.T) {
	outages := []struct {
		name   string
		status int
		body   string
	}{
		{"5xx", 503, `<html>maintenance</html>`},
		{"ESIA-007008", 400, `{"error":"temporarily_unavailable","error_description":"ESIA-007008: overloaded"}`},
		{"time-out", 0, ""},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			cfg, f, clk, observed := breakerWorld(t)
			if o.status == 0 {
				cfg.Timeout = 150 * time.Millisecond
			}
			ctx := context.Background()
			f.set(o.status, o.body)
			if err := cfg.Available(); err != nil {
				t.Fatalf("Available before the outage: %v", err)
			}
			for i := range esia.DefaultBreakerFailures {
				if _, err := cfg.Person(ctx, fakeToken); !errors.Is(err, esia.ErrUnavailable) || errors.Is(err, esia.ErrCircuitOpen) {
					t.Fatalf("call %d: %v", i+1, err)
				}
			}
			observed()
			hits := f.hits.Load()

			// Open: fail fast, nothing sent, the Observe hook says why.
			_, err := cfg.Person(ctx, fakeToken)
			var e *esia.Error
			if !errors.Is(err, esia.ErrCircuitOpen) || !errors.Is(err, esia.ErrUnavailable) || !errors.As(err, &e) || !e.Retryable ||
				!strings.Contains(e.Description, "circuit breaker open after 5 calls") {
				t.Fatalf("open breaker: %v", err)
			}
			if esia.UserMessage(err) != esia.UserMessage(esia.ErrUnavailable) {
				t.Errorf("user message %q", esia.UserMessage(err))
			}
			if _, err := cfg.Refresh(ctx, "RT"); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("refresh while open: %v", err)
			}
			if _, err := cfg.Exchange(ctx, "CODE"); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("exchange while open: %v", err)
			}
			if f.hits.Load() != hits {
				t.Fatalf("%d calls reached ESIA while the breaker was open", f.hits.Load()-hits)
			}
			if got := observed(); !slices.Equal(got, []string{"person circuit_open", "refresh circuit_open", "token circuit_open"}) {
				t.Fatalf("observed %v", got)
			}
			if err := cfg.Available(); !errors.Is(err, esia.ErrCircuitOpen) || !errors.Is(err, esia.ErrUnavailable) {
				t.Fatalf("Available while open: %v", err)
			}
			// AuthURL makes no HTTP call and is never refused.
			if _, err := cfg.AuthURL(ctx, state, nil); err != nil {
				t.Fatalf("AuthURL while open: %v", err)
			}

			// After the cool-down the first call starts the breaker's own
			// probe and is still refused; ESIA is still down: open again.
			clk.Advance(esia.DefaultBreakerCooldown - time.Millisecond)
			if _, err := cfg.Person(ctx, fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("before the cool-down ends: %v", err)
			}
			clk.Advance(time.Millisecond)
			if err := cfg.Available(); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("Available when the probe starts: %v", err)
			}
			esia.WaitProbe(cfg)
			if _, err := cfg.Person(ctx, fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("after a failed probe: %v", err)
			}
			// ESIA is back: the next probe, a cool-down after the failed
			// one, closes the breaker; no person's call was a probe.
			f.set(200, `{"firstName":"Иван"}`)
			clk.Advance(esia.DefaultBreakerCooldown)
			if err := cfg.Available(); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("Available when the probe starts: %v", err)
			}
			esia.WaitProbe(cfg)
			if f.hits.Load() != hits || f.probes.Load() != 2 {
				t.Fatalf("%d calls and %d probes reached ESIA while the breaker was open", f.hits.Load()-hits, f.probes.Load())
			}
			if err := cfg.Available(); err != nil {
				t.Fatalf("Available after the probe: %v", err)
			}
			if _, err := cfg.Person(ctx, fakeToken); err != nil {
				t.Fatalf("after the probe: %v", err)
			}
			if got := observed(); !slices.Contains(got, "probe 5xx") && !slices.Contains(got, "probe ESIA-007008") && !slices.Contains(got, "probe timeout") {
				t.Errorf("the failed probe was not observed: %v", got)
			}
		})
	}
}

// TestBreakerRecovery: with the default settings and a login every quarter
// of a second, ESIA's recovery — after an outage of any length — lets the
// logins through within 5 s (the cool-down counts from the last failed
// probe, and the breaker probes on its own, so no person waits for the
// probe), while during the outage only the probes reach ESIA, one per
// cool-down at most.
func TestBreakerRecovery(t *testing.T) {
	const step = 250 * time.Millisecond
	outages := []struct {
		name   string
		status int
		body   string
	}{
		{"5xx", 502, `<html>bad gateway</html>`},
		{"ESIA-007008", 400, `{"error":"temporarily_unavailable","error_description":"ESIA-007008: overloaded"}`},
		{"time-out", 0, ""},
	}
	for _, o := range outages {
		for _, downFor := range []time.Duration{time.Second, 4 * time.Second, 20 * time.Second, 61*time.Second + 300*time.Millisecond} {
			if o.status == 0 && downFor > time.Minute {
				continue // each probe waits the time-out in real time
			}
			t.Run(fmt.Sprintf("%s/%v", o.name, downFor), func(t *testing.T) {
				cfg, f, clk, _ := breakerWorld(t)
				// breakerWorld's second is long enough for an answer on a
				// loaded machine (a probe that missed it would stretch the
				// recovery by a cool-down); the calls ESIA leaves hanging
				// need a shorter one.
				if o.status == 0 {
					cfg.Timeout = 150 * time.Millisecond
				}
				ctx := context.Background()
				f.set(o.status, o.body)
				for range esia.DefaultBreakerFailures {
					_, _ = cfg.Person(ctx, fakeToken)
				}
				if err := cfg.Available(); !errors.Is(err, esia.ErrCircuitOpen) {
					t.Fatalf("the breaker did not open: %v", err)
				}
				hits := f.hits.Load()
				var elapsed time.Duration
				for ; elapsed < downFor; elapsed += step {
					clk.Advance(step)
					if _, err := cfg.Person(ctx, fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
						t.Fatalf("at %v of the outage: %v", elapsed, err)
					}
					esia.WaitProbe(cfg)
				}
				if f.hits.Load() != hits {
					t.Fatalf("%d calls of persons reached ESIA during the outage", f.hits.Load()-hits)
				}
				if max := int32(downFor/esia.DefaultBreakerCooldown) + 1; f.probes.Load() > max {
					t.Fatalf("%d probes in %v, more than one per cool-down", f.probes.Load(), downFor)
				}
				f.set(200, `{"firstName":"Иван"}`)
				var back time.Duration
				for {
					clk.Advance(step)
					back += step
					if _, err := cfg.Person(ctx, fakeToken); err == nil {
						break
					} else if !errors.Is(err, esia.ErrCircuitOpen) {
						t.Fatalf("%v after ESIA came back: %v", back, err)
					}
					esia.WaitProbe(cfg)
					if back > time.Minute {
						t.Fatal("the breaker never closed")
					}
				}
				if back > 5*time.Second {
					t.Fatalf("logins went through %v after ESIA answered again, want at most 5 s", back)
				}
			})
		}
	}
}

// TestBreakerLogsTransitions: one log line per change of state — WARN when
// it opens (with the endpoint and the cause), INFO when it probes and when
// it closes — and none for the calls it refuses.
func TestBreakerLogsTransitions(t *testing.T) {
	cfg, f, clk, _ := breakerWorld(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	cfg.Logger = slog.New(slog.NewJSONHandler(lockedBuffer{&mu, &buf}, nil))
	ctx := context.Background()
	f.set(503, `<html>down</html>`)
	for range esia.DefaultBreakerFailures + 10 {
		_, _ = cfg.Person(ctx, fakeToken)
	}
	clk.Advance(esia.DefaultBreakerCooldown)
	for range 10 {
		_, _ = cfg.Person(ctx, fakeToken)
	}
	esia.WaitProbe(cfg)
	f.set(200, `{"firstName":"Иван"}`)
	clk.Advance(esia.DefaultBreakerCooldown)
	_ = cfg.Available()
	esia.WaitProbe(cfg)
	for range 10 {
		if _, err := cfg.Person(ctx, fakeToken); err != nil {
			t.Fatal(err)
		}
	}

	mu.Lock()
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	mu.Unlock()
	want := []struct{ level, msg, endpoint, cause string }{
		{"WARN", "open", "person", "unexpected HTTP status 503 (HTTP 503)"},
		{"INFO", "half-open", "probe", ""},
		{"WARN", "open", "probe", "(HTTP 503)"},
		{"INFO", "half-open", "probe", ""},
		{"INFO", "closed", "probe", "ESIA answered"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(lines), len(want), bytes.Join(lines, []byte("\n")))
	}
	host := strings.TrimPrefix(cfg.BaseURL, "http://")
	for i, w := range want {
		var l map[string]any
		if err := json.Unmarshal(lines[i], &l); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		msg, _ := l["msg"].(string)
		cause, _ := l["cause"].(string)
		if l["level"] != w.level || !strings.Contains(msg, "circuit breaker "+w.msg+":") || l["endpoint"] != w.endpoint ||
			l["esia_host"] != host || !strings.Contains(cause, w.cause) {
			t.Errorf("line %d: %s, want %+v", i+1, lines[i], w)
		}
	}
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func TestBreakerIgnoresUserErrors(t *testing.T) {
	cfg, f, _, _ := breakerWorld(t)
	f.set(400, `{"error":"invalid_grant","error_description":"ESIA-007011: expired"}`)
	for i := range 3 * esia.DefaultBreakerFailures {
		if _, err := cfg.Refresh(context.Background(), "RT"); !errors.Is(err, esia.ErrCodeInvalid) {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	f.set(404, `not found`)
	for range 3 * esia.DefaultBreakerFailures {
		if _, err := cfg.Person(context.Background(), fakeToken); err == nil || errors.Is(err, esia.ErrCircuitOpen) {
			t.Fatalf("404: %v", err)
		}
	}
}

func TestBreakerIgnoresCancelledCalls(t *testing.T) {
	cfg, f, _, _ := breakerWorld(t)
	cfg.Timeout = time.Minute
	f.set(0, "") // hang
	for range 2 * esia.DefaultBreakerFailures {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(5*time.Millisecond, cancel) // the person closes the tab
		if _, err := cfg.Person(ctx, fakeToken); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	}
	f.set(200, `{"firstName":"Иван"}`)
	if _, err := cfg.Person(context.Background(), fakeToken); err != nil {
		t.Fatalf("breaker opened on cancelled calls: %v", err)
	}
}

func TestBreakerSettings(t *testing.T) {
	t.Run("threshold and cool-down", func(t *testing.T) {
		cfg, f, clk, _ := breakerWorld(t)
		cfg.BreakerFailures, cfg.BreakerCooldown = 2, time.Minute
		f.set(502, "")
		for range 2 {
			_, _ = cfg.Person(context.Background(), fakeToken)
		}
		if _, err := cfg.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
			t.Fatalf("after 2 failures: %v", err)
		}
		clk.Advance(59 * time.Second)
		if _, err := cfg.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
			t.Fatalf("after 59 s: %v", err)
		}
		clk.Advance(time.Second)
		if f.probes.Load() != 0 {
			t.Fatal("probed before the cool-down ended")
		}
		if _, err := cfg.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
			t.Fatalf("the call that starts the probe after 60 s: %v", err)
		}
		esia.WaitProbe(cfg)
		if f.probes.Load() != 1 {
			t.Fatalf("%d probes after 60 s", f.probes.Load())
		}
		// The failed probe reopened it for another minute.
		clk.Advance(59 * time.Second)
		if _, err := cfg.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
			t.Fatalf("after a failed probe: %v", err)
		}
		esia.WaitProbe(cfg)
		if f.probes.Load() != 1 {
			t.Fatalf("%d probes within a minute of the failed one", f.probes.Load())
		}
	})
	t.Run("off", func(t *testing.T) {
		cfg, f, _, _ := breakerWorld(t)
		cfg.BreakerFailures = -1
		f.set(503, "")
		for i := range 3 * esia.DefaultBreakerFailures {
			if _, err := cfg.Person(context.Background(), fakeToken); errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("call %d refused with the breaker off", i+1)
			}
		}
	})
	t.Run("negative cool-down", func(t *testing.T) {
		cfg, _, _, _ := breakerWorld(t)
		cfg.BreakerCooldown = -time.Second
		if _, err := cfg.AuthURL(context.Background(), state, nil); err == nil || !strings.Contains(err.Error(), "BreakerCooldown") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestBreakerConcurrent: a storm of calls while ESIA fails leaves the
// breaker open (run with -race).
func TestBreakerConcurrent(t *testing.T) {
	cfg, f, _, _ := breakerWorld(t)
	f.set(503, "")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _, _ = cfg.Person(context.Background(), fakeToken) })
	}
	wg.Wait()
	if _, err := cfg.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
		t.Fatalf("after the storm: %v", err)
	}
	if n := f.hits.Load(); n > 2*50 {
		t.Fatalf("%d hits", n)
	}
}

// TestBreakerCopies: a Config copied before its first call (the parent's
// Config with the kid scopes) has a breaker of its own; one copied later
// shares the original's.
func TestBreakerCopies(t *testing.T) {
	cfg, f, _, _ := breakerWorld(t)
	cfg.BreakerFailures = 1
	early := *cfg
	f.set(503, "")
	_, _ = cfg.Person(context.Background(), fakeToken)
	late := *cfg
	f.set(200, `{"firstName":"Иван"}`)
	if _, err := early.Person(context.Background(), fakeToken); err != nil {
		t.Fatalf("copy made before the first call: %v", err)
	}
	if _, err := late.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
		t.Fatalf("copy made after the breaker opened: %v", err)
	}
}
