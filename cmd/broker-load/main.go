// Command broker-load drives a running broker the way diaries do and
// reports throughput and latency: full logins, code exchanges or refresh
// rotations from N concurrent clients. It is the load tool behind
// docs/performance.md; run it beside `broker dev` (memory, or PostgreSQL +
// Redis with --database-url/--redis-url).
//
//	broker-load -target http://127.0.0.1:8080 -mode refresh -c 100 -d 20s
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

type config struct {
	target, mode, clientID, secret, redirect, person, role, persons, scope string
	// loginScope is the scope of the authorization requests, space-separated.
	loginScope  string
	concurrency int
	duration    time.Duration
	codes       int
	// total, when set, ends a timed run after that many operations instead
	// of after the duration; checkpoint, when set, prints "checkpoint N"
	// on stderr each time N more operations are done (scripts/bench-broker.sh
	// measures the tables there).
	total, checkpoint int64
}

func main() {
	var c config
	flag.StringVar(&c.target, "target", "http://127.0.0.1:8080", "broker base URL (its issuer)")
	flag.StringVar(&c.mode, "mode", "refresh", "login (whole login + exchange), exchange (codes made beforehand), refresh, client-credentials (an API client's tokens); for scripts/chaos.sh: mixed, first-logins, refresh-race")
	flag.IntVar(&c.concurrency, "c", 100, "concurrent clients")
	flag.DurationVar(&c.duration, "d", 20*time.Second, "how long to run (login, refresh)")
	flag.IntVar(&c.codes, "n", 5000, "exchange: how many codes to make and exchange; refresh-race: how many races")
	flag.Int64Var(&c.total, "total", 0, "login, refresh, client-credentials: stop after this many operations instead of after -d")
	flag.Int64Var(&c.checkpoint, "checkpoint", 0, "login, refresh, client-credentials: print \"checkpoint N\" on stderr after every N operations")
	flag.StringVar(&c.clientID, "client", "", "client id (default demo-diary; demo-api for client-credentials)")
	flag.StringVar(&c.secret, "secret", "", "client secret (default demo-secret; demo-api-secret for client-credentials)")
	flag.StringVar(&c.scope, "scope", "support", "client-credentials: the scope asked for")
	flag.StringVar(&c.loginScope, "login-scope", "openid profile", "login, exchange, refresh: the scope of the authorization requests (Hydra issues refresh tokens only with offline_access)")
	flag.StringVar(&c.redirect, "redirect", "http://127.0.0.1:8089/callback", "registered redirect URI (never contacted)")
	flag.StringVar(&c.person, "person", "1000100001", "ESIA fixture person (oid) to log in as")
	flag.StringVar(&c.persons, "persons", "", "login: the fixture persons the workers log in as, one each in turn (instead of -person); mixed, first-logins, refresh-race: the fixture persons (oids, ranges a-b, comma-separated)")
	flag.StringVar(&c.role, "role", "", "the role to choose when the login offers several (default: the first offered)")
	cpuprofile := flag.String("cpuprofile", "", "write the load generator's own CPU profile to this file (what it costs the machine)")
	flag.Parse()
	c.defaults()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "broker-load: cpuprofile:", err)
			os.Exit(2)
		}
	}
	err := run(c)
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker-load:", err)
		os.Exit(1)
	}
}

// newLoader makes the diary's client of the broker at c.target.
func newLoader(c config) *loader {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4*c.concurrency, 4*c.concurrency
	base := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, base)
	cfg := &oauth2.Config{ClientID: c.clientID, ClientSecret: c.secret, RedirectURL: c.redirect, Scopes: loginScopes(c.loginScope),
		Endpoint: oauth2.Endpoint{AuthURL: c.target + "/oauth2/auth", TokenURL: c.target + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	return &loader{c: c, cfg: cfg, tr: tr, ctx: ctx}
}

// loginScopes splits -login-scope; empty is the diary's "openid profile".
func loginScopes(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return []string{"openid", "profile"}
}

func run(c config) error {
	l := newLoader(c)
	cfg, ctx := l.cfg, l.ctx
	switch c.mode {
	case "login":
		// scripts/bench-broker.sh (CPU_SPLIT=1) starts counting CPU at this line.
		// With -persons, worker w logs in as the w-th of them (round
		// robin): people logging in side by side, rather than one person
		// many times at once, whose logins queue on their roster row.
		persons := []string{l.c.person}
		if l.c.persons != "" {
			var err error
			if persons, err = parsePersons(l.c.persons); err != nil {
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "timed run starts\n")
		return l.timedWith(func(w int) func() error {
			person := persons[w%len(persons)]
			return func() error {
				code, verifier, err := l.code(person)
				if err != nil {
					return err
				}
				_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
				return err
			}
		})
	case "exchange":
		return l.exchange()
	case "refresh":
		return l.refresh()
	case "client-credentials":
		return l.clientCredentials()
	case "mixed", "first-logins", "refresh-race":
		return l.chaos()
	}
	return fmt.Errorf("unknown mode %q", c.mode)
}

type loader struct {
	c   config
	cfg *oauth2.Config
	tr  *http.Transport
	ctx context.Context
	// trace, when set, is told the action of every form a login submits.
	trace func(action string)
}

// code runs the browser part of one login as the fixture person (an ESIA
// oid) and returns the code and the PKCE verifier. In dev mode sim_person
// skips the simulator's page; under serve the page's form is submitted, as
// a person would, and so is every page of the broker's the login shows
// (consent, the role picker, a notice).
func (l *loader) code(person string) (string, string, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: l.tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), l.c.redirect) {
				return http.ErrUseLastResponse
			}
			return nil
		}}
	verifier := oauth2.GenerateVerifier()
	u := l.cfg.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("sim_person", person))
	resp, err := client.Get(u)
	if err != nil {
		return "", "", err
	}
	code, err := l.walk(client, resp, person)
	return code, verifier, err
}

