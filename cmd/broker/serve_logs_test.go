package main_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestServeWaitsForRedisAndLogsJSON runs `broker serve` with its Redis
// down (nothing listens on the Redis port): it says it waits for Redis,
// /readyz answers 503 and «broker ready» is not logged; once Redis comes
// up (a proxy to the tests' Redis starts on that port) it says Redis is
// available and only then «broker ready». Every line it wrote — go-redis's
// complaints about the refused connections included — is a JSON object.
func TestServeWaitsForRedisAndLogsJSON(t *testing.T) {
	db := pgtest.NewDatabase(t)
	_ = sessionstest.NewRedis(t) // fails under CI=true without the tests' Redis
	dir := t.TempDir()
	sys := newSystem(t, dir)
	_, trustCert, err := esiasim.SelfSignedGOST("ЕСИА (test)", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	trust := writeFile(t, dir, "esia-trust.pem", gost.MarshalCertificatePEM(trustCert))
	redisAddr := freeAddr(t) // nothing listens there yet
	brokerAddr := freeAddr(t)
	issuer := "http://" + brokerAddr
	srv := startBroker(t, []string{"BROKER_DATABASE_URL=" + db, "BROKER_KEK=" + testKEK,
		"BROKER_ADDR=" + brokerAddr, "BROKER_METRICS_ADDR=" + freeAddr(t), "BROKER_ISSUER=" + issuer, "BROKER_LOG_FORMAT=json", "BROKER_LOG_LEVEL=info",
		"BROKER_REDIS_URL=redis://" + redisAddr + "/0", "BROKER_REDIS_PREFIX=serve-logs-test:",
		"BROKER_ESIA_BASE_URL=http://127.0.0.1:9", "BROKER_ESIA_CLIENT_ID=DIARYTEST", "BROKER_ESIA_SIGNER=gost:" + sys.keyFile,
		"BROKER_ESIA_CERTIFICATE=" + sys.certFile, "BROKER_ESIA_TRUST=" + trust, "BROKER_ESIA_ISSUER=http://esia.test/",
	}, "serve")

	srv.waitFor(regexp.MustCompile(`"msg":"waiting for redis"`))
	resp, err := http.Get(issuer + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with Redis down: %d", resp.StatusCode)
	}
	if strings.Contains(srv.out.String(), "broker ready") {
		t.Fatalf("«broker ready» logged while Redis is down:\n%s", srv.out)
	}

	// Redis comes up.
	u, err := url.Parse(sessionstest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	startProxy(t, redisAddr, u.Host)
	srv.waitFor(regexp.MustCompile(`"msg":"broker ready"`))
	out := srv.out.String()
	if up, ready := strings.Index(out, `"msg":"redis is available"`), strings.Index(out, `"msg":"broker ready"`); up < 0 || up > ready {
		t.Fatalf("«redis is available» not logged before «broker ready»:\n%s", out)
	}
	if n := strings.Count(out, `"msg":"broker ready"`); n != 1 {
		t.Fatalf("«broker ready» logged %d times", n)
	}
	resp, err = http.Get(issuer + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz with Redis up: %d", resp.StatusCode)
	}

	var fromRedis int
	for i, line := range strings.Split(strings.TrimSpace(srv.out.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("line %d is not JSON: %q", i+1, line)
		}
		if l["component"] == "redis" {
			fromRedis++
		}
	}
	if fromRedis == 0 {
		t.Errorf("no line of go-redis (component=redis) about the refused connections:\n%s", srv.out)
	}
}

// startProxy listens on addr and forwards every connection to target
// until the test ends.
func startProxy(t *testing.T, addr, target string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the Redis port was taken meanwhile: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(out, in); out.Close() })
			wg.Go(func() { _, _ = io.Copy(in, out); in.Close() })
		}
	})
}
