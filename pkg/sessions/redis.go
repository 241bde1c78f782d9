package sessions

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
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

// OpenRedis connects to Redis as the URL says:
//
//   - redis://[user:password@]host:port[/db] or rediss://… — one server
//     (go-redis ParseURL; its options as query parameters);
//   - the same with master_name=NAME — Sentinel: host:port and every
//     addr=host:port parameter are sentinels (go-redis ParseFailoverURL);
//   - redis-cluster://… or rediss-cluster://… — Redis Cluster: host:port and
//     every addr=host:port parameter are seed nodes (go-redis ParseClusterURL).
func OpenRedis(url, prefix string) (*Redis, error) {
	client, _, err := redisClient(url)
	if err != nil {
		return nil, err
	}
	return NewRedis(client, prefix), nil
}

// redisClient builds the client a URL names and says which kind it is
// ("server", "sentinel" or "cluster"). Errors never repeat the URL: it may
// hold a password.
func redisClient(raw string) (redis.UniversalClient, string, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return nil, "", errors.New("sessions: redis url: not a URL")
	}
	switch u.Scheme {
	case "redis-cluster", "rediss-cluster":
		u.Scheme = strings.TrimSuffix(u.Scheme, "-cluster")
		opts, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, "", fmt.Errorf("sessions: redis cluster url: %s", redactURLError(err, u))
		}
		return redis.NewClusterClient(opts), "cluster", nil
	case "redis", "rediss":
	default:
		return nil, "", fmt.Errorf("sessions: redis url: scheme %q (want redis, rediss, redis-cluster or rediss-cluster)", u.Scheme)
	}
	if u.Query().Has("master_name") {
		opts, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return nil, "", fmt.Errorf("sessions: redis sentinel url: %s", redactURLError(err, u))
		}
		return redis.NewFailoverClient(opts), "sentinel", nil
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, "", fmt.Errorf("sessions: redis url: %s", redactURLError(err, u))
	}
	return redis.NewClient(opts), "server", nil
}

// redactURLError is err's text with u's password, if any, replaced.
func redactURLError(err error, u *neturl.URL) string {
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
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
		return unavailable("put", err)
	}
	return nil
}

// failed is a read's error: ErrNotFound for a missing key, else unavailable.
func failed(op string, err error) error {
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("sessions: %s: %w", op, ErrNotFound)
	}
	return unavailable(op, err)
}

// unavailable is any other error of Redis: the store could not be used.
func unavailable(op string, err error) error {
	return fmt.Errorf("sessions: %s: %w: %w", op, ErrUnavailable, err)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if err != nil {
		return nil, failed("get", err)
	}
	return v, nil
}

// Take implements Store with GETDEL (Redis 6.2+), atomic on the server.
func (r *Redis) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.GetDel(ctx, r.prefix+key).Bytes()
	if err != nil {
		return nil, failed("take", err)
	}
	return v, nil
}

// Delete implements Store.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return unavailable("delete", err)
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
		return 0, unavailable("hit", err)
	}
	return n, nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}
