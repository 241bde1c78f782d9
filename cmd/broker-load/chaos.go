package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// The modes of scripts/chaos.sh, each printing one JSON summary (summary)
// on standard output:
//
//   - mixed: each worker logs in the next of -persons (whole logins, first
//     ones included), exchanges the code and refreshes the grant twice,
//     until -d is over;
//   - first-logins: for each of -persons in turn, all -c workers log in as
//     that person at once (the same person's concurrent first logins);
//   - refresh-race: -n times, one grant is made and its refresh token sent
//     by all -c workers at once.

// summary is what a chaos run saw: operations attempted, succeeded and
// failed, what the failures were, and when the first and last failure
// ended (Unix milliseconds; 0 without failures).
type summary struct {
	Mode         string         `json:"mode"`
	Attempted    int            `json:"attempted"`
	OK           int            `json:"ok"`
	Failed       int            `json:"failed"`
	Errors       map[string]int `json:"errors"`
	FirstFailure int64          `json:"first_failure_ms"`
	LastFailure  int64          `json:"last_failure_ms"`
	// Winners, in refresh-race, lists how many senders got tokens in each
	// race.
	Winners []int `json:"winners,omitempty"`
}

type tally struct {
	mu sync.Mutex
	s  summary
	// host is the broker's, so that a failure to reach another host
	// (ESIA's login page) is named as such.
	host string
}

func (t *tally) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.Attempted++
	if err == nil {
		t.s.OK++
		return
	}
	now := time.Now().UnixMilli()
	t.s.Failed++
	t.s.Errors[classify(err, t.host)]++
	if t.s.FirstFailure == 0 {
		t.s.FirstFailure = now
	}
	t.s.LastFailure = now
}

// classify shortens an error to what a person or a diary saw, without URLs
// or tokens: the operation's failure class. A connection failure to another
// host than brokerHost is ESIA's.
func classify(err error, brokerHost string) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Sprintf("token %d %s", re.Response.StatusCode, re.ErrorCode)
	}
	var te *tokenError
	if errors.As(err, &te) {
		return te.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		where := ""
		if u, perr := url.Parse(ue.URL); perr == nil && brokerHost != "" && u.Host != brokerHost {
			where = "ESIA's "
		}
		if ue.Timeout() {
			return where + "timeout"
		}
		var se *os.SyscallError
		if errors.As(ue.Err, &se) {
			return where + "connection: " + se.Err.Error()
		}
		if strings.Contains(ue.Err.Error(), "EOF") {
			return where + "connection: EOF"
		}
		return where + "connection: " + ue.Err.Error()
	}
	msg := []rune(err.Error()) // cut whole letters: the pages are Russian
	if len(msg) > 80 {
		msg = msg[:80]
	}
	return string(msg)
}

// tokenError is a refresh the token endpoint refused.
type tokenError struct {
	status int
	code   string
}

func (e *tokenError) Error() string { return fmt.Sprintf("token %d %s", e.status, e.code) }

// parsePersons reads -persons: oids and ranges of oids, comma-separated
// ("2000000001-2000000030,1000100001").
func parsePersons(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			out = append(out, part)
			continue
		}
		a, err1 := strconv.ParseInt(lo, 10, 64)
		b, err2 := strconv.ParseInt(hi, 10, 64)
		if err1 != nil || err2 != nil || b < a || b-a > 100000 {
			return nil, fmt.Errorf("-persons: bad range %q", part)
		}
		for i := a; i <= b; i++ {
			out = append(out, strconv.FormatInt(i, 10))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-persons: no one to log in")
	}
	return out, nil
}

// chaos runs one of the chaos modes and prints its summary.
func (l *loader) chaos() error {
	persons, err := parsePersons(l.c.persons)
	if err != nil {
		return err
	}
	t := &tally{s: summary{Mode: l.c.mode, Errors: map[string]int{}}}
	if u, err := url.Parse(l.c.target); err == nil {
		t.host = u.Host
	}
	switch l.c.mode {
	case "mixed":
		l.mixed(persons, t)
	case "first-logins":
		l.firstLogins(persons, t)
	case "refresh-race":
		l.refreshRace(persons[0], t)
	}
	return json.NewEncoder(os.Stdout).Encode(t.s)
}

// login is one whole login as person and the code's exchange.
func (l *loader) login(person string) (*oauth2.Token, error) {
	code, verifier, err := l.code(person)
	if err != nil {
		return nil, err
	}
	return l.cfg.Exchange(l.ctx, code, oauth2.VerifierOption(verifier))
}

func (l *loader) mixed(persons []string, t *tally) {
	deadline := time.Now().Add(l.c.duration)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < l.c.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				person := persons[int(next.Add(1)-1)%len(persons)]
				tok, err := l.login(person)
				t.add(err)
				if err != nil {
					time.Sleep(50 * time.Millisecond) // a person retrying, not a tight loop
					continue
				}
				for i := 0; i < 2 && time.Now().Before(deadline); i++ {
					rt, err := l.refreshOnce(tok.RefreshToken)
					t.add(err)
					if err != nil {
						break
					}
					tok.RefreshToken = rt
				}
			}
		}()
	}
	wg.Wait()
}

func (l *loader) firstLogins(persons []string, t *tally) {
	for _, person := range persons {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := 0; w < l.c.concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := l.login(person)
				t.add(err)
			}()
		}
		close(start)
		wg.Wait()
	}
}

// refreshRace: every sender gets either the rotation's pair (with a reuse
// interval, all of them the same pair) or invalid_grant, and both are
// counted ok; a race whose winners got different refresh tokens is a
// failure, since only one of them can be the grant's.
func (l *loader) refreshRace(person string, t *tally) {
	for i := 0; i < l.c.codes; i++ {
		tok, err := l.login(person)
		if err != nil {
			t.add(fmt.Errorf("grant for the race: %w", err))
			continue
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{} // refresh token → winners who got it
		start := make(chan struct{})
		for w := 0; w < l.c.concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				rt, err := l.refreshOnce(tok.RefreshToken)
				var te *tokenError
				switch {
				case err == nil:
					mu.Lock()
					got[rt]++
					mu.Unlock()
					t.add(nil)
				case errors.As(err, &te) && te.status == http.StatusBadRequest && te.code == "invalid_grant":
					t.add(nil)
				default:
					t.add(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, n := range got {
			won += n
		}
		t.mu.Lock()
		t.s.Winners = append(t.s.Winners, won)
		if len(got) > 1 {
			t.s.Failed++
			t.s.Errors[fmt.Sprintf("race answered %d different refresh tokens", len(got))]++
		}
		t.mu.Unlock()
	}
}

// refreshOnce rotates a refresh token and returns the new one.
func (l *loader) refreshOnce(rt string) (string, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	req, err := http.NewRequest(http.MethodPost, l.c.target+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(l.c.clientID, l.c.secret)
	resp, err := (&http.Client{Transport: l.tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		RefreshToken string `json:"refresh_token"`
		Error        string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.RefreshToken == "" {
		return "", &tokenError{resp.StatusCode, out.Error}
	}
	return out.RefreshToken, nil
}
