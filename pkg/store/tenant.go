package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Tenant is one diary deployment (a region's diary, a vendor's instance). It
// owns its clients, roster, links, consents and settings.
type Tenant struct {
	ID              string // short slug, e.g. "msk-diary"
	DisplayName     string // shown to people on pages, e.g. «Электронный дневник Москвы»
	OperatorName    string // the personal-data operator (152-ФЗ), shown in consent texts
	OperatorAddress string
	TimeZone        string // IANA zone used for ages and dates, e.g. "Europe/Moscow"
	Matching        MatchingPolicy
	Consent         ConsentPolicy
	Tokens          TokenPolicy
	Retention       RetentionPolicy
	WebhookURL      string
	WebhookSecret   string // HMAC key for X-Broker-Signature; never logged
	// DisabledAt is when the operator disabled the tenant (zero: enabled):
	// its logins are refused and its tokens stop working until it is
	// enabled again; only a disabled tenant can be deleted.
	DisabledAt time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Disabled reports whether the operator disabled the tenant.
func (t Tenant) Disabled() bool { return !t.DisabledAt.IsZero() }

// MatchingPolicy says which rungs of the matching ladder a tenant allows
// (DESIGN.md §5). The existing-link, SNILS and birth-certificate rungs are
// always on; name matching is opt-in.
type MatchingPolicy struct {
	AllowNameMatch bool `json:"allow_name_match"`
}

// ConsentPolicy is a tenant's consent configuration (DESIGN.md §6).
type ConsentPolicy struct {
	AdultAge      int    `json:"adult_age"`         // self-consent from this age (18)
	OwnAccountAge int    `json:"own_account_age"`   // from this age a confirmed own account is required (14)
	TermDays      int    `json:"term_days"`         // consent validity; 0 = until revoked
	TextVersion   string `json:"text_version"`      // version of the consent text in force
	Purpose       string `json:"purpose,omitempty"` // purpose of processing, shown in the text
	// RequestDays is how long a parental consent request stays open (30).
	RequestDays int `json:"request_days,omitempty"`
	// DestroyAfterDay is how many days after a withdrawal the
	// consent-related personal data is destroyed (0: 30 days).
	DestroyAfterDay int `json:"destroy_after_days,omitempty"`
}

// TokenPolicy is a tenant's setting of the tokens its diaries get.
type TokenPolicy struct {
	// RefreshReuseSeconds is the refresh token reuse interval: a rotated
	// refresh token presented again by its client within this many seconds
	// of its rotation gets the pair its rotation produced, instead of
	// revoking the grant (docs/oauth.md). nil: DefaultRefreshReuse; 0 off.
	RefreshReuseSeconds *int `json:"refresh_reuse_seconds,omitempty"`
}

// DefaultRefreshReuse is the refresh token reuse interval of a tenant that
// sets none.
const DefaultRefreshReuse = 30 * time.Second

// MaxRefreshReuse bounds the reuse interval: it is for a lost answer's
// retry, not a second life for rotated tokens.
const MaxRefreshReuse = 5 * time.Minute

// RefreshReuse returns the tenant's refresh token reuse interval (0: off).
func (p TokenPolicy) RefreshReuse() time.Duration {
	if p.RefreshReuseSeconds == nil {
		return DefaultRefreshReuse
	}
	if *p.RefreshReuseSeconds <= 0 {
		return 0
	}
	return min(time.Duration(*p.RefreshReuseSeconds)*time.Second, MaxRefreshReuse)
}

// DefaultConsentPolicy is the policy of DESIGN.md §6.
func DefaultConsentPolicy() ConsentPolicy {
	return ConsentPolicy{AdultAge: 18, OwnAccountAge: 14, TermDays: 0, TextVersion: "1", RequestDays: 30, DestroyAfterDay: 30,
		Purpose: "ведения электронного дневника и электронного журнала успеваемости"}
}

// RetentionPolicy is how long a tenant keeps what the broker stores only
// for a while (0: the broker's default, see DefaultRetention). The
// retention janitor (pkg/retention) destroys what is older.
type RetentionPolicy struct {
	// AttemptDays is how long login attempts — the reference codes support
	// resolves — are kept, with their events and the audit entries of their
	// reading (365).
	AttemptDays int `json:"attempt_days"`
	// OutboxDays is how long a delivered webhook event is kept after its
	// delivery (30).
	OutboxDays int `json:"outbox_days"`
	// OutboxFailedDays is how long a webhook event that exhausted its
	// retries (dead) is kept for support after its last attempt (90).
	OutboxFailedDays int `json:"outbox_failed_days"`
	// RecheckDays is how long the ESIA-side values a login's matching used
	// are kept, sealed, for the support console's «Проверить снова» (30).
	RecheckDays int `json:"recheck_days"`
}

// DefaultRetention is the retention of a tenant that set none.
func DefaultRetention() RetentionPolicy {
	return RetentionPolicy{AttemptDays: 365, OutboxDays: 30, OutboxFailedDays: 90, RecheckDays: 30}
}

// Effective returns p with every unset (0) period replaced by its default.
func (p RetentionPolicy) Effective() RetentionPolicy {
	d := DefaultRetention()
	if p.AttemptDays > 0 {
		d.AttemptDays = p.AttemptDays
	}
	if p.OutboxDays > 0 {
		d.OutboxDays = p.OutboxDays
	}
	if p.OutboxFailedDays > 0 {
		d.OutboxFailedDays = p.OutboxFailedDays
	}
	if p.RecheckDays > 0 {
		d.RecheckDays = p.RecheckDays
	}
	return d
}

// Validate refuses a negative period.
func (p RetentionPolicy) Validate() error {
	if p.AttemptDays < 0 || p.OutboxDays < 0 || p.OutboxFailedDays < 0 || p.RecheckDays < 0 {
		return fmt.Errorf("%w: retention periods must be 0 (the default) or more days", ErrInvalid)
	}
	return nil
}

// LocationErr returns the tenant's time zone, or an error when it is not a
// known IANA zone (checked when a tenant is created).
func (t Tenant) LocationErr() (*time.Location, error) {
	loc, err := loadLocation(t.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("%w: time zone %q is not an IANA zone", ErrInvalid, t.TimeZone)
	}
	return loc, nil
}

// Location returns the tenant's time zone, or Europe/Moscow when unset or unknown.
func (t Tenant) Location() *time.Location {
	if t.TimeZone != "" {
		if loc, err := loadLocation(t.TimeZone); err == nil {
			return loc
		}
	}
	if loc, err := loadLocation("Europe/Moscow"); err == nil {
		return loc
	}
	return time.FixedZone("MSK", 3*60*60)
}

// locations keeps the zones loadLocation found, by name: time.LoadLocation
// reads and parses the zone's file on every call (≈ 55 µs, twice a login:
// issue 13). Only zones that loaded are kept, so the map holds at most the
// IANA database (Russia's tenants use a dozen).
var locations sync.Map // string → *time.Location

// loadLocation is time.LoadLocation, once per zone.
func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// Tenants stores tenants.
type Tenants interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	// GetTenantForUpdate is GetTenant that, inside a transaction, also
	// holds the tenant until the transaction ends: a read-modify-write of
	// its settings (UpdateTenant in the same transaction) cannot lose a
	// concurrent one.
	GetTenantForUpdate(ctx context.Context, id string) (Tenant, error)
	UpdateTenant(ctx context.Context, t Tenant) error
	ListTenants(ctx context.Context) ([]Tenant, error)
}

// ValidateTenant checks what every store requires of a tenant: an id,
// strings a store can keep (*FieldError otherwise) and no negative
// retention period (ErrInvalid). The time zone is
// checked where a tenant is created (LocationErr), not here: a stored
// tenant stays readable and writable whatever the zone database says.
func ValidateTenant(t Tenant) error {
	if t.ID == "" {
		return required("id")
	}
	return check(
		CheckID("id", t.ID),
		CheckText("display_name", t.DisplayName, MaxTextLength),
		CheckText("operator_name", t.OperatorName, MaxTextLength),
		CheckText("operator_address", t.OperatorAddress, MaxTextLength),
		CheckText("time_zone", t.TimeZone, MaxWordLength),
		CheckText("webhook_url", t.WebhookURL, MaxURLLength),
		CheckText("webhook_secret", t.WebhookSecret, MaxSecretLength),
		CheckText("consent.text_version", t.Consent.TextVersion, MaxWordLength),
		CheckMultiline("consent.purpose", t.Consent.Purpose, MaxLongTextLength),
		t.Retention.Validate(),
	)
}
