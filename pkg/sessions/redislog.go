package sessions

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// RouteRedisLogs sends go-redis's own log lines (a failed dial, a lost
// connection, a pool or hook problem) to logger as WARN records with
// component=redis, instead of go-redis's plain text on standard error,
// which breaks a JSON log. go-redis has one logger per process: call it
// once at start-up, not from tests that run in parallel.
func RouteRedisLogs(logger *slog.Logger) {
	redis.SetLogger(redisLog{logger})
}

// redisLog is go-redis's internal.Logging on slog.
type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimSpace(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	r.l.WarnContext(ctx, "redis: "+msg, "component", "redis")
}
