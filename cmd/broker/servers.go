package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/diarybroker/broker/pkg/server"
)

// DevCmd is `broker dev`.
type DevCmd struct {
	SettingsFlags
	// Plain strings: kong's existingfile type takes no pointer (the flags
	// failed with "must be applied to a string not *string").
	ESIAPersons string `name:"esia-persons" help:"ESIA fixture persons (JSON) instead of the embedded set." type:"existingfile" placeholder:"FILE"`
	Roster      string `help:"Demo roster (NDJSON) instead of the embedded one." type:"existingfile" placeholder:"FILE"`
}

// Run starts dev mode.
func (c *DevCmd) Run(g *Globals) error {
	s, err := loadSettings(g, c.SettingsFlags, true)
	if err != nil {
		return err
	}
	if c.ESIAPersons != "" {
		s.ESIAPersonsFile = c.ESIAPersons
	}
	if c.Roster != "" {
		s.RosterFile = c.Roster
	}
	if c.LogFormat == nil && os.Getenv("BROKER_LOG_FORMAT") == "" {
		s.LogFormat = "text"
	}
	return run(g.Ctx, s, func(comp *server.Components) {
		metrics := comp.Settings.Issuer + "/metrics"
		if comp.Settings.MetricsAddr != "" {
			metrics = "http://" + comp.Settings.MetricsAddr + "/metrics"
		}
		comp.Logger.Info("dev mode ready",
			"demo", comp.Settings.Issuer+"/demo",
			"issuer", comp.Settings.Issuer,
			"client_id", server.DevClientID, "client_secret", "demo-secret (dev only)",
			"esia_simulator", comp.Settings.Issuer+"/esia-sim/aas/oauth2/v2/ac", "metrics", metrics)
	})
}

// ServeCmd is `broker serve`.
type ServeCmd struct {
	SettingsFlags
}

// Run starts the production server.
func (c *ServeCmd) Run(g *Globals) error {
	s, err := loadSettings(g, c.SettingsFlags, false)
	if err != nil {
		return err
	}
	return run(g.Ctx, s, func(comp *server.Components) {
		// The redirect URI ESIA must have registered, to compare with the
		// technological portal's (ESIA-007023 when they differ).
		comp.Logger.Info("broker ready", "issuer", comp.Settings.Issuer, "addr", comp.Settings.Addr, "metrics_addr", comp.Settings.MetricsAddr,
			"esia_redirect_uri", comp.Settings.ESIA.RedirectURL)
	})
}

// run builds the components, listens, and serves until ctx ends; it calls
// ready once PostgreSQL, Redis and ESIA's trust answer (it waits for
// PostgreSQL before building, for the rest while serving /healthz and a
// 503 /readyz, and logs what it waits for). Every library logs through the
// JSON logger, and so does a failure that ends the server. SIGHUP reloads
// ESIA's certificates.
func run(ctx context.Context, s server.Settings, ready func(*server.Components)) error {
	if err := s.Resolve(); err != nil {
		return err
	}
	logger := server.NewLogger(s, nil)
	server.RouteLibraryLogs(logger)
	if setGCPercent(s.GCPercent) {
		logger.Info("garbage collector target set", "gc_percent", s.GCPercent)
	}
	if err := serve(ctx, s, logger, ready); err != nil {
		logger.Error("broker stopped", "error", err)
		return &loggedError{err}
	}
	return nil
}

// setGCPercent sets the garbage collector's target to n (BROKER_GOGC,
// gc_percent) unless n is 0 or the GOGC variable is set: Go reads that
// itself, and it wins. It reports whether it set it.
func setGCPercent(n int) bool {
	if n <= 0 || os.Getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(n)
	return true
}

// loggedError is an error already in the JSON log: main does not print it
// again as text.
type loggedError struct{ error }

func (e *loggedError) Unwrap() error { return e.error }

func serve(ctx context.Context, s server.Settings, logger *slog.Logger, ready func(*server.Components)) error {
	if err := server.WaitForDatabase(ctx, s, logger, time.Second); err != nil {
		return err
	}
	comp, err := server.Build(ctx, s, server.BuildOptions{Logger: logger})
	if err != nil {
		return err
	}
	defer comp.Close()
	srv, err := server.New(comp)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", comp.Settings.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// /metrics has a listener of its own in serve (the public port must not
	// publish the broker's internals); in dev it stays on addr unless set.
	var ml net.Listener
	if comp.Settings.MetricsAddr != "" {
		if ml, err = net.Listen("tcp", comp.Settings.MetricsAddr); err != nil {
			_ = l.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
	}
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	go comp.RunBackground(ctx, s.JanitorEvery, reload)
	go func() {
		if comp.WaitReady(ctx, time.Second) == nil {
			ready(comp)
		}
	}()
	if ml == nil {
		return srv.Serve(ctx, l)
	}
	// Either server failing stops both.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	metricsDone := make(chan error, 1)
	go func() {
		err := srv.ServeMetrics(ctx, ml)
		cancel()
		metricsDone <- err
	}()
	err = srv.Serve(ctx, l)
	cancel()
	if merr := <-metricsDone; err == nil && merr != nil {
		err = fmt.Errorf("metrics: %w", merr)
	}
	return err
}
