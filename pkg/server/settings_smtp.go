package server

import (
	"fmt"
	"strconv"
)

// SMTPSettings configure the e-mail to parents about consent requests
// (docs/configuration.md). Without a host the broker sends no e-mail.
type SMTPSettings struct {
	// Host is the SMTP server (BROKER_SMTP_HOST); empty: no e-mail.
	Host string `yaml:"host"`
	// Port is its port (BROKER_SMTP_PORT); default 587, 465 for tls.
	Port int `yaml:"port"`
	// From is the sender (BROKER_SMTP_FROM), «Name <address>» or an address.
	From string `yaml:"from"`
	// User and Password authenticate (AUTH PLAIN, only over TLS); the
	// password comes from the environment only.
	User     string `yaml:"user"`
	Password string `yaml:"-"`
	// TLS is starttls (default), tls or none (BROKER_SMTP_TLS).
	TLS string `yaml:"tls"`
	// PerAddressPerDay is how many e-mails one address gets a day at most
	// (BROKER_SMTP_PER_ADDRESS_PER_DAY, default 5).
	PerAddressPerDay int `yaml:"per_address_per_day"`
}

func init() {
	positive := func(p func(*Settings) *int) func(*Settings, string) error {
		return func(s *Settings, v string) error {
			n, err := strconv.Atoi(v)
			if err == nil && n < 1 {
				err = fmt.Errorf("want a positive number")
			}
			*p(s) = n
			return err
		}
	}
	EnvVars = append(EnvVars,
		envVar{"BROKER_SMTP_HOST", "SMTP server for e-mail to parents; empty: no e-mail", str(func(s *Settings) *string { return &s.SMTP.Host })},
		envVar{"BROKER_SMTP_PORT", "SMTP port (587; 465 with tls)", positive(func(s *Settings) *int { return &s.SMTP.Port })},
		envVar{"BROKER_SMTP_FROM", "sender of the e-mail, e.g. Дневник <noreply@diary.example>", str(func(s *Settings) *string { return &s.SMTP.From })},
		envVar{"BROKER_SMTP_USER", "SMTP user (AUTH PLAIN over TLS); empty: no AUTH", str(func(s *Settings) *string { return &s.SMTP.User })},
		envVar{"BROKER_SMTP_PASSWORD", "SMTP password (secret)", str(func(s *Settings) *string { return &s.SMTP.Password })},
		envVar{"BROKER_SMTP_TLS", "starttls, tls or none (starttls)", str(func(s *Settings) *string { return &s.SMTP.TLS })},
		envVar{"BROKER_SMTP_PER_ADDRESS_PER_DAY", "e-mails one address gets a day at most (5)", positive(func(s *Settings) *int { return &s.SMTP.PerAddressPerDay })},
	)
}
