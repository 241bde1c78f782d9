package webhook

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// FailureLogEvery is the least time between two log lines about failed
// deliveries to the same endpoint (tenant and host).
const FailureLogEvery = time.Minute

// failureLog writes failed deliveries as WARN lines, at most one per
// endpoint per FailureLogEvery; the next line counts the failures left out
// meanwhile. A line names the tenant, the endpoint's host, the HTTP status
// or the kind of failure — never the URL's path or query, nor a body:
// either may carry a secret or personal data.
type failureLog struct {
	mu    sync.Mutex
	hosts map[string]*endpointLog // by tenant and host
}

type endpointLog struct {
	last       time.Time // the last line
	suppressed int       // failures since, not logged
}

// failure is one failed delivery, as logged.
type failure struct {
	tenant, host, eventType string
	status                  int    // the endpoint's HTTP status; 0 when it gave none
	why                     string // without the URL
	attempt                 int
	dead                    bool
}

func (l *failureLog) log(ctx context.Context, logger *slog.Logger, now time.Time, f failure) {
	l.mu.Lock()
	if l.hosts == nil {
		l.hosts = map[string]*endpointLog{}
	}
	key := f.tenant + "\x00" + f.host
	e := l.hosts[key]
	if e != nil && now.Sub(e.last) < FailureLogEvery {
		e.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := 0
	if e != nil {
		suppressed = e.suppressed
	}
	l.hosts[key] = &endpointLog{last: now}
	l.mu.Unlock()

	attrs := []any{"tenant", f.tenant, "host", f.host, "event_type", f.eventType, "attempt", f.attempt}
	if f.status != 0 {
		attrs = append(attrs, "status", f.status)
	}
	attrs = append(attrs, "error", f.why, "dead", f.dead, "suppressed", suppressed)
	logger.WarnContext(ctx, "webhook delivery failed", attrs...)
}
