package main_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestMetricsAddr runs the broker as an operator would and looks for
// /metrics: on the listener --metrics-addr or BROKER_METRICS_ADDR names,
// never on the public port in serve; dev keeps it on the public port unless
// told otherwise.
func TestMetricsAddr(t *testing.T) {
	get := func(t *testing.T, u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// check asserts where /metrics answers: on metricsAddr ("" for the
	// public port only) and on addr or not.
	check := func(t *testing.T, addr, metricsAddr string, public bool) {
		t.Helper()
		get(t, "http://"+addr+"/healthz")
		if code, body := get(t, "http://"+addr+"/metrics"); (code == 200 && strings.Contains(body, "broker_http_requests_total")) != public {
			t.Fatalf("public port /metrics: %d, want served=%v", code, public)
		}
		if metricsAddr == "" {
			return
		}
		if code, body := get(t, "http://"+metricsAddr+"/metrics"); code != 200 || !strings.Contains(body, `route="/healthz"`) {
			t.Fatalf("metrics listener /metrics: %d %.300s", code, body)
		}
	}
	ready := regexp.MustCompile(`(dev mode|broker) ready`)

	t.Run("serve --metrics-addr", func(t *testing.T) {
		db := pgtest.NewDatabase(t)
		redis := sessionstest.NewRedis(t)
		sys := newSystem(t, t.TempDir())
		addr, metricsAddr := freeAddr(t), freeAddr(t)
		p := startBroker(t, []string{"BROKER_DATABASE_URL=" + db, "BROKER_KEK=" + testKEK, "BROKER_LOG_FORMAT=json",
			"BROKER_REDIS_URL=" + sessionstest.RedisURL(), "BROKER_REDIS_PREFIX=" + redis.Prefix(),
			"BROKER_ESIA_BASE_URL=http://127.0.0.1:1", "BROKER_ESIA_CLIENT_ID=DIARYTEST", "BROKER_ESIA_SIGNER=gost:" + sys.keyFile,
			"BROKER_ESIA_CERTIFICATE=" + sys.certFile, "BROKER_ESIA_TRUST=" + sys.certFile, "BROKER_ESIA_ISSUER=http://127.0.0.1:1/",
		}, "serve", "--addr", addr, "--metrics-addr", metricsAddr)
		p.waitFor(regexp.MustCompile(`"msg":"broker ready".*"metrics_addr":"` + regexp.QuoteMeta(metricsAddr) + `"`))
		check(t, addr, metricsAddr, false)
	})
	t.Run("dev BROKER_METRICS_ADDR", func(t *testing.T) {
		addr, metricsAddr := freeAddr(t), freeAddr(t)
		startBroker(t, []string{"BROKER_METRICS_ADDR=" + metricsAddr}, "dev", "--addr", addr).waitFor(ready)
		check(t, addr, metricsAddr, false)
	})
	t.Run("dev", func(t *testing.T) {
		addr := freeAddr(t)
		startBroker(t, []string{"BROKER_METRICS_ADDR="}, "dev", "--addr", addr).waitFor(ready)
		check(t, addr, "", true)
	})
	t.Run("--metrics-addr equal to --addr", func(t *testing.T) {
		addr := freeAddr(t)
		_, errOut, code := broker(t, nil, "", "dev", "--addr", addr, "--metrics-addr", addr)
		if code == 0 || !strings.Contains(errOut, "listener of its own") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}
