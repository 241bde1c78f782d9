package server_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

// TestMetricsOnTheirOwnListener: serve publishes /metrics only on the
// metrics listener (BROKER_METRICS_ADDR, default 127.0.0.1:9090), never on
// the public port; dev keeps it on the public one unless told otherwise.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	t.Run("serve", func(t *testing.T) {
		b, _ := startServe(t)
		if got := b.comp.Settings.MetricsAddr; got != server.DefaultMetricsAddr {
			t.Fatalf("serve's metrics_addr = %q, want the default %s", got, server.DefaultMetricsAddr)
		}
		br := newBrowser(t)
		if o := br.get(b.URL + "/healthz"); o.Status != 200 {
			t.Fatalf("healthz %d", o.Status)
		}
		if o := br.get(b.URL + "/metrics"); o.Status != 404 || strings.Contains(o.Body, "broker_") {
			t.Fatalf("public /metrics: %d %.200s", o.Status, o.Body)
		}
		metrics := serveMetrics(t, b)
		if o := br.get(metrics + "/metrics"); o.Status != 200 ||
			!strings.Contains(o.Body, `broker_http_requests_total{code="200",method="GET",route="/healthz"} 1`) {
			t.Fatalf("metrics listener /metrics: %d %.300s", o.Status, o.Body)
		}
		// The metrics listener answers nothing else.
		for _, path := range []string{"/healthz", "/.well-known/openid-configuration", "/"} {
			if o := br.get(metrics + path); o.Status != 404 {
				t.Errorf("metrics listener %s: %d", path, o.Status)
			}
		}
	})
	t.Run("dev with metrics_addr", func(t *testing.T) {
		b := startBroker(t, true, func(s *server.Settings) { s.MetricsAddr = "127.0.0.1:0" })
		if o := newBrowser(t).get(b.URL + "/metrics"); o.Status != 404 {
			t.Fatalf("public /metrics: %d", o.Status)
		}
		if o := newBrowser(t).get(serveMetrics(t, b) + "/metrics"); o.Status != 200 || !strings.Contains(o.Body, "broker_") {
			t.Fatalf("metrics listener /metrics: %d", o.Status)
		}
	})
	t.Run("dev without", func(t *testing.T) {
		b := startBroker(t, true, nil)
		newBrowser(t).get(b.URL + "/healthz")
		if o := newBrowser(t).get(b.URL + "/metrics"); o.Status != 200 || !strings.Contains(o.Body, `route="/healthz"`) {
			t.Fatalf("dev /metrics: %d", o.Status)
		}
	})
}

// serveMetrics serves the broker's metrics listener on 127.0.0.1:0, as
// `broker serve` does on its metrics_addr, and returns its base URL.
func serveMetrics(t *testing.T, b *broker) string {
	t.Helper()
	srv, err := server.New(b.comp)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeMetrics(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("metrics listener: %v", err)
		}
	})
	return "http://" + l.Addr().String()
}

// TestMetricsAddrSetting: metrics_addr from the YAML file and
// BROKER_METRICS_ADDR, its defaults in serve and dev, and what is refused.
func TestMetricsAddrSetting(t *testing.T) {
	file := t.TempDir() + "/broker.yaml"
	if err := os.WriteFile(file, []byte("metrics_addr: 10.0.0.5:9100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serveReady := func(s *server.Settings) {
		s.DatabaseURL, s.RedisURL, s.KEK = "postgres://db/broker", "redis://redis:6379/0", "k"
		s.ESIA = server.ESIASettings{BaseURL: "https://esia.example", ClientID: "SYS", Signer: "gost:key.pem",
			Certificate: "sys.pem", Trust: "esia.pem", Issuer: "http://esia.example/"}
	}
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		dev     bool
		want    string // metrics_addr after Resolve
		wantErr string
	}{
		{"serve: default", "", nil, false, server.DefaultMetricsAddr, ""},
		{"dev: on the public listener", "", nil, true, "", ""},
		{"YAML", file, nil, false, "10.0.0.5:9100", ""},
		{"environment over YAML", file, map[string]string{"BROKER_METRICS_ADDR": "0.0.0.0:9191"}, false, "0.0.0.0:9191", ""},
		{"dev: environment", "", map[string]string{"BROKER_METRICS_ADDR": "127.0.0.1:9191"}, true, "127.0.0.1:9191", ""},
		{"not host:port", "", map[string]string{"BROKER_METRICS_ADDR": "9090"}, false, "", "metrics_addr"},
		{"the public address", "", map[string]string{"BROKER_METRICS_ADDR": "127.0.0.1:8080"}, false, "", "listener of its own"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := server.LoadSettings(tc.file, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			s.Dev = tc.dev
			if !tc.dev {
				serveReady(&s)
			}
			err = s.Resolve()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Resolve: %v, want an error about %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || s.MetricsAddr != tc.want {
				t.Fatalf("Resolve: %v, metrics_addr %q, want %q", err, s.MetricsAddr, tc.want)
			}
		})
	}
}
