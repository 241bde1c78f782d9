package store

import (
	"context"
	"fmt"
	"time"
)

// ConsentKind says who consents for whom (DESIGN.md §6).
type ConsentKind string

// Consent kinds.
const (
	ConsentSelf     ConsentKind = "self"     // an adult for themself
	ConsentParental ConsentKind = "parental" // a parent for a minor
)

// ConsentStatus is the state of a consent: granted → revoked | expired |
// superseded.
type ConsentStatus string

// Consent states.
const (
	ConsentGranted    ConsentStatus = "granted"
	ConsentRevoked    ConsentStatus = "revoked"
	ConsentExpired    ConsentStatus = "expired"
	ConsentSuperseded ConsentStatus = "superseded" // new text version, turning 18, policy change
)

// Consent is one consent to the tenant's processing of a person's data,
// attached to the person's roster record.
type Consent struct {
	ID            string // UUID
	TenantID      string
	PersonID      string // the roster record (external id) of the person the data is about
	Kind          ConsentKind
	GrantorOID    string // ESIA oid of who consented (the adult, or the parent)
	GrantorRecord string // roster record of the grantor (the parent's), if any
	RequestID     string // the consent request it answered, for parental consents
	TextVersion   string
	TextHash      string // SHA-256 (hex) of the consent text shown
	Status        ConsentStatus
	GrantedAt     time.Time
	ExpiresAt     time.Time // zero: until revoked
	EndedAt       time.Time // when it stopped being granted
	EndReason     string    // why (revoked_by_parent, text_version, turned_18, term, …)
}

// RequestStatus is the state of a parental consent request: open →
// granted | expired. A parent's decline is recorded on the request, which
// stays open for the other parent.
type RequestStatus string

// Consent request states.
const (
	RequestOpen    RequestStatus = "open"
	RequestGranted RequestStatus = "granted"
	RequestExpired RequestStatus = "expired"
)

// ConsentRequest asks the parents of a minor for consent. At most one is
// open per tenant and record.
type ConsentRequest struct {
	ID        string // UUID
	TenantID  string
	PersonID  string   // the child's roster record
	ChildOID  string   // the child's ESIA oid, when the child logged in
	Parents   []string // the parents' roster records it was addressed to
	Status    RequestStatus
	Declines  []Decline
	CreatedAt time.Time
	ExpiresAt time.Time
	ClosedAt  time.Time
}

// Decline is one parent's refusal, kept on the request and shown to the child.
type Decline struct {
	ParentRecord string    `json:"parent_record"`
	GrantorOID   string    `json:"grantor_oid"`
	At           time.Time `json:"at"`
}

// Evidence is one append-only record proving a consent event under
// 152-ФЗ ч.4 ст.9: who consented (ESIA oid and ФИО), for whom, to which
// operator, for what purpose and data, which text (version and hash),
// when, in which ESIA session, through which channel. Details holds the
// personal data and is sealed at rest by the PostgreSQL store.
type Evidence struct {
	ID        int64
	TenantID  string
	PersonID  string // the record the consent is about
	ConsentID string
	RequestID string
	Event     string // requested, granted, declined, revoked, expired, superseded, destroyed
	At        time.Time
	Details   EvidenceDetails
	// Destroyed: the personal data of Details was destroyed after a
	// withdrawal (the event itself stays).
	Destroyed bool
}

// EvidenceDetails is the content of an evidence record.
type EvidenceDetails struct {
	GrantorOID      string   `json:"grantor_oid,omitempty"`
	GrantorName     string   `json:"grantor_name,omitempty"` // ФИО
	SubjectName     string   `json:"subject_name,omitempty"` // ФИО of the person the data is about
	SubjectOID      string   `json:"subject_oid,omitempty"`
	Operator        string   `json:"operator,omitempty"`
	OperatorAddress string   `json:"operator_address,omitempty"`
	Purpose         string   `json:"purpose,omitempty"`
	DataCategories  []string `json:"data_categories,omitempty"`
	TextVersion     string   `json:"text_version,omitempty"`
	TextHash        string   `json:"text_hash,omitempty"`
	ESIASessionID   string   `json:"esia_session_id,omitempty"`
	Channel         string   `json:"channel,omitempty"` // login_page, parent_page, api
	Note            string   `json:"note,omitempty"`
}

