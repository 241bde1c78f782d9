package main

import (
	"time"

	"github.com/diarybroker/broker/pkg/server"
)

// SettingsFlags are the flags that override settings; nil means "not given".
type SettingsFlags struct {
	Addr         *string        `help:"Listen address (BROKER_ADDR)." placeholder:"HOST:PORT"`
	MetricsAddr  *string        `name:"metrics-addr" help:"Listen address of /metrics (BROKER_METRICS_ADDR); serve: 127.0.0.1:9090, dev: on --addr unless given." placeholder:"HOST:PORT"`
	Issuer       *string        `help:"External URL of the broker (BROKER_ISSUER); default http://<addr>." placeholder:"URL"`
	DatabaseURL  *string        `name:"database-url" help:"PostgreSQL URL (BROKER_DATABASE_URL)." placeholder:"URL"`
	RedisURL     *string        `name:"redis-url" help:"Redis URL (BROKER_REDIS_URL)." placeholder:"URL"`
	LogLevel     *string        `name:"log-level" help:"debug, info, warn, error (BROKER_LOG_LEVEL)."`
	LogFormat    *string        `name:"log-format" help:"json or text (BROKER_LOG_FORMAT)."`
	RateLimit    *int           `name:"rate-limit" help:"Requests per minute per IP on login and token endpoints; 0 = off."`
	LoginTimeout *time.Duration `name:"login-timeout" help:"How long a login may wait for ESIA."`
	// SupportUnmaskPerHour limits the support console's «Показать».
	SupportUnmaskPerHour *int `name:"support-unmask-per-hour" help:"Values one staff member may show in full in the support console an hour (BROKER_SUPPORT_UNMASK_PER_HOUR, 30)."`
}

func (f SettingsFlags) apply(s *server.Settings) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.Addr, f.Addr)
	set(&s.MetricsAddr, f.MetricsAddr)
	set(&s.Issuer, f.Issuer)
	set(&s.DatabaseURL, f.DatabaseURL)
	set(&s.RedisURL, f.RedisURL)
	set(&s.LogLevel, f.LogLevel)
	set(&s.LogFormat, f.LogFormat)
	if f.RateLimit != nil {
		s.RateLimit = *f.RateLimit
	}
	if f.LoginTimeout != nil {
		s.LoginTimeout = *f.LoginTimeout
	}
	if f.SupportUnmaskPerHour != nil {
		s.SupportUnmaskPerHour = *f.SupportUnmaskPerHour
	}
}

// loadSettings reads the YAML file and the environment, then the flags.
func loadSettings(g *Globals, flags SettingsFlags, dev bool) (server.Settings, error) {
	s, err := server.LoadSettings(g.Config, nil)
	if err != nil {
		return s, err
	}
	flags.apply(&s)
	s.Dev = dev
	return s, nil
}
