package admin

import (
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// TenantView is every setting of a tenant as `tenants show` and the admin
// API show it: the webhook secret only as whether there is one.
type TenantView struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Operator         string `json:"operator"`
	OperatorAddress  string `json:"operator_address"`
	TimeZone         string `json:"time_zone"`
	AllowNameMatch   bool   `json:"allow_name_match"`
	WebhookURL       string `json:"webhook_url"`
	WebhookSecretSet bool   `json:"webhook_secret_set"`

	ConsentTextVersion string `json:"consent_text_version"`
	ConsentTermDays    int    `json:"consent_term_days"`
	RequestDays        int    `json:"request_days"`
	DestroyAfterDays   int    `json:"destroy_after_days"`
	AdultAge           int    `json:"adult_age"`
	OwnAccountAge      int    `json:"own_account_age"`
	Purpose            string `json:"purpose"`

	RefreshReuseSeconds int `json:"refresh_reuse_seconds"`

	AttemptRetentionDays      int `json:"attempt_retention_days"`
	OutboxRetentionDays       int `json:"outbox_retention_days"`
	OutboxFailedRetentionDays int `json:"outbox_failed_retention_days"`
	RecheckRetentionDays      int `json:"recheck_retention_days"`

	Disabled   bool       `json:"disabled"`
	DisabledAt *time.Time `json:"disabled_at"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// ViewOfTenant is t as shown, with the settings in force (the defaults
// where t sets none).
func ViewOfTenant(t store.Tenant) TenantView {
	p := consent.Policy(t) // older tenants may not store every setting
	r := t.Retention.Effective()
	v := TenantView{ID: t.ID, Name: t.DisplayName, Operator: t.OperatorName, OperatorAddress: t.OperatorAddress,
		TimeZone: t.TimeZone, AllowNameMatch: t.Matching.AllowNameMatch, WebhookURL: t.WebhookURL, WebhookSecretSet: t.WebhookSecret != "",
		ConsentTextVersion: p.TextVersion, ConsentTermDays: p.TermDays, RequestDays: p.RequestDays, DestroyAfterDays: p.DestroyAfterDay,
		AdultAge: p.AdultAge, OwnAccountAge: p.OwnAccountAge, Purpose: p.Purpose,
		RefreshReuseSeconds:  int(t.Tokens.RefreshReuse().Seconds()),
		AttemptRetentionDays: r.AttemptDays, OutboxRetentionDays: r.OutboxDays, OutboxFailedRetentionDays: r.OutboxFailedDays,
		RecheckRetentionDays: r.RecheckDays,
		Disabled:             t.Disabled(), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.Disabled() {
		at := t.DisabledAt
		v.DisabledAt = &at
	}
	return v
}

// identity is the audited detail of the tenant's own settings (group
// update_tenant): no secret.
type identity struct {
	Name            string `json:"name"`
	Operator        string `json:"operator"`
	OperatorAddress string `json:"operator_address"`
	TimeZone        string `json:"time_zone"`
	AllowNameMatch  bool   `json:"allow_name_match"`
	WebhookURL      string `json:"webhook_url"`
}

func identityOf(t store.Tenant) identity {
	return identity{Name: t.DisplayName, Operator: t.OperatorName, OperatorAddress: t.OperatorAddress, TimeZone: t.TimeZone,
		AllowNameMatch: t.Matching.AllowNameMatch, WebhookURL: t.WebhookURL}
}