// Consents stores consents, consent requests and their evidence.
type Consents interface {
	// CreateConsent stores a new consent. A record has at most one
	// granted consent of a kind: creating a second is ErrAlreadyExists
	// (end the first, or find it, under LockConsents).
	CreateConsent(ctx context.Context, c Consent) error
	// ConsentsOf lists a record's consents, newest first.
	ConsentsOf(ctx context.Context, tenantID, personID string) ([]Consent, error)
	// EndConsent moves a granted consent to status (revoked, expired,
	// superseded) — only if it is still granted, else ErrInactive.
	EndConsent(ctx context.Context, tenantID, id string, status ConsentStatus, reason string, at time.Time) error
	// ExpireConsents ends up to limit granted consents whose ExpiresAt is
	// before now and returns them (rows claimed with FOR UPDATE SKIP
	// LOCKED, so replicas share the work).
	ExpireConsents(ctx context.Context, now time.Time, limit int) ([]Consent, error)

	// OpenRequest returns the open request of the record, creating r when
	// there is none; created says which. Concurrent calls create one.
	OpenRequest(ctx context.Context, r ConsentRequest) (req ConsentRequest, created bool, err error)
	// OpenRequestOf returns the record's open request (past its time or
	// not), or ErrNotFound; it never creates one. Inside InTx the request
	// stays locked until the transaction ends, so that the expiry janitor
	// skips it while a parent's answer is being recorded.
	OpenRequestOf(ctx context.Context, tenantID, personID string) (ConsentRequest, error)
	// LockConsents serialises the consent decisions about a record: inside
	// InTx it holds a lock until the transaction ends, so that of two
	// parents granting at once the second sees the first's consent even
	// when there is no request to close. Outside a transaction, or for a
	// record not in the roster, it does nothing.
	LockConsents(ctx context.Context, tenantID, personID string) error
	// GetRequest returns a request by id.
	GetRequest(ctx context.Context, tenantID, id string) (ConsentRequest, error)
	// OpenRequestsFor lists the open requests addressed to a parent record.
	OpenRequestsFor(ctx context.Context, tenantID, parentRecord string) ([]ConsentRequest, error)
	// AddDecline records a parent's decline on an open request (once per
	// parent record).
	AddDecline(ctx context.Context, tenantID, id string, d Decline) error
	// CloseRequest moves an open request to status — only if it is still
	// open, else ErrInactive (two parents granting at once: one wins).
	CloseRequest(ctx context.Context, tenantID, id string, status RequestStatus, at time.Time) error
	// ExpireRequests closes up to limit open requests past ExpiresAt and
	// returns them (FOR UPDATE SKIP LOCKED).
	ExpireRequests(ctx context.Context, now time.Time, limit int) ([]ConsentRequest, error)

	// AppendEvidence adds an evidence record (append-only).
	AppendEvidence(ctx context.Context, e Evidence) error
	// EvidenceOf lists a record's evidence, oldest first.
	EvidenceOf(ctx context.Context, tenantID, personID string) ([]Evidence, error)
	// DestroyEvidence wipes the personal data (Details) of a record's
	// evidence made before before, marking it Destroyed; the events stay.
	// With it go the ESIA oids kept beside the evidence: the grantor's of
	// the record's consents, and the child's and the decliners' of its
	// requests, made before before. It returns how many evidence records
	// it wiped; all of it happens at once (joining the caller's InTx).
	DestroyEvidence(ctx context.Context, tenantID, personID string, before time.Time) (int, error)
	// ClaimWithdrawn lists up to limit records of a tenant whose last
	// consent was revoked before before and whose evidence still holds
	// personal data — due for destruction —, earliest withdrawal first.
	// Inside InTx their consents stay locked until the transaction ends
	// and rows another transaction holds are skipped (FOR UPDATE SKIP
	// LOCKED), so that replicas share the work.
	ClaimWithdrawn(ctx context.Context, tenantID string, before time.Time, limit int) ([]ConsentRef, error)
}

