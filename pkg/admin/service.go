package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Store is what the service needs from the store.
type Store interface {
	store.Tenants
	store.TenantDeleter
	store.Clients
	store.Audit
	store.Transactor
}

// Actor is who acts: ID goes into the audit log (a client id, or CLIActor),
// Tenant is the one tenant the actor may touch; "" is the operator, who
// may touch every tenant and alone creates, disables, enables and deletes
// tenants and operator-level clients.
type Actor struct {
	ID     string
	Tenant string
}

// CLIActor is the actor of `broker` operator commands.
const CLIActor = "broker-cli"

// Operator reports whether the actor acts for the operator.
func (a Actor) Operator() bool { return a.Tenant == "" }

// may reports whether the actor may touch tenant id.
func (a Actor) may(id string) bool { return a.Operator() || a.Tenant == id }

// Errors of the service; the CLI and the API map them to messages and
// statuses.
var (
	// ErrNotFound is no such tenant or client — or one the actor may not
	// see (another tenant's), which is answered the same.
	ErrNotFound = errors.New("admin: no such tenant or client")
	// ErrOperatorOnly is an action only the operator may take.
	ErrOperatorOnly = errors.New("admin: only the operator may do this")
	// ErrNothingToUpdate is an update that gives no setting.
	ErrNothingToUpdate = errors.New("admin: nothing to update")
	// ErrExists is a tenant or client id taken already.
	ErrExists = errors.New("admin: exists already")
	// ErrNotDisabled is the deletion of a tenant that is not disabled.
	ErrNotDisabled = errors.New("admin: the tenant must be disabled before it is deleted")
	// ErrInvalid is a setting the service refuses (see *SettingError).
	ErrInvalid = errors.New("admin: invalid setting")
)

// SettingError is one refused setting, named as in the admin API (JSON).
type SettingError struct {
	Setting string
	Problem string
	Err     error // the cause, when there is one to branch on
}

func (e *SettingError) Error() string { return e.Setting + " " + e.Problem }

// Is makes every SettingError ErrInvalid.
func (e *SettingError) Is(target error) bool { return target == ErrInvalid }

// Unwrap is the cause.
func (e *SettingError) Unwrap() error { return e.Err }

func invalid(setting, format string, args ...any) error {
	return &SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
}

// Service runs the operator's actions on a store. Safe for concurrent use.
type Service struct {
	Store Store
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// ForgetClient and ForgetTenant, when set, are told of a change to a
	// client or a tenant, so that a cache (the OAuth provider's) drops it.
	ForgetClient func(id string)
	ForgetTenant func(id string)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// audit appends an entry of actor's action on target in tenant with
// detail (marshalled to JSON).
func (s *Service) audit(ctx context.Context, a Actor, tenant, action, target string, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("admin: audit detail: %w", err)
		}
		raw = b
	}
	if err := s.Store.AppendAudit(ctx, store.AuditEntry{At: s.now(), TenantID: tenant, Actor: a.ID, Action: action,
		Target: target, Detail: raw}); err != nil {
		return fmt.Errorf("admin: audit %s: %w", action, err)
	}
	return nil
}

// beforeAfter is the detail of an audited change.
type beforeAfter[T any] struct {
	Before T `json:"before"`
	After  T `json:"after"`
}

// storeErr maps the store's sentinel errors to the service's.
func storeErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, store.ErrAlreadyExists):
		return fmt.Errorf("%s: %w", what, ErrExists)
	}
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return &SettingError{Setting: fe.Field, Problem: fe.Problem}
	}
	return fmt.Errorf("admin: %s: %w", what, err)
}