// timed runs op from c workers for the duration and reports.
func (l *loader) timed(op func() error) error {
	return l.timedWith(func(int) func() error { return op })
}

// timedWith gives each worker its own op (and state).
func (l *loader) timedWith(mk func(worker int) func() error) error {
	rec := newRecorder()
	deadline := time.Now().Add(l.c.duration)
	if l.c.total > 0 {
		deadline = time.Now().AddDate(1, 0, 0)
	}
	var claimed, finished atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < l.c.concurrency; w++ {
		op := mk(w)
		if op == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if l.c.total > 0 && claimed.Add(1) > l.c.total {
					return
				}
				t := time.Now()
				err := op()
				rec.add(time.Since(t), err)
				if n := finished.Add(1); l.c.checkpoint > 0 && n%l.c.checkpoint == 0 {
					fmt.Fprintf(os.Stderr, "checkpoint %d\n", n)
				}
			}
		}()
	}
	wg.Wait()
	rec.report(l.c, time.Since(start))
	return nil
}

func (l *loader) exchange() error {
	type pending struct{ code, verifier string }
	codes := make(chan pending, l.c.codes)
	fmt.Fprintf(os.Stderr, "making %d codes…\n", l.c.codes)
	var made atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	for w := 0; w < min(l.c.concurrency, 32); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for made.Add(1) <= int64(l.c.codes) {
				code, v, err := l.code(l.c.person)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
				codes <- pending{code, v}
			}
		}()
	}
	wg.Wait()
	close(codes)
	select {
	case err := <-errc:
		return err
	default:
	}
	// scripts/bench-broker.sh (CPU_SPLIT=1) starts counting CPU at this line.
	fmt.Fprintf(os.Stderr, "timed run starts\n")
	rec := newRecorder()
	start := time.Now()
	te := newTokenEndpoint(l)
	for w := 0; w < l.c.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			var out tokenAnswer
			for p := range codes {
				t := time.Now()
				err := te.exchange(p.code, p.verifier, l.c.redirect, &buf, &out)
				rec.add(time.Since(t), err)
			}
		}()
	}
	wg.Wait()
	rec.report(l.c, time.Since(start))
	return nil
}

func (l *loader) refresh() error {
	grants := make([]*oauth2.Token, l.c.concurrency)
	fmt.Fprintf(os.Stderr, "making %d grants…\n", l.c.concurrency)
	for i := range grants {
		code, v, err := l.code(l.c.person)
		if err != nil {
			return err
		}
		if grants[i], err = l.cfg.Exchange(l.ctx, code, oauth2.VerifierOption(v)); err != nil {
			return err
		}
	}
	te := newTokenEndpoint(l)
	fmt.Fprintf(os.Stderr, "timed run starts\n")
	return l.timedWith(func(w int) func() error {
		rt := grants[w].RefreshToken
		var buf bytes.Buffer
		var out tokenAnswer
		return func() error {
			if err := te.refresh(rt, &buf, &out); err != nil {
				return err
			}
			rt = out.RefreshToken
			return nil
		}
	})
}

type recorder struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs map[string]int
}

func newRecorder() *recorder { return &recorder{errs: map[string]int{}} }

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		msg := err.Error()
		if len(msg) > 80 {
			msg = msg[:80]
		}
		r.errs[msg]++
		return
	}
	r.lat = append(r.lat, d)
}

func (r *recorder) report(c config, elapsed time.Duration) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
	}
	nerr := 0
	for _, n := range r.errs {
		nerr += n
	}
	fmt.Printf("mode=%s c=%d ok=%d errors=%d elapsed=%.1fs rate=%.0f/s p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms\n",
		c.mode, c.concurrency, len(r.lat), nerr, elapsed.Seconds(), float64(len(r.lat))/elapsed.Seconds(),
		ms(pct(.5)), ms(pct(.9)), ms(pct(.99)), ms(pct(1)))
	for msg, n := range r.errs {
		fmt.Printf("  error x%d: %s\n", n, msg)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
