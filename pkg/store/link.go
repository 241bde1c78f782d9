package store

import (
	"context"
	"time"
)

// LinkStatus is the state of a link.
type LinkStatus string

// Link states.
const (
	LinkActive    LinkStatus = "active"
	LinkSuspended LinkStatus = "suspended"
)

// Link ties an ESIA person (oid) to a roster record of one tenant, with the
// evidence of how it was made.
type Link struct {
	TenantID   string
	ESIAOID    string
	ExternalID string
	Role       Role
	Rung       string // ladder rung that made it: snils, birth_cert, name, manual
	Status     LinkStatus
	Reason     string // why it is suspended, for support
	ESIAETag   string // eTag of the ESIA person when linked
	// SNILSIndex and BirthDateIndex are the blind indexes of the ESIA
	// person's SNILS and birth date when the link was made or last
	// re-checked at a login ("" when ESIA gave none, or for links older
	// than these fields). A roster record written later is re-checked
	// against them, without waiting for the person's next login.
	SNILSIndex     string
	BirthDateIndex string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Links stores links between ESIA persons and roster records.
type Links interface {
	// CreateLink stores a link; ErrAlreadyExists when the same oid and
	// record are linked already.
	CreateLink(ctx context.Context, l Link) error
	// LinksByOID lists the links of an ESIA person within a tenant.
	LinksByOID(ctx context.Context, tenantID, oid string) ([]Link, error)
	// LinksByRecord lists the links of one roster record.
	LinksByRecord(ctx context.Context, tenantID, externalID string) ([]Link, error)
	// LinksByRecords lists the links of several roster records at once
	// (a roster import re-checks a batch with one call).
	LinksByRecords(ctx context.Context, tenantID string, externalIDs []string) ([]Link, error)
	// UpdateLink changes a link's role, rung, status, reason, eTag and
	// evidence indexes; ErrNotFound when there is no such link.
	UpdateLink(ctx context.Context, l Link) error
	DeleteLink(ctx context.Context, tenantID, oid, externalID string) error
}

// ValidateLink checks what every store requires of a link: a tenant, an
// oid, a record, and strings a store can keep (*FieldError otherwise).
func ValidateLink(l Link) error {
	switch {
	case l.TenantID == "":
		return required("tenant_id")
	case l.ESIAOID == "":
		return required("esia_oid")
	case l.ExternalID == "":
		return required("external_id")
	}
	return check(
		CheckID("tenant_id", l.TenantID),
		CheckID("esia_oid", l.ESIAOID),
		CheckID("external_id", l.ExternalID),
		CheckText("role", string(l.Role), MaxWordLength),
		CheckText("rung", l.Rung, MaxWordLength),
		CheckText("status", string(l.Status), MaxWordLength),
		CheckText("reason", l.Reason, MaxTextLength),
		CheckText("esia_etag", l.ESIAETag, MaxWordLength),
		CheckText("snils_index", l.SNILSIndex, MaxWordLength),
		CheckText("birth_date_index", l.BirthDateIndex, MaxWordLength),
	)
}
