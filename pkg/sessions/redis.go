package sessions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store on Redis. It takes a go-redis UniversalClient, so a
// single server, Sentinel and Redis Cluster all work: every operation
// touches one key.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on client whose keys all start with prefix
// (e.g. "broker:"), so that several deployments can share a server.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// OpenRedis connects to a redis:// or rediss:// URL.
func OpenRedis(url, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("sessions: redis url: %w", err)
	}
	return NewRedis(redis.NewClient(opts), prefix), nil
}

// Prefix returns the key prefix of this store.
func (r *Redis) Prefix() string { return r.prefix }

// Client returns the underlying client.
func (r *Redis) Client() redis.UniversalClient { return r.client }

// Close closes the client.
func (r *Redis) Close() error { return r.client.Close() }

// Put implements Store.
func (r *Redis) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.client.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("sessions: put: %w", err)
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	return err
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if err != nil {
		return nil, fmt.Errorf("sessions: get: %w", notFound(err))
	}
	return v, nil
}

// Take implements Store with GETDEL (Redis 6.2+), atomic on the server.
func (r *Redis) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.GetDel(ctx, r.prefix+key).Bytes()
	if err != nil {
		return nil, fmt.Errorf("sessions: take: %w", notFound(err))
	}
	return v, nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("sessions: delete: %w", err)
	}
	return nil
}

// hitScript increments a counter and starts its window on the first hit,
// in one server-side step so that a counter never lives without a TTL.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Hit implements Store.
func (r *Redis) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	n, err := hitScript.Run(ctx, r.client, []string{r.prefix + key}, window.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("sessions: hit: %w", err)
	}
	return n, nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("sessions: ping: %w", err)
	}
	return nil
}
