package sessions

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/testenv"
)

// TestRedisURLKinds: the URL alone chooses one server, Sentinel or Cluster,
// and a bad URL is an error that does not repeat its password.
func TestRedisURLKinds(t *testing.T) {
	tests := []struct {
		url, kind, err string
	}{
		{"redis://127.0.0.1:6379/0", "server", ""},
		{"rediss://user:pw@cache.example:6380/2?dial_timeout=3s", "server", ""},
		{"redis://:pw@s1:26379?master_name=broker&addr=s2:26379&addr=s3:26379", "sentinel", ""},
		{"rediss://s1:26379/1?master_name=broker", "sentinel", ""},
		{"redis-cluster://n1:7000?addr=n2:7000&addr=n3:7000", "cluster", ""},
		{"rediss-cluster://user:pw@n1:7000", "cluster", ""},
		{"http://cache:6379", "", "scheme"},
		{"redis://:s3cr3t-pass@cache:6379/0?no_such_option=1", "", "no_such_option"},
		{"redis://:s3cr3t-pass@s1:26379?master_name=m&no_such_option=1", "", "no_such_option"},
		{"redis-cluster://:s3cr3t-pass@n1:7000?no_such_option=1", "", "no_such_option"},
		{"redis://cache:6379/notadb", "", "database"},
		{"::", "", "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			client, kind, err := redisClient(tc.url)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one about %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cr3t-pass") {
					t.Fatalf("the error repeats the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			if kind != tc.kind {
				t.Fatalf("kind = %q, want %q", kind, tc.kind)
			}
		})
	}
}

// TestOpenRedisServer opens the test server by URL and uses it.
func TestOpenRedisServer(t *testing.T) {
	url := os.Getenv("BROKER_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	r, err := OpenRedis(url, "test:open:"+t.Name()+":")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := r.Client().Ping(ctx).Err(); err != nil {
		testenv.Unavailable(t, "redis", err)
	}
	if err := r.Put(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	defer r.Client().Del(ctx, r.Prefix()+"k")
	if got, err := r.Get(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}
