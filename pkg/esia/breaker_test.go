package esia_test

import (
	"context"
	"errors"
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
}

func (f *flakyESIA) set(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *flakyESIA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
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
		Now: clk.Now, Timeout: 50 * time.Millisecond,
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

			// After the cool-down one probe goes through; ESIA is back.
			clk.Advance(esia.DefaultBreakerCooldown - time.Second)
			if _, err := cfg.Person(ctx, fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
				t.Fatalf("before the cool-down ends: %v", err)
			}
			f.set(200, `{"firstName":"Иван"}`)
			clk.Advance(time.Second)
			// Available says yes without taking the probe: the next call is it.
			hits = f.hits.Load()
			if err := cfg.Available(); err != nil {
				t.Fatalf("Available after the cool-down: %v", err)
			}
			if f.hits.Load() != hits {
				t.Fatal("Available called ESIA")
			}
			if _, err := cfg.Person(ctx, fakeToken); err != nil {
				t.Fatalf("probe: %v", err)
			}
			if _, err := cfg.Person(ctx, fakeToken); err != nil {
				t.Fatalf("after the probe: %v", err)
			}
		})
	}
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
		if _, err := cfg.Person(context.Background(), fakeToken); errors.Is(err, esia.ErrCircuitOpen) || !errors.Is(err, esia.ErrUnavailable) {
			t.Fatalf("probe after 60 s: %v", err)
		}
		// The failed probe reopened it.
		if _, err := cfg.Person(context.Background(), fakeToken); !errors.Is(err, esia.ErrCircuitOpen) {
			t.Fatalf("after a failed probe: %v", err)
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
