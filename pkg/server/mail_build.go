package server

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/mail"
	"github.com/diarybroker/broker/pkg/store"
)

// buildMail wires the e-mail to parents when SMTP is configured: the
// consent service then writes mail jobs with each request, and the
// background work sends them (DeliverMail).
func (c *Components) buildMail(s Settings) error {
	if s.SMTP.Host == "" {
		return nil
	}
	m := &mail.SMTP{Host: s.SMTP.Host, Port: s.SMTP.Port, From: s.SMTP.From, User: s.SMTP.User,
		Password: s.SMTP.Password, TLS: s.SMTP.TLS}
	if m.TLS == "" {
		m.TLS = mail.TLSStartTLS
	}
	if m.Port == 0 {
		m.Port = 587
		if m.TLS == mail.TLSImplicit {
			m.Port = 465
		}
	}
	if err := m.Check(); err != nil {
		return fmt.Errorf("settings: BROKER_SMTP_*: %w", err)
	}
	perDay := s.SMTP.PerAddressPerDay
	if perDay <= 0 {
		perDay = 5
	}
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "broker_mail_total",
		Help: "E-mails by kind (requested, reminder: to parents about consent requests; ticket_resolved: to the reporter of a support ticket) and outcome (sent, no_address, closed, rate_limited, failed, dead)."},
		[]string{"kind", "outcome"})
	c.Metrics.Registry.MustRegister(sent)
	c.Consent.Mail = true
	c.Mail = &consent.Notifier{Store: c.Store, Mailer: m, Now: c.Now, Logger: c.Logger,
		ParentURL: func(tenantID string) string { return parentURLOf(c.Settings.Issuer, tenantID) },
		Allow: func(ctx context.Context, key string) (bool, error) {
			n, err := c.Sessions.Hit(ctx, key, 24*time.Hour)
			return n <= int64(perDay), err
		},
		Observe: func(kind store.MailKind, outcome string) { sent.WithLabelValues(string(kind), outcome).Inc() },
		Record: func(ctx context.Context, ref string, detail map[string]any) {
			c.Login.RecordStep(ctx, ref, "mail", "", "", detail)
		},
	}
	return nil
}

// DeliverMail sends the due e-mails to parents (all of them, in batches);
// nothing without SMTP settings.
func (c *Components) DeliverMail(ctx context.Context) {
	if c.Mail == nil {
		return
	}
	for {
		n, err := c.Mail.RunOnce(ctx)
		if err != nil {
			c.Logger.ErrorContext(ctx, "mail delivery failed", "error", err)
			return
		}
		if n < 50 {
			return
		}
	}
}
