package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// silentListener accepts connections and never writes a byte: a gateway
// whose TLS terminator hangs (for https) or whose backend never answers
// (for http). It reads what comes so that the client's writes succeed.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				go func() { <-done; c.Close() }()
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestESIAConnectTimeout: the connection and the TLS handshake of an ESIA
// call are bounded by esia.connect_timeout, well within the call's own
// time-out (esia.timeout), so that an ESIA that does not even shake hands
// fails a login in seconds; a connection that is up but slow to answer
// still has the whole call's time-out.
func TestESIAConnectTimeout(t *testing.T) {
	const connect = 200 * time.Millisecond
	addr := silentListener(t)
	c, err := esiaHTTPClient(ESIASettings{ConnectTimeout: connect})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		url     string
		timeout time.Duration // the call's own time-out (esia.Config.Timeout)
		// the call fails after at least min and well before max.
		min, max time.Duration
		want     string
	}{
		{"TLS handshake never answered: the connect time-out", "https://" + addr + "/aas/oauth2/v3/te", time.Minute, connect, 5 * time.Second, "TLS handshake timeout"},
		{"connected, no answer: the call's time-out, not the connect one", "http://" + addr + "/aas/oauth2/v3/te", 3 * connect, 3 * connect, 5 * time.Second, "context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The clock starts before the call's deadline is set: a deadline
			// fires no earlier than it says, so the call cannot seem to
			// end before its time-out (it did, by 10 ms, when the clock
			// started after the request was built).
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tc.url, strings.NewReader(""))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			d := time.Since(start)
			if err == nil {
				resp.Body.Close()
				t.Fatal("an answer from a silent server")
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want a time-out (%s)", err, tc.want)
			}
			if d < tc.min || d > tc.max {
				t.Fatalf("failed after %v, want between %v and %v", d, tc.min, tc.max)
			}
		})
	}
	if s := DefaultSettings().ESIA; s.ConnectTimeout <= 0 || s.ConnectTimeout >= s.Timeout {
		t.Errorf("default connect time-out %v, want shorter than the call's %v", s.ConnectTimeout, s.Timeout)
	}
}
