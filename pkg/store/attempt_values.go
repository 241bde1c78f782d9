package store

import (
	"context"
	"fmt"
	"time"
)

// AttemptValues are the ESIA-side values a login's matching used (SNILS,
// name, birth date, documents), kept with the attempt for the support
// console's «Проверить снова» for the tenant's period
// (RetentionPolicy.RecheckDays). Stores that persist them seal Data with
// the personal-data key (DESIGN.md §5), bound to the attempt's reference
// and tenant; the retention janitor destroys Data after the period and
// leaves the row saying when.
type AttemptValues struct {
	Ref      string
	TenantID string
	// Data is the values as the login encoded them; opaque to the store.
	// nil once destroyed.
	Data []byte
	// KeptAt is when the values were kept (the matching step).
	KeptAt time.Time
	// DestroyedAt is when the retention janitor destroyed Data; zero
	// while they are kept.
	DestroyedAt time.Time
}

// MaxAttemptValues bounds the size of AttemptValues.Data: a person's
// identity and a handful of documents.
const MaxAttemptValues = 64 << 10

// Rechecks keeps the values of AttemptValues.
type Rechecks interface {
	// KeepAttemptValues keeps (or replaces) the values of the attempt
	// v.Ref of tenant v.TenantID; ErrNotFound when there is no such
	// attempt in that tenant, ErrInvalid for empty or oversized Data.
	KeepAttemptValues(ctx context.Context, v AttemptValues) error
	// GetAttemptValues returns the values kept for an attempt (Data nil
	// and DestroyedAt set when destroyed); ErrNotFound when none were
	// kept, or the attempt itself is gone.
	GetAttemptValues(ctx context.Context, ref string) (AttemptValues, error)
	// DestroyAttemptValues destroys the Data of up to limit (0: 100) of a
	// tenant's attempts kept before before, oldest first, marking them
	// destroyed at at (claimed with FOR UPDATE SKIP LOCKED in PostgreSQL,
	// as the Retention methods), and returns their references. Values
	// kept at before itself are left alone.
	DestroyAttemptValues(ctx context.Context, tenantID string, before, at time.Time, limit int) ([]string, error)
}

// ValidateAttemptValues checks what every store requires of
// KeepAttemptValues's argument: a reference and a tenant as ids
// (*FieldError otherwise), and Data present and within MaxAttemptValues.
func ValidateAttemptValues(v AttemptValues) error {
	if err := check(CheckID("ref", v.Ref), CheckID("tenant", v.TenantID)); err != nil {
		return err
	}
	switch {
	case v.Ref == "":
		return required("ref")
	case v.TenantID == "":
		return required("tenant")
	case len(v.Data) == 0:
		return fmt.Errorf("%w: attempt values without data", ErrInvalid)
	case len(v.Data) > MaxAttemptValues:
		return fmt.Errorf("%w: attempt values over %d bytes", ErrInvalid, MaxAttemptValues)
	}
	return nil
}
