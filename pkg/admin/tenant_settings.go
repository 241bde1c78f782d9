package admin

import (
	"errors"
	"net/url"
	"reflect"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

// TenantSettings are a tenant's settings as an update (or a creation)
// gives them: nil is "unchanged" (at creation: the default). The JSON
// names are the admin API's; the name tags are the flags of `broker
// tenants create` and `update`, which take this struct as it is — a new
// setting is one field here and one line in apply.
type TenantSettings struct {
	Name            *string `json:"name,omitempty" name:"name" help:"Display name shown to people." placeholder:"TEXT"`
	Operator        *string `json:"operator,omitempty" name:"operator" help:"Personal-data operator (152-ФЗ) named in consent texts, e.g. ГБУ «…»; required." placeholder:"TEXT"`
	OperatorAddress *string `json:"operator_address,omitempty" name:"operator-address" help:"The operator's address, shown in consent texts (152-ФЗ ст. 9 ч. 4); required." placeholder:"TEXT"`
	TimeZone        *string `json:"time_zone,omitempty" name:"time-zone" help:"IANA time zone for ages and dates (default Europe/Moscow)." placeholder:"ZONE"`
	AllowNameMatch  *bool   `json:"allow_name_match,omitempty" name:"allow-name-match" help:"Allow matching by ФИО and birth date (ladder rung 4); --no-allow-name-match turns it off." negatable:""`
	WebhookURL      *string `json:"webhook_url,omitempty" name:"webhook-url" help:"Where the broker POSTs events (\"\": none)." placeholder:"URL"`

	ConsentTextVersion *string `json:"consent_text_version,omitempty" name:"consent-text-version" help:"Version of the consent text (default 1); a new one asks everyone again at their next login." placeholder:"V"`
	ConsentTermDays    *int    `json:"consent_term_days,omitempty" name:"consent-term-days" help:"How long a consent lasts (0, the default: until withdrawn)." placeholder:"DAYS"`
	RequestDays        *int    `json:"request_days,omitempty" name:"request-days" help:"How long a parental consent request stays open (default 30)." placeholder:"DAYS"`
	DestroyAfterDays   *int    `json:"destroy_after_days,omitempty" name:"destroy-after-days" help:"Days after a withdrawal before the consent-related personal data is destroyed (default 30)." placeholder:"DAYS"`
	AdultAge           *int    `json:"adult_age,omitempty" name:"adult-age" help:"From this age a person consents for themself (default 18)." placeholder:"YEARS"`
	OwnAccountAge      *int    `json:"own_account_age,omitempty" name:"own-account-age" help:"From this age a confirmed ESIA account of one's own is required (default 14)." placeholder:"YEARS"`
	Purpose            *string `json:"purpose,omitempty" name:"purpose" help:"Purpose of processing, shown in the consent text." placeholder:"TEXT"`

	// RefreshReuseSeconds is the refresh token reuse interval; the command
	// line takes it as a duration (--refresh-reuse-interval).
	RefreshReuseSeconds *int `json:"refresh_reuse_seconds,omitempty" kong:"-"`

	AttemptRetentionDays      *int `json:"attempt_retention_days,omitempty" name:"attempt-retention-days" help:"Days login attempts (support's reference codes) are kept, with the audit entries of their reading (0: the default, 365)." placeholder:"DAYS"`
	OutboxRetentionDays       *int `json:"outbox_retention_days,omitempty" name:"outbox-retention-days" help:"Days a delivered webhook event is kept after its delivery (0: the default, 30)." placeholder:"DAYS"`
	OutboxFailedRetentionDays *int `json:"outbox_failed_retention_days,omitempty" name:"outbox-failed-retention-days" help:"Days a webhook event that exhausted its retries is kept for support after its last attempt (0: the default, 90)." placeholder:"DAYS"`
	RecheckRetentionDays      *int `json:"recheck_retention_days,omitempty" name:"recheck-retention-days" help:"Days the ESIA values a login's matching used are kept, sealed, for the support console's re-check (0: the default, 30)." placeholder:"DAYS"`
}

// Groups of settings, each audited as one change (the audit actions of
// the broker before this package: update_consent_policy, …).
const (
	groupTenant    = "update_tenant"
	groupConsent   = "update_consent_policy"
	groupTokens    = "update_token_policy"
	groupRetention = "update_retention"
)

// set sets *dst to *v when v is given and reports whether it was.
func set[T any](dst, v *T) bool {
	if v == nil {
		return false
	}
	*dst = *v
	return true
}

// apply sets the given settings on t and answers the groups they belong to.
func (ts TenantSettings) apply(t *store.Tenant) map[string]bool {
	g := map[string]bool{}
	mark := func(group string, given ...bool) {
		for _, b := range given {
			if b {
				g[group] = true
			}
		}
	}
	mark(groupTenant, set(&t.DisplayName, ts.Name), set(&t.OperatorName, ts.Operator), set(&t.OperatorAddress, ts.OperatorAddress),
		set(&t.TimeZone, ts.TimeZone), set(&t.Matching.AllowNameMatch, ts.AllowNameMatch), set(&t.WebhookURL, ts.WebhookURL))
	c := &t.Consent
	mark(groupConsent, set(&c.TextVersion, ts.ConsentTextVersion), set(&c.TermDays, ts.ConsentTermDays), set(&c.RequestDays, ts.RequestDays),
		set(&c.DestroyAfterDay, ts.DestroyAfterDays), set(&c.AdultAge, ts.AdultAge), set(&c.OwnAccountAge, ts.OwnAccountAge),
		set(&c.Purpose, ts.Purpose))
	if ts.RefreshReuseSeconds != nil {
		v := *ts.RefreshReuseSeconds
		t.Tokens.RefreshReuseSeconds = &v
		g[groupTokens] = true
	}
	r := &t.Retention
	mark(groupRetention, set(&r.AttemptDays, ts.AttemptRetentionDays), set(&r.OutboxDays, ts.OutboxRetentionDays),
		set(&r.OutboxFailedDays, ts.OutboxFailedRetentionDays), set(&r.RecheckDays, ts.RecheckRetentionDays))
	return g
}

// checkTenant refuses a tenant whose settings the broker cannot work
// with, naming every setting at fault.
func checkTenant(t store.Tenant) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if strings.TrimSpace(t.DisplayName) == "" {
		add(invalid("name", "is required: people see it on every page"))
	}
	// 152-ФЗ ст. 9 ч. 4: a written consent names the operator and its address.
	if strings.TrimSpace(t.OperatorName) == "" {
		add(invalid("operator", "is required: the consent text names the personal-data operator (152-ФЗ ст. 9 ч. 4)"))
	}
	if strings.TrimSpace(t.OperatorAddress) == "" {
		add(invalid("operator_address", "is required: the consent text gives the operator's address (152-ФЗ ст. 9 ч. 4)"))
	}
	if _, err := t.LocationErr(); err != nil {
		add(invalid("time_zone", "%q is not an IANA time zone", t.TimeZone))
	}
	if t.WebhookURL != "" {
		if u, err := url.Parse(t.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add(invalid("webhook_url", "must be an absolute http(s) URL"))
		}
	}
	p := t.Consent
	if p.TextVersion == "" {
		add(invalid("consent_text_version", "must not be empty"))
	}
	if p.TermDays < 0 {
		add(invalid("consent_term_days", "must be 0 (until withdrawn) or more"))
	}
	if p.RequestDays < 1 {
		add(invalid("request_days", "must be at least 1"))
	}
	if p.DestroyAfterDay < 1 {
		add(invalid("destroy_after_days", "must be at least 1"))
	}
	switch {
	case p.AdultAge > 120:
		add(invalid("adult_age", "must be at most 120 (is %d)", p.AdultAge))
	case p.OwnAccountAge < 1 || p.AdultAge <= p.OwnAccountAge:
		add(invalid("own_account_age", "must be at least 1 and below adult_age (%d), is %d", p.AdultAge, p.OwnAccountAge))
	}
	if s := t.Tokens.RefreshReuseSeconds; s != nil && (*s < 0 || *s > int(store.MaxRefreshReuse.Seconds())) {
		add(invalid("refresh_reuse_seconds", "must be between 0 (off) and %d", int(store.MaxRefreshReuse.Seconds())))
	}
	r := t.Retention
	for _, v := range []struct {
		setting string
		days    int
	}{{"attempt_retention_days", r.AttemptDays}, {"outbox_retention_days", r.OutboxDays}, {"outbox_failed_retention_days", r.OutboxFailedDays},
		{"recheck_retention_days", r.RecheckDays}} {
		if v.days < 0 {
			add(invalid(v.setting, "must be 0 (the default) or more days"))
		}
	}
	if len(errs) == 0 {
		if err := store.ValidateTenant(t); err != nil {
			add(tenantFieldError(err))
		}
	}
	return errors.Join(errs...)
}

// tenantFieldError names a store field error by its setting.
func tenantFieldError(err error) error {
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	names := map[string]string{"display_name": "name", "operator_name": "operator", "consent.text_version": "consent_text_version",
		"consent.purpose": "purpose"}
	setting := fe.Field
	if n, ok := names[setting]; ok {
		setting = n
	}
	return &SettingError{Setting: setting, Problem: fe.Problem}
}

// Flag is the command-line flag of a setting (its name tag), for the
// CLI's messages; "" when the setting has none.
func (TenantSettings) Flag(setting string) string {
	if setting == "refresh_reuse_seconds" {
		return "--refresh-reuse-interval"
	}
	t := reflect.TypeFor[TenantSettings]()
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == setting && f.Tag.Get("name") != "" {
			return "--" + f.Tag.Get("name")
		}
	}
	return ""
}
