package server

import (
	"context"
	"time"
)

// RunBackground does the broker's scheduled work until ctx ends: it removes
// expired OAuth records (batches claimed with FOR UPDATE SKIP LOCKED, so
// every replica may run it), prunes signing keys past their publication
// period, runs the consent workflow's janitor, and re-reads ESIA's
// certificates so that a rotated one is picked up without a restart.
// reload, when not nil, triggers an immediate certificate re-read
// (SIGHUP). The retention janitor runs as often, on a goroutine of its
// own: a first run over a large backlog takes a minute or more (about
// 5,000 rows a second), which must not hold up webhook delivery or token
// expiry.
func (c *Components) RunBackground(ctx context.Context, every time.Duration, reload <-chan struct{}) {
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	hooks := time.NewTicker(every / 12)
	defer hooks.Stop()
	go c.runRetention(ctx, every)
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			c.ReloadESIATrust()
			continue
		case <-hooks.C:
			c.DeliverWebhooks(ctx)
			c.DeliverMail(ctx)
			continue
		case <-tick.C:
		}
		c.Sweep(ctx)
		c.ReloadESIATrust()
	}
}

// Sweep removes expired OAuth records and retired signing keys whose
// publication period is over, and expires consents and requests; it
// returns how many rows it handled.
func (c *Components) Sweep(ctx context.Context) int {
	total := c.RunOAuthJanitor(ctx)
	if _, err := c.Signing.Prune(ctx); err != nil {
		c.Logger.ErrorContext(ctx, "pruning signing keys failed", "error", err)
	}
	if n, err := c.Consent.Sweep(ctx, c.Store); err != nil {
		c.Logger.ErrorContext(ctx, "consent expiry failed", "error", err)
	} else {
		total += n
	}
	return total
}

// RunOAuthJanitor removes the OAuth records whose time is over (expired,
// used, rotated past their expiry, revoked), counts them by kind in
// broker_oauth_removed_total and returns how many it removed.
func (c *Components) RunOAuthJanitor(ctx context.Context) int {
	removed, err := c.Retention.RunOAuth(ctx, c.Store)
	if err != nil {
		c.Logger.ErrorContext(ctx, "removing expired tokens failed", "error", err)
	}
	total := 0
	for kind, n := range removed {
		c.Metrics.OAuthRemoved.WithLabelValues(string(kind)).Add(float64(n))
		total += n
	}
	return total
}

// runRetention runs the retention janitor every period until ctx ends.
func (c *Components) runRetention(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			c.RunRetention(ctx)
		}
	}
}

// RunRetention runs the retention janitor once — abandoned logins,
// attempts and webhook events past their tenant's retention —, counts
// what it handled in the metrics and logs it (counts only), and returns
// the rows handled.
func (c *Components) RunRetention(ctx context.Context) int {
	r, err := c.Retention.Run(ctx)
	if err != nil {
		c.Logger.ErrorContext(ctx, "retention janitor failed", "error", err)
	}
	c.Metrics.Abandoned.Add(float64(r.Abandoned))
	for kind, n := range r.Destroyed() {
		c.Metrics.Destroyed.WithLabelValues(kind).Add(float64(n))
	}
	if r.Total() > 0 {
		c.Logger.InfoContext(ctx, "retention janitor", "abandoned", r.Abandoned, "attempts", r.Attempts,
			"audit_entries", r.AuditEntries, "outbox_delivered", r.OutboxDelivered, "outbox_dead", r.OutboxDead,
			"attempt_values", r.AttemptValues, "tickets", r.Tickets)
	}
	return r.Total()
}

// DeliverWebhooks sends the due outbox events (all of them, in batches).
func (c *Components) DeliverWebhooks(ctx context.Context) {
	for {
		delivered, failed, err := c.Webhooks.RunOnce(ctx)
		if err != nil {
			c.Logger.ErrorContext(ctx, "webhook delivery failed", "error", err)
			return
		}
		if delivered+failed < 50 {
			return
		}
	}
}

// ReloadESIATrust re-reads ESIA's token-signing certificates from disk
// (serve only; dev mode trusts the built-in simulator).
func (c *Components) ReloadESIATrust() {
	if c.Simulator != nil || c.ESIA == nil || c.ESIA.Keys == nil {
		return
	}
	if err := c.ESIA.Keys.Reload(); err != nil {
		c.Logger.Error("reloading ESIA certificates failed; the previous ones stay in use", "error", err)
	}
}
