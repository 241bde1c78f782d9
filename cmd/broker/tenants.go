package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// TenantsUpdateCmd is `broker tenants update TENANT`: it changes a
// tenant's consent policy, token settings and retention. Only the flags
// given change; the rest stays.
type TenantsUpdateCmd struct {
	StoreFlags
	RetentionFlags
	ID            string         `arg:"" help:"Tenant id."`
	TextVersion   *string        `name:"consent-text-version" help:"Version of the consent text; a new one asks everyone again at their next login." placeholder:"V"`
	TermDays      *int           `name:"consent-term-days" help:"How long a consent lasts (0: until withdrawn)." placeholder:"DAYS"`
	RequestDays   *int           `name:"request-days" help:"How long a parental consent request stays open." placeholder:"DAYS"`
	DestroyAfter  *int           `name:"destroy-after-days" help:"Days after a withdrawal before the consent-related personal data is destroyed." placeholder:"DAYS"`
	AdultAge      *int           `name:"adult-age" help:"From this age a person consents for themself." placeholder:"YEARS"`
	OwnAccountAge *int           `name:"own-account-age" help:"From this age a confirmed ESIA account of one's own is required." placeholder:"YEARS"`
	Purpose       *string        `name:"purpose" help:"Purpose of processing, shown in the consent text." placeholder:"TEXT"`
	RefreshReuse  *time.Duration `name:"refresh-reuse-interval" help:"How long after its rotation a refresh token presented again by its client gets the same new pair instead of revoking the grant (default 30s; 0 turns it off; at most 5m; whole seconds)." placeholder:"DURATION"`
}

// applyTokens sets the token flags given on p and reports whether any was.
func (c *TenantsUpdateCmd) applyTokens(p *store.TokenPolicy) bool {
	if c.RefreshReuse == nil {
		return false
	}
	secs := int(*c.RefreshReuse / time.Second)
	p.RefreshReuseSeconds = &secs
	return true
}

// checkRefreshReuse refuses a reuse interval the broker would not keep as
// given.
func checkRefreshReuse(d *time.Duration) error {
	switch {
	case d == nil:
		return nil
	case *d < 0 || *d > store.MaxRefreshReuse:
		return fmt.Errorf("--refresh-reuse-interval must be between 0 (off) and %s", store.MaxRefreshReuse)
	case *d%time.Second != 0:
		return errors.New("--refresh-reuse-interval is kept in whole seconds")
	}
	return nil
}

// apply sets the given flags on p and reports whether any was given.
func (c *TenantsUpdateCmd) apply(p *store.ConsentPolicy) bool {
	given := false
	for _, set := range []bool{
		setGiven(&p.TextVersion, c.TextVersion), setGiven(&p.TermDays, c.TermDays), setGiven(&p.RequestDays, c.RequestDays),
		setGiven(&p.DestroyAfterDay, c.DestroyAfter), setGiven(&p.AdultAge, c.AdultAge), setGiven(&p.OwnAccountAge, c.OwnAccountAge),
		setGiven(&p.Purpose, c.Purpose),
	} {
		given = given || set
	}
	return given
}

// setGiven sets *dst to the flag's value when it was given (v not nil)
// and reports whether it was.
func setGiven[T any](dst, v *T) bool {
	if v == nil {
		return false
	}
	*dst = *v
	return true
}

// checkConsentPolicy refuses a policy the consent rules cannot work with.
func checkConsentPolicy(p store.ConsentPolicy) error {
	var errs []error
	if p.TextVersion == "" {
		errs = append(errs, errors.New("--consent-text-version must not be empty"))
	}
	if p.TermDays < 0 {
		errs = append(errs, errors.New("--consent-term-days must be 0 (until withdrawn) or more"))
	}
	if p.RequestDays < 1 {
		errs = append(errs, errors.New("--request-days must be at least 1"))
	}
	if p.DestroyAfterDay < 1 {
		errs = append(errs, errors.New("--destroy-after-days must be at least 1"))
	}
	if p.OwnAccountAge < 1 || p.AdultAge <= p.OwnAccountAge || p.AdultAge > 120 {
		errs = append(errs, fmt.Errorf("ages: need 1 ≤ --own-account-age (%d) < --adult-age (%d) ≤ 120", p.OwnAccountAge, p.AdultAge))
	}
	return errors.Join(errs...)
}