// ConsentRef names a record in a tenant.
type ConsentRef struct {
	TenantID string
	PersonID string
}

// ValidateConsent checks what every store requires of a consent: an id, a
// tenant, a record, a known kind and a known status, and strings a store
// can keep (*FieldError).
func ValidateConsent(c Consent) error {
	if c.ID == "" || c.TenantID == "" || c.PersonID == "" {
		return fmt.Errorf("%w: consent needs an id, a tenant and a record", ErrInvalid)
	}
	if c.Kind != ConsentSelf && c.Kind != ConsentParental {
		return fmt.Errorf("%w: consent kind %q", ErrInvalid, c.Kind)
	}
	switch c.Status {
	case ConsentGranted, ConsentRevoked, ConsentExpired, ConsentSuperseded:
	default:
		return fmt.Errorf("%w: consent status %q", ErrInvalid, c.Status)
	}
	return check(
		CheckID("id", c.ID),
		CheckID("tenant_id", c.TenantID),
		CheckID("person_id", c.PersonID),
		CheckID("grantor_oid", c.GrantorOID),
		CheckID("grantor_record", c.GrantorRecord),
		CheckID("request_id", c.RequestID),
		CheckText("text_version", c.TextVersion, MaxWordLength),
		CheckText("text_hash", c.TextHash, MaxWordLength),
		CheckText("end_reason", c.EndReason, MaxTextLength),
	)
}

// ValidateConsentRequest checks what every store requires of a consent
// request: an id, a tenant, a record, and strings a store can keep
// (*FieldError otherwise).
func ValidateConsentRequest(r ConsentRequest) error {
	switch {
	case r.ID == "":
		return required("id")
	case r.TenantID == "":
		return required("tenant_id")
	case r.PersonID == "":
		return required("person_id")
	}
	err := check(
		CheckID("id", r.ID),
		CheckID("tenant_id", r.TenantID),
		CheckID("person_id", r.PersonID),
		CheckID("child_oid", r.ChildOID),
		CheckText("status", string(r.Status), MaxWordLength),
		checkList("parents", r.Parents, MaxIDLength, maxRequestParents),
	)
	if err != nil {
		return err
	}
	for _, d := range r.Declines {
		if err := ValidateDecline(d); err != nil {
			return err
		}
	}
	return nil
}

// maxRequestParents bounds the parents a request is addressed to.
const maxRequestParents = 100

// ValidateDecline checks the strings of a decline (*FieldError).
func ValidateDecline(d Decline) error {
	return check(CheckID("parent_record", d.ParentRecord), CheckID("grantor_oid", d.GrantorOID))
}

// ValidateEvidence checks what every store requires of an evidence
// record: a tenant, a record, and strings a store can keep (*FieldError
// otherwise). The purpose and the note may span lines.
func ValidateEvidence(e Evidence) error {
	switch {
	case e.TenantID == "":
		return required("tenant_id")
	case e.PersonID == "":
		return required("person_id")
	}
	d := e.Details
	return check(
		CheckID("tenant_id", e.TenantID),
		CheckID("person_id", e.PersonID),
		CheckID("consent_id", e.ConsentID),
		CheckID("request_id", e.RequestID),
		CheckText("event", e.Event, MaxWordLength),
		CheckID("details.grantor_oid", d.GrantorOID),
		CheckText("details.grantor_name", d.GrantorName, 3*MaxNameLength),
		CheckText("details.subject_name", d.SubjectName, 3*MaxNameLength),
		CheckID("details.subject_oid", d.SubjectOID),
		CheckText("details.operator", d.Operator, MaxTextLength),
		CheckText("details.operator_address", d.OperatorAddress, MaxTextLength),
		CheckMultiline("details.purpose", d.Purpose, MaxLongTextLength),
		checkList("details.data_categories", d.DataCategories, MaxTextLength, maxRequestParents),
		CheckText("details.text_version", d.TextVersion, MaxWordLength),
		CheckText("details.text_hash", d.TextHash, MaxWordLength),
		CheckID("details.esia_session_id", d.ESIASessionID),
		CheckText("details.channel", d.Channel, MaxWordLength),
		CheckMultiline("details.note", d.Note, MaxLongTextLength),
	)
}
