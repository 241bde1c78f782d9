package sessionstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/testenv"
)

// RedisURL returns BROKER_TEST_REDIS_URL, or the local default server.
func RedisURL() string {
	if u := os.Getenv("BROKER_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// NewRedis returns a Redis store under a random key prefix that is
// cleaned up when the test ends.
func NewRedis(t testing.TB) *sessions.Redis {
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		testenv.Unavailable(t, "Redis", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "brokertest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	return sessions.NewRedis(client, prefix)
}
