package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/retention"
	"github.com/diarybroker/broker/pkg/store"
)

// RetentionFlags are the retention settings of `broker tenants update`.
type RetentionFlags struct {
	AttemptDays      *int `name:"attempt-retention-days" help:"Days login attempts (support's reference codes) are kept, with the audit entries of their reading (0: the default, 365)." placeholder:"DAYS"`
	OutboxDays       *int `name:"outbox-retention-days" help:"Days a delivered webhook event is kept after its delivery (0: the default, 30)." placeholder:"DAYS"`
	OutboxFailedDays *int `name:"outbox-failed-retention-days" help:"Days a webhook event that exhausted its retries is kept for support after its last attempt (0: the default, 90)." placeholder:"DAYS"`
	RecheckDays      *int `name:"recheck-retention-days" help:"Days the ESIA values a login's matching used are kept, sealed, for the support console's re-check (0: the default, 30)." placeholder:"DAYS"`
}

// apply sets the given flags on p and reports whether any was given.
func (f *RetentionFlags) apply(p *store.RetentionPolicy) bool {
	a := setGiven(&p.AttemptDays, f.AttemptDays)
	b := setGiven(&p.OutboxDays, f.OutboxDays)
	c := setGiven(&p.OutboxFailedDays, f.OutboxFailedDays)
	d := setGiven(&p.RecheckDays, f.RecheckDays)
	return a || b || c || d
}

// checkRetention refuses a negative period, naming its flag.
func checkRetention(p store.RetentionPolicy) error {
	var errs []error
	for _, v := range []struct {
		flag string
		days int
	}{{"--attempt-retention-days", p.AttemptDays}, {"--outbox-retention-days", p.OutboxDays}, {"--outbox-failed-retention-days", p.OutboxFailedDays},
		{"--recheck-retention-days", p.RecheckDays}} {
		if v.days < 0 {
			errs = append(errs, fmt.Errorf("%s must be 0 (the default) or more days", v.flag))
		}
	}
	return errors.Join(errs...)
}

// printRetention prints the periods in force.
func printRetention(p store.RetentionPolicy) {
	e := p.Effective()
	fmt.Printf("retention: attempts %d days, delivered webhook events %d days, dead ones %d days, values kept for re-checks %d days\n",
		e.AttemptDays, e.OutboxDays, e.OutboxFailedDays, e.RecheckDays)
}

// JanitorCmd is `broker janitor`: one pass of the retention janitor, for
// cron when the servers' own (every minute) is not wanted.
type JanitorCmd struct {
	StoreFlags
	LoginTimeout *time.Duration `name:"login-timeout" help:"Attempts still in progress after this are abandoned (default: the servers' BROKER_LOGIN_TIMEOUT, 15m)." placeholder:"DURATION"`
}

// Run abandons the attempts past the login time-out and destroys what is
// past each tenant's retention, then prints what it did.
func (c *JanitorCmd) Run(g *Globals) error {
	st, s, err := openStorageSettings(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	ttl := s.LoginTimeout
	if c.LoginTimeout != nil {
		ttl = *c.LoginTimeout
	}
	if ttl <= 0 {
		return errors.New("--login-timeout must be positive")
	}
	j := &retention.Janitor{Store: st.Store, PendingTTL: ttl}
	r, err := j.Run(g.Ctx)
	fmt.Printf("abandoned %d attempts; destroyed %d attempts with %d audit entries, %d delivered and %d dead webhook events, the values kept for re-checks of %d attempts, %d support tickets\n",
		r.Abandoned, r.Attempts, r.AuditEntries, r.OutboxDelivered, r.OutboxDead, r.AttemptValues, r.Tickets)
	return err
}