// Run changes the policy in one transaction with an audit entry (before
// and after), and prints the policy in force.
func (c *TenantsUpdateCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkRefreshReuse(c.RefreshReuse); err != nil {
		return err
	}
	var before, after store.ConsentPolicy
	var tokensBefore, tokensAfter store.TokenPolicy
	var retentionBefore, retentionAfter store.RetentionPolicy
	err = st.Store.InTx(g.Ctx, func(ctx context.Context) error {
		// Held until the commit: a concurrent update waits, and then
		// applies its change to this one's result.
		t, err := st.Store.GetTenantForUpdate(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", c.ID, err)
		}
		before = consent.Policy(t) // older tenants may not store every setting
		after, tokensBefore = before, t.Tokens
		tokensAfter = tokensBefore
		retentionBefore = t.Retention
		retentionAfter = retentionBefore
		consentGiven, tokensGiven := c.apply(&after), c.applyTokens(&tokensAfter)
		retentionGiven := c.RetentionFlags.apply(&retentionAfter)
		if !consentGiven && !tokensGiven && !retentionGiven {
			return errors.New("nothing to update: give at least one consent, token or retention setting (see --help)")
		}
		if err := errors.Join(checkConsentPolicy(after), checkRetention(retentionAfter)); err != nil {
			return err
		}
		t.Consent, t.Tokens, t.Retention = after, tokensAfter, retentionAfter
		if err := st.Store.UpdateTenant(ctx, t); err != nil {
			return err
		}
		if consentGiven {
			detail, err := json.Marshal(map[string]store.ConsentPolicy{"before": before, "after": after})
			if err != nil {
				return err
			}
			if err := st.Store.AppendAudit(ctx, store.AuditEntry{TenantID: t.ID, Actor: "broker-cli",
				Action: "update_consent_policy", Target: t.ID, Detail: detail}); err != nil {
				return err
			}
		}
		if tokensGiven {
			detail, err := json.Marshal(map[string]store.TokenPolicy{"before": tokensBefore, "after": tokensAfter})
			if err != nil {
				return err
			}
			if err := st.Store.AppendAudit(ctx, store.AuditEntry{TenantID: t.ID, Actor: "broker-cli",
				Action: "update_token_policy", Target: t.ID, Detail: detail}); err != nil {
				return err
			}
		}
		if !retentionGiven {
			return nil
		}
		detail, err := json.Marshal(map[string]store.RetentionPolicy{"before": retentionBefore, "after": retentionAfter})
		if err != nil {
			return err
		}
		return st.Store.AppendAudit(ctx, store.AuditEntry{TenantID: t.ID, Actor: "broker-cli",
			Action: "update_retention", Target: t.ID, Detail: detail})
	})
	if err != nil {
		return err
	}
	fmt.Printf("tenant %s updated\n", c.ID)
	fmt.Printf("consent text version %s, term %d days (0: until withdrawn), requests open %d days, destroyed %d days after a withdrawal\n",
		after.TextVersion, after.TermDays, after.RequestDays, after.DestroyAfterDay)
	fmt.Printf("self-consent from %d, an own confirmed account from %d\npurpose: %s\n", after.AdultAge, after.OwnAccountAge, after.Purpose)
	fmt.Printf("refresh token reuse interval %s (0s: off)\n", tokensAfter.RefreshReuse())
	printRetention(retentionAfter)
	if after.TextVersion != before.TextVersion {
		fmt.Printf("the consent text changed (%s → %s): everyone is asked to consent again at their next login\n", before.TextVersion, after.TextVersion)
	}
	return nil
}
