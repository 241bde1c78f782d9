package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// NewClient is a client to create.
type NewClient struct {
	ID string // "" generates one from the tenant
	// Tenant is the client's tenant; "" with Operator for an
	// operator-level API client.
	Tenant   string
	Operator bool
	Public   bool // no secret (PKCE only)
	Settings ClientSettings
}

// DefaultGrants are the grants of a client created without any.
var DefaultGrants = []string{"authorization_code", "refresh_token"}

// CreateClient registers a client and answers it with its secret (shown
// once; "" for a public client). A tenant's actor creates clients of its
// own tenant only; only the operator creates operator-level clients.
func (s *Service) CreateClient(ctx context.Context, a Actor, nc NewClient) (store.Client, string, error) {
	switch {
	case nc.Operator && (!a.Operator() || nc.Tenant != ""):
		if !a.Operator() {
			return store.Client{}, "", fmt.Errorf("create an operator-level client: %w", ErrOperatorOnly)
		}
		return store.Client{}, "", invalid("tenant_id", "must be empty for an operator-level client")
	case !nc.Operator && nc.Tenant == "" && !a.Operator():
		nc.Tenant = a.Tenant
	case !nc.Operator && nc.Tenant == "":
		return store.Client{}, "", invalid("tenant_id", "is required (or create an operator-level client)")
	case !a.may(nc.Tenant):
		return store.Client{}, "", fmt.Errorf("tenant %s: %w", nc.Tenant, ErrNotFound)
	}
	c := store.Client{ID: nc.ID, TenantID: nc.Tenant, Public: nc.Public, ResponseTypes: []string{"code"}, GrantTypes: DefaultGrants,
		PKCE: store.PKCERequired, CreatedAt: s.now()}
	nc.Settings.apply(&c)
	if nc.Settings.Scopes == nil && oauth.IsLoginClient(c) {
		c.Scopes = []string{oauth.ScopeOpenID, oauth.ScopeProfile, oauth.ScopeOfflineAccess}
	}
	if c.ID == "" {
		prefix := c.TenantID
		if nc.Operator {
			prefix = "operator"
		}
		c.ID = prefix + "-" + strings.ToLower(NewSecret()[:10])
	}
	if err := checkClient(c); err != nil {
		return store.Client{}, "", err
	}
	secret := ""
	if !c.Public {
		secret = NewSecret()
		c.SecretHash = oauth.HashSecret(secret)
	}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		if !nc.Operator {
			if _, err := s.Store.GetTenant(ctx, c.TenantID); err != nil {
				return storeErr("tenant "+c.TenantID, err)
			}
		}
		if err := s.Store.CreateClient(ctx, c); err != nil {
			return storeErr("create client "+c.ID, err)
		}
		return s.audit(ctx, a, auditTenant(c), "create_client", c.ID, ViewOfClient(c))
	})
	if err != nil {
		return store.Client{}, "", err
	}
	return c, secret, nil
}

// auditTenant is the tenant whose audit log records a change of c: its
// own, or "operator" for an operator-level client.
func auditTenant(c store.Client) string {
	if c.Operator() {
		return OperatorAuditTenant
	}
	return c.TenantID
}

// OperatorAuditTenant is where the audit log keeps the changes of
// operator-level clients, which belong to no tenant.
const OperatorAuditTenant = "operator"

// Client is client id as the actor may see it: a tenant's actor sees its
// tenant's clients only.
func (s *Service) Client(ctx context.Context, a Actor, id string) (store.Client, error) {
	return s.client(ctx, a, id, s.Store.GetClient)
}

