package sessions_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
)

// TestRedisDownIsUnavailable: every call on a Redis that refuses
// connections fails with sessions.ErrUnavailable (the cause kept), never
// ErrNotFound — a login must not read an outage as an expired state — and a
// missing key on a working Redis is ErrNotFound and not ErrUnavailable.
func TestRedisDownIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	down, err := sessions.OpenRedis("redis://"+addr+"/0?max_retries=-1", "test:down:")
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	calls := map[string]func() error{
		"Put":    func() error { return down.Put(ctx, "k", []byte("v"), time.Minute) },
		"Get":    func() error { _, err := down.Get(ctx, "k"); return err },
		"Take":   func() error { _, err := down.Take(ctx, "k"); return err },
		"Delete": func() error { return down.Delete(ctx, "k") },
		"Hit":    func() error { _, err := down.Hit(ctx, "k", time.Minute); return err },
		"Ping":   func() error { return down.Ping(ctx) },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, sessions.ErrUnavailable) || errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("%s on a closed port: %v, want sessions.ErrUnavailable", name, err)
		}
	}
	up := sessionstest.NewRedis(t)
	if _, err := up.Take(ctx, "missing"); !errors.Is(err, sessions.ErrNotFound) || errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("missing key: %v", err)
	}
}
