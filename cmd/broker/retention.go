package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/retention"
	"github.com/diarybroker/broker/pkg/store"
)

// printRetention prints the periods in force.
func printRetention(p store.RetentionPolicy) {
	e := p.Effective()
	fmt.Printf("retention: attempts %d days, delivered webhook events %d days, dead ones %d days, values kept for re-checks %d days\n",
		e.AttemptDays, e.OutboxDays, e.OutboxFailedDays, e.RecheckDays)
}

// JanitorCmd is `broker janitor`: one pass of the OAuth janitor and of the
// retention janitor, for
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
	removed, oerr := j.RunOAuth(g.Ctx, st.Store)
	fmt.Printf("removed OAuth records once expired, used or revoked: %d codes, %d PKCE and %d OpenID sessions, %d access and %d refresh tokens, %d grants\n",
		removed[store.OAuthCode], removed[store.OAuthPKCE], removed[store.OAuthOIDC], removed[store.OAuthAccess], removed[store.OAuthRefresh],
		removed[store.OAuthGrantKind])
	r, err := j.Run(g.Ctx)
	err = errors.Join(oerr, err)
	fmt.Printf("abandoned %d attempts; destroyed %d attempts with %d audit entries, %d delivered and %d dead webhook events, the values kept for re-checks of %d attempts, %d support tickets\n",
		r.Abandoned, r.Attempts, r.AuditEntries, r.OutboxDelivered, r.OutboxDead, r.AttemptValues, r.Tickets)
	return err
}