func (s *Service) client(ctx context.Context, a Actor, id string, get func(context.Context, string) (store.Client, error)) (store.Client, error) {
	c, err := get(ctx, id)
	if err != nil {
		return c, storeErr("client "+id, err)
	}
	if !a.Operator() && c.TenantID != a.Tenant {
		return store.Client{}, fmt.Errorf("client %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// Clients lists tenant's clients ("" all, for the operator) as the actor
// may see them.
func (s *Service) Clients(ctx context.Context, a Actor, tenant string) ([]store.Client, error) {
	if !a.Operator() {
		if tenant != "" && tenant != a.Tenant {
			return nil, fmt.Errorf("tenant %s: %w", tenant, ErrNotFound)
		}
		tenant = a.Tenant
	}
	list, err := s.Store.ListClients(ctx, tenant)
	return list, storeErr("list clients", err)
}

// change reads client id, lets edit change it, checks and stores it with
// an audit entry of what changed, all in one transaction.
func (s *Service) change(ctx context.Context, a Actor, id, action string, edit func(c *store.Client) error) (store.Client, error) {
	var c store.Client
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.client(ctx, a, id, s.Store.GetClientForUpdate); err != nil {
			return err
		}
		before := ViewOfClient(c)
		if err := edit(&c); err != nil {
			return err
		}
		if err := checkClient(c); err != nil {
			return err
		}
		if err := s.Store.UpdateClient(ctx, c); err != nil {
			return storeErr("update client "+id, err)
		}
		return s.audit(ctx, a, auditTenant(c), action, id, changed(before, ViewOfClient(c)))
	})
	if err == nil && s.ForgetClient != nil {
		s.ForgetClient(id)
	}
	return c, err
}

// UpdateClient changes the settings given.
func (s *Service) UpdateClient(ctx context.Context, a Actor, id string, cs ClientSettings) (store.Client, error) {
	return s.change(ctx, a, id, "update_client", func(c *store.Client) error {
		if !cs.apply(c) {
			return ErrNothingToUpdate
		}
		return nil
	})
}

// MaxGrace bounds the grace period of a rotated secret.
const MaxGrace = 30 * 24 * time.Hour

// RotateSecret gives a confidential client a new secret, answered once;
// the previous one keeps working for grace (0: not at all), so that a
// diary can roll it out without downtime.
func (s *Service) RotateSecret(ctx context.Context, a Actor, id string, grace time.Duration) (store.Client, string, error) {
	if grace < 0 || grace > MaxGrace {
		return store.Client{}, "", invalid("grace_seconds", "must be between 0 and %d (30 days)", int(MaxGrace.Seconds()))
	}
	secret := NewSecret()
	c, err := s.change(ctx, a, id, "rotate_client_secret", func(c *store.Client) error {
		if c.Public {
			return invalid("public", "client %s is public: it has no secret", c.ID)
		}
		now := s.now()
		c.PreviousSecretHash, c.PreviousSecretUntil = nil, time.Time{}
		if grace > 0 {
			c.PreviousSecretHash, c.PreviousSecretUntil = c.SecretHash, now.Add(grace)
		}
		c.SecretHash, c.SecretRotatedAt = oauth.HashSecret(secret), now
		return nil
	})
	if err != nil {
		return c, "", err
	}
	return c, secret, nil
}

// DisableClient stops a client: its tokens stop working, its logins are
// refused. EnableClient undoes it.
func (s *Service) DisableClient(ctx context.Context, a Actor, id string) (store.Client, error) {
	return s.change(ctx, a, id, "disable_client", func(c *store.Client) error {
		if !c.Disabled() {
			c.DisabledAt = s.now()
		}
		return nil
	})
}

// EnableClient lets a disabled client work again.
func (s *Service) EnableClient(ctx context.Context, a Actor, id string) (store.Client, error) {
	return s.change(ctx, a, id, "enable_client", func(c *store.Client) error {
		c.DisabledAt = time.Time{}
		return nil
	})
}

// DeleteClient deletes a client; its tokens stop working with it.
func (s *Service) DeleteClient(ctx context.Context, a Actor, id string) error {
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Client(ctx, a, id)
		if err != nil {
			return err
		}
		if err := s.Store.DeleteClient(ctx, id); err != nil {
			return storeErr("delete client "+id, err)
		}
		return s.audit(ctx, a, auditTenant(c), "delete_client", id, ViewOfClient(c))
	})
	if err == nil && s.ForgetClient != nil {
		s.ForgetClient(id)
	}
	return err
}
