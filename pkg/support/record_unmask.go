package support

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// MaxFieldLength bounds the name of a field asked to be shown in full.
const MaxFieldLength = 64

// RecordUnmask lets a staff member see one field of a roster record in
// full on the record's page: it needs a reason, checks that the record is
// in sc (ErrNotFound otherwise, as for one that does not exist) and
// writes the audit entry — who (the grant), which record and field, when,
// why — before the page shows anything.
type RecordUnmask struct {
	Store interface {
		store.Console
		store.Audit
	}
	Now func() time.Time
}

// Unmask checks and audits the showing of field of the record tenantID /
// externalID to the holder of grantID. A blank reason is ErrNoReason, a
// field name that is not one (empty, too long, not lower-case letters,
// digits and "_") ErrBadQuery.
func (u *RecordUnmask) Unmask(ctx context.Context, sc store.Scope, grantID, tenantID, externalID, field, reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return ErrNoReason
	case len([]rune(reason)) > MaxReasonLength:
		return fmt.Errorf("%w: the reason is longer than %d characters", ErrBadQuery, MaxReasonLength)
	case !fieldName(field):
		return fmt.Errorf("%w: no such field", ErrBadQuery)
	}
	if _, err := u.Store.PersonInScope(ctx, sc, tenantID, externalID); errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return fmt.Errorf("support: record: %w", err)
	}
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	return auditEntry(ctx, u.Store, now(), tenantID, grantID, ActionUnmask, externalID,
		map[string]any{"kind": "record", "field": field, "reason": reason})
}

// fieldName reports whether s can name a field: 1 to MaxFieldLength
// lower-case Latin letters, digits and "_".
func fieldName(s string) bool {
	if s == "" || len(s) > MaxFieldLength {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
