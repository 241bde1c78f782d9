package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/webhook"
)

// NewSecret is a random 256-bit secret (client secrets; webhook secrets
// are webhook.NewSecret's whsec_ form).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateTenant creates tenant id with the settings given (the defaults
// for the rest) and a new webhook secret, which it answers once. Only the
// operator creates tenants; the name, the operator and its address are
// required.
func (s *Service) CreateTenant(ctx context.Context, a Actor, id string, ts TenantSettings) (store.Tenant, error) {
	if !a.Operator() {
		return store.Tenant{}, fmt.Errorf("create tenant: %w", ErrOperatorOnly)
	}
	if err := store.CheckID("id", id); err != nil || id == "" {
		return store.Tenant{}, invalid("id", "must be a short slug of letters, digits and dashes")
	}
	if id == OperatorAuditTenant {
		return store.Tenant{}, invalid("id", "%q is reserved for the audit log of operator-level clients", id)
	}
	now := s.now()
	t := store.Tenant{ID: id, TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy(), WebhookSecret: webhook.NewSecret(),
		CreatedAt: now, UpdatedAt: now}
	ts.apply(&t)
	if err := checkTenant(t); err != nil {
		return store.Tenant{}, err
	}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateTenant(ctx, t); err != nil {
			return storeErr("create tenant "+id, err)
		}
		return s.audit(ctx, a, id, "create_tenant", id, ViewOfTenant(t))
	})
	return t, err
}

// Tenant is tenant id as the actor may see it.
func (s *Service) Tenant(ctx context.Context, a Actor, id string) (store.Tenant, error) {
	if !a.may(id) {
		return store.Tenant{}, fmt.Errorf("tenant %s: %w", id, ErrNotFound)
	}
	t, err := s.Store.GetTenant(ctx, id)
	return t, storeErr("tenant "+id, err)
}

// Tenants lists the tenants the actor may see.
func (s *Service) Tenants(ctx context.Context, a Actor) ([]store.Tenant, error) {
	if !a.Operator() {
		t, err := s.Tenant(ctx, a, a.Tenant)
		return []store.Tenant{t}, err
	}
	list, err := s.Store.ListTenants(ctx)
	return list, storeErr("list tenants", err)
}

// TenantUpdate is what an update did: the tenant before and after.
type TenantUpdate struct {
	Before, After store.Tenant
}

// UpdateTenant changes the settings given, in one transaction that holds
// the tenant, with one audit entry (before and after) for each group of
// settings changed: the tenant's own, its consent policy, its token
// policy, its retention. rotateWebhookSecret gives it a new webhook
// secret (audited without it).
func (s *Service) UpdateTenant(ctx context.Context, a Actor, id string, ts TenantSettings, rotateWebhookSecret bool) (TenantUpdate, error) {
	var u TenantUpdate
	if !a.may(id) {
		return u, fmt.Errorf("tenant %s: %w", id, ErrNotFound)
	}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		// Held until the commit: a concurrent update waits, and then
		// applies its change to this one's result.
		t, err := s.Store.GetTenantForUpdate(ctx, id)
		if err != nil {
			return storeErr("tenant "+id, err)
		}
		u.Before = t
		t.Consent = consent.Policy(t) // older tenants may not store every setting
		groups := ts.apply(&t)
		if len(groups) == 0 && !rotateWebhookSecret {
			return ErrNothingToUpdate
		}
		if err := checkTenant(t); err != nil {
			return err
		}
		if rotateWebhookSecret {
			t.WebhookSecret = webhook.NewSecret()
		}
		if err := s.Store.UpdateTenant(ctx, t); err != nil {
			return storeErr("update tenant "+id, err)
		}
		u.After = t
		b := u.Before
		b.Consent = consent.Policy(b)
		details := map[string]any{
			groupTenant:    beforeAfter[identity]{identityOf(b), identityOf(t)},
			groupConsent:   beforeAfter[store.ConsentPolicy]{b.Consent, t.Consent},
			groupTokens:    beforeAfter[store.TokenPolicy]{b.Tokens, t.Tokens},
			groupRetention: beforeAfter[store.RetentionPolicy]{b.Retention, t.Retention},
		}
		for _, g := range []string{groupTenant, groupConsent, groupTokens, groupRetention} {
			if groups[g] {
				if err := s.audit(ctx, a, id, g, id, details[g]); err != nil {
					return err
				}
			}
		}
		if rotateWebhookSecret {
			return s.audit(ctx, a, id, "rotate_webhook_secret", id, nil)
		}
		return nil
	})
	return u, err
}

// DisableTenant stops a tenant: its logins end on a page that says the
// service is suspended, its tokens and clients stop working. Only the
// operator disables a tenant; disabling a disabled tenant changes nothing.
func (s *Service) DisableTenant(ctx context.Context, a Actor, id string) (store.Tenant, error) {
	return s.setTenantDisabled(ctx, a, id, true)
}

// EnableTenant undoes DisableTenant.
func (s *Service) EnableTenant(ctx context.Context, a Actor, id string) (store.Tenant, error) {
	return s.setTenantDisabled(ctx, a, id, false)
}

func (s *Service) setTenantDisabled(ctx context.Context, a Actor, id string, disabled bool) (store.Tenant, error) {
	action := map[bool]string{true: "disable_tenant", false: "enable_tenant"}[disabled]
	if !a.Operator() {
		if !a.may(id) {
			return store.Tenant{}, fmt.Errorf("tenant %s: %w", id, ErrNotFound)
		}
		return store.Tenant{}, fmt.Errorf("%s: %w", action, ErrOperatorOnly)
	}
	var t store.Tenant
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		t, err = s.Store.GetTenantForUpdate(ctx, id)
		if err != nil {
			return storeErr("tenant "+id, err)
		}
		if t.Disabled() == disabled {
			return nil
		}
		t.DisabledAt = time.Time{}
		if disabled {
			t.DisabledAt = s.now()
		}
		if err := s.Store.UpdateTenant(ctx, t); err != nil {
			return storeErr(action+" "+id, err)
		}
		return s.audit(ctx, a, id, action, id, nil)
	})
	if err == nil && s.ForgetTenant != nil {
		s.ForgetTenant(id)
	}
	return t, err
}

// DeleteTenant destroys a disabled tenant with everything the broker
// keeps of it (store.TenantDeleter) and answers the record of it. Only
// the operator deletes tenants.
func (s *Service) DeleteTenant(ctx context.Context, a Actor, id string) (store.TenantDeletion, error) {
	if !a.Operator() {
		if !a.may(id) {
			return store.TenantDeletion{}, fmt.Errorf("tenant %s: %w", id, ErrNotFound)
		}
		return store.TenantDeletion{}, fmt.Errorf("delete tenant: %w", ErrOperatorOnly)
	}
	d, err := s.Store.DeleteTenant(ctx, id, a.ID)
	if errors.Is(err, store.ErrInvalid) {
		return d, fmt.Errorf("tenant %s: %w", id, ErrNotDisabled)
	}
	if err == nil && s.ForgetTenant != nil {
		s.ForgetTenant(id)
	}
	return d, storeErr("delete tenant "+id, err)
}
