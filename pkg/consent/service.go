package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/diarybroker/broker/pkg/store"
)

// Store is what consent needs from the store.
type Store interface {
	store.Consents
	store.Outbox
	store.Mail
	store.Roster
	store.Links
	store.Transactor
}

// TokenRevoker revokes the broker tokens a tenant holds for a person. The
// service calls it inside the transaction that ends a consent, with that
// transaction's context: backed by the same store it takes part in it, and
// either way a failure rolls the ending back, so that a retry finds the
// consent still granted and revokes again — no withdrawal leaves live
// tokens behind.
type TokenRevoker interface {
	RevokeSubject(ctx context.Context, tenantID, subject string) (int, error)
}

// Subjects names a person to a tenant (the pairwise sub).
type Subjects interface {
	Subject(tenantID, oid string) string
}

// Service runs the consent rules. Safe for concurrent use.
type Service struct {
	Store    Store
	Tokens   TokenRevoker
	Subjects Subjects
	// Mail, when set, writes to the parents when a request opens and
	// reminds them before it expires (mail jobs in the request's
	// transaction; Notifier sends them). Unset: no e-mail at all.
	Mail bool
	Now  func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// Errors callers branch on.
var (
	// ErrNotParent: the person is not a proven parent of the child (the
	// child is not among the parent's ESIA kids, or not related in the roster).
	ErrNotParent = errors.New("consent: not a proven parent of this child")
	// ErrNoConsent: there is no granted consent to revoke.
	ErrNoConsent = errors.New("consent: no granted consent")
	// ErrNoRequest: a parent declined, but no request of the child is
	// open (it expired, was granted, or the child never tried to log in).
	ErrNoRequest = errors.New("consent: no open request to decline")
)

// Subject is the person logging in, as consent needs to know them.
type Subject struct {
	TenantID  string
	PersonID  string // the roster record the login is for
	OID       string
	Name      string     // ФИО as ESIA has it, for the evidence
	BirthDate store.Date // from ESIA; when zero, Check reads the roster record's
	Child     bool       // an ESIA child account (KD)
	Trusted   bool       // a confirmed ESIA account
	SessionID string     // ESIA's session id, for the evidence
	// Roles are the roles of the person's records: an adult's consent text
	// lists what is processed about them (TextForRole).
	Roles []store.Role
	// Ref is the login attempt's reference code: the e-mails a request
	// opened by this login sends are noted among its events.
	Ref string
}

// Outcome is what a login needs, consent-wise.
type Outcome string

// Outcomes of Check.
const (
	Allowed           Outcome = "allowed"
	NeedsSelfConsent  Outcome = "self_consent_required"
	NeedsParental     Outcome = "parental_consent_required"
	NeedsConfirmation Outcome = "account_not_confirmed" // 14–17 with an unconfirmed account
)

// Decision is the result of Check.
type Decision struct {
	Outcome Outcome
	Age     int
	// AgeUnknown: neither ESIA nor the roster gives a birth date; the
	// person is treated as a minor under own_account_age (parental
	// consent), the safe side.
	AgeUnknown bool
	Text       Text // the text to show for NeedsSelfConsent
	// Request is the open parental request (NeedsParental); Declines on it
	// are shown to the child.
	Request *store.ConsentRequest
	// NoParents: the roster relates no parent to the child, so nobody can
	// be asked; the page says what to do.
	NoParents bool
	// ConsentID is the granted consent that allows the login (Allowed):
	// the login's code rests on it, and its exchange checks that it is
	// still granted.
	ConsentID string
}

// Check decides whether subj may log in to tenant, consent-wise, on
// today's date in the tenant's time zone. The age comes from the ESIA
// birth date, else from the roster record's (as the claims' age_group
// does); with neither the person counts as a minor who needs a parent's
// consent. For a minor without consent it opens (or finds) the parental
// request and notifies the parents.
func (s *Service) Check(ctx context.Context, t store.Tenant, subj Subject) (Decision, error) {
	p := Policy(t)
	today := store.DateOf(s.now().In(t.Location()))
	birth, err := s.birthDate(ctx, t.ID, subj)
	if err != nil {
		return Decision{}, err
	}
	age := 0
	if !birth.IsZero() {
		age = birth.AgeOn(today)
	}
	consents, err := s.Store.ConsentsOf(ctx, t.ID, subj.PersonID)
	if err != nil {
		return Decision{}, fmt.Errorf("consent: %w", err)
	}
	adult := !birth.IsZero() && age >= p.AdultAge
	kind := store.ConsentParental
	if adult {
		kind = store.ConsentSelf
	}
	validID, err := s.sweep(ctx, t, subj, consents, kind, p)
	if err != nil {
		return Decision{}, err
	}
	valid := validID != ""
	d := Decision{Age: age, AgeUnknown: birth.IsZero()}
	switch {
	case adult && valid:
		d.Outcome, d.ConsentID = Allowed, validID
	case adult:
		d.Outcome, d.Text = NeedsSelfConsent, TextForRole(t, store.ConsentSelf, subj.Roles...)
	case !birth.IsZero() && age >= p.OwnAccountAge && !subj.Trusted:
		d.Outcome = NeedsConfirmation
	case valid:
		d.Outcome, d.ConsentID = Allowed, validID
	default:
		d.Outcome = NeedsParental
		req, _, err := s.request(ctx, t, subj, p, "login_page")
		if err != nil {
			return Decision{}, err
		}
		d.Request, d.NoParents = &req, len(req.Parents) == 0
	}
	return d, nil
}

// sweep ends the consents that no longer hold — another text version, or
// the other kind (a minor who turned 18) — and returns the valid one of
// kind that remains, "" when none does.
func (s *Service) sweep(ctx context.Context, t store.Tenant, subj Subject, consents []store.Consent, kind store.ConsentKind, p store.ConsentPolicy) (string, error) {
	now := s.now()
	valid := ""
	for _, c := range consents {
		if c.Status != store.ConsentGranted {
			continue
		}
		reason := ""
		switch {
		case c.Kind != kind && kind == store.ConsentSelf:
			reason = "turned_adult"
		case c.Kind != kind:
			continue // a self-consent of a record now seen as a minor: policy changed; keep it
		case c.TextVersion != p.TextVersion:
			reason = "text_version"
		case !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now):
			reason = "term"
		}
		if reason == "" {
			valid = c.ID
			continue
		}
		status := store.ConsentSuperseded
		if reason == "term" {
			status = store.ConsentExpired
		}
		err := s.Store.InTx(ctx, func(ctx context.Context) error {
			if err := s.Store.EndConsent(ctx, t.ID, c.ID, status, reason, now); err != nil {
				return err
			}
			return s.noteEnded(ctx, c, status, reason, store.EvidenceDetails{Note: reason, SubjectOID: subj.OID}, now)
		})
		if err != nil && !errors.Is(err, store.ErrInactive) {
			return "", fmt.Errorf("consent: end %s: %w", c.ID, err)
		}
	}
	return valid, nil
}

// request opens (or finds) the parental request of the child and notifies
// the parents once, when it is created (created says so); channel is where
// it was asked from, for the evidence.
func (s *Service) request(ctx context.Context, t store.Tenant, subj Subject, p store.ConsentPolicy, channel string) (store.ConsentRequest, bool, error) {
	rels, err := s.Store.RelationsOf(ctx, t.ID, subj.PersonID)
	if err != nil {
		return store.ConsentRequest{}, false, fmt.Errorf("consent: relations: %w", err)
	}
	var parents []string
	for _, r := range rels {
		if r.Student == subj.PersonID {
			parents = append(parents, r.Parent)
		}
	}
	now := s.now()
	var req store.ConsentRequest
	made := false
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		fresh := store.ConsentRequest{ID: newID(), TenantID: t.ID, PersonID: subj.PersonID,
			ChildOID: subj.OID, Parents: parents, Status: store.RequestOpen, CreatedAt: now,
			ExpiresAt: now.AddDate(0, 0, p.RequestDays)}
		r, created, err := s.Store.OpenRequest(ctx, fresh)
		if err != nil {
			return err
		}
		if !created && pastTime(r, now) {
			// Past its time but not swept yet: expire it now and ask anew.
			if err := s.expireRequest(ctx, r, now); err != nil {
				return err
			}
			if r, created, err = s.Store.OpenRequest(ctx, fresh); err != nil {
				return err
			}
		}
		req, made = r, created
		if !created {
			return nil
		}
		if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: t.ID, PersonID: subj.PersonID, RequestID: r.ID,
			Event: "requested", At: now, Details: store.EvidenceDetails{SubjectOID: subj.OID, SubjectName: subj.Name,
				Channel: channel, ESIASessionID: subj.SessionID}}); err != nil {
			return err
		}
		if err := s.enqueueMail(ctx, r, subj.Ref); err != nil {
			return err
		}
		return s.event(ctx, t.ID, "consent.requested", map[string]any{"person_id": subj.PersonID, "request_id": r.ID,
			"parents": parents, "expires_at": r.ExpiresAt})
	})
	if err != nil {
		return store.ConsentRequest{}, false, fmt.Errorf("consent: request: %w", err)
	}
	return req, made, nil
}

// GrantSelf records an adult's answer on the consent page: accept makes a
// consent; decline is recorded and reported. The answer is about text.
//
// An acceptance is decided under the record's lock (store.LockConsents),
// as a parent's grant is: when a consent to the same text is granted
// already — the same adult logging in several times at once, each on a
// consent page — it is a no-op and no error, so that every such login
// goes on with one consent, one evidence record and one webhook; a
// consent to another text is superseded by the new one. The store's
// one-granted-consent rule is the backstop: a grant that loses to it (a
// record outside the roster has no row to lock) is decided again.
func (s *Service) GrantSelf(ctx context.Context, t store.Tenant, subj Subject, text Text, accept bool) error {
	p := Policy(t)
	now := s.now()
	details := store.EvidenceDetails{GrantorOID: subj.OID, GrantorName: subj.Name, SubjectOID: subj.OID, SubjectName: subj.Name,
		Operator: t.OperatorName, OperatorAddress: t.OperatorAddress, Purpose: text.Purpose, DataCategories: text.Categories,
		TextVersion: text.Version, TextHash: text.Hash, ESIASessionID: subj.SessionID, Channel: "login_page"}
	if !accept {
		return s.Store.InTx(ctx, func(ctx context.Context) error {
			if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: t.ID, PersonID: subj.PersonID, Event: "declined", At: now, Details: details}); err != nil {
				return err
			}
			return s.event(ctx, t.ID, "consent.denied", map[string]any{"person_id": subj.PersonID, "kind": store.ConsentSelf})
		})
	}
	var err error
	for range 2 {
		err = s.Store.InTx(ctx, func(ctx context.Context) error {
			return s.grantSelf(ctx, t, subj, text, p, details, now)
		})
		if !errors.Is(err, store.ErrAlreadyExists) {
			break
		}
	}
	if errors.Is(err, errGrantedAlready) {
		return nil
	}
	return err
}

// grantSelf records an adult's consent, in GrantSelf's transaction.
func (s *Service) grantSelf(ctx context.Context, t store.Tenant, subj Subject, text Text, p store.ConsentPolicy, details store.EvidenceDetails, now time.Time) error {
	if err := s.Store.LockConsents(ctx, t.ID, subj.PersonID); err != nil {
		return err
	}
	cs, err := s.Store.ConsentsOf(ctx, t.ID, subj.PersonID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Status != store.ConsentGranted || c.Kind != store.ConsentSelf {
			continue
		}
		if c.TextVersion == text.Version && c.TextHash == text.Hash && (c.ExpiresAt.IsZero() || c.ExpiresAt.After(now)) {
			return errGrantedAlready
		}
		status, reason := store.ConsentSuperseded, "text_version"
		if !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now) {
			status, reason = store.ConsentExpired, "term"
		}
		if err := s.Store.EndConsent(ctx, t.ID, c.ID, status, reason, now); err != nil {
			return err
		}
		if err := s.noteEnded(ctx, c, status, reason, store.EvidenceDetails{Note: reason, SubjectOID: subj.OID}, now); err != nil {
			return err
		}
	}
	c := store.Consent{ID: newID(), TenantID: t.ID, PersonID: subj.PersonID, Kind: store.ConsentSelf, GrantorOID: subj.OID,
		TextVersion: text.Version, TextHash: text.Hash, Status: store.ConsentGranted, GrantedAt: now}
	if p.TermDays > 0 {
		c.ExpiresAt = now.AddDate(0, 0, p.TermDays)
	}
	if err := s.Store.CreateConsent(ctx, c); err != nil {
		return err
	}
	if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: t.ID, PersonID: subj.PersonID, ConsentID: c.ID, Event: "granted", At: now, Details: details}); err != nil {
		return err
	}
	return s.event(ctx, t.ID, "consent.granted", map[string]any{"person_id": subj.PersonID, "consent_id": c.ID, "kind": c.Kind,
		"text_version": c.TextVersion, "expires_at": nullTime(c.ExpiresAt)})
}

// birthDate is the ESIA birth date of subj, else the roster record's
// (zero when neither knows it).
func (s *Service) birthDate(ctx context.Context, tenantID string, subj Subject) (store.Date, error) {
	if !subj.BirthDate.IsZero() || subj.PersonID == "" {
		return subj.BirthDate, nil
	}
	rec, err := s.Store.GetPerson(ctx, tenantID, subj.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Date{}, nil
	}
	if err != nil {
		return store.Date{}, fmt.Errorf("consent: record: %w", err)
	}
	return rec.BirthDate, nil
}

// noteEnded records, in the caller's transaction, that consent c has
// ended as status: the evidence, the webhook and — for a revoked or
// expired consent — the revocation of the broker tokens the tenant holds
// for the record, so that they die with the consent or not at all.
func (s *Service) noteEnded(ctx context.Context, c store.Consent, status store.ConsentStatus, reason string, details store.EvidenceDetails, at time.Time) error {
	if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: c.TenantID, PersonID: c.PersonID, ConsentID: c.ID,
		Event: string(status), At: at, Details: details}); err != nil {
		return err
	}
	typ, data := "consent.expired", map[string]any{"person_id": c.PersonID, "consent_id": c.ID, "reason": reason}
	if status == store.ConsentRevoked {
		typ, data = "consent.revoked", map[string]any{"person_id": c.PersonID, "consent_id": c.ID}
	}
	if err := s.event(ctx, c.TenantID, typ, data); err != nil {
		return err
	}
	if status == store.ConsentSuperseded {
		return nil // asked again at this very login; the diary is told
	}
	return s.revokeTokens(ctx, c.TenantID, c.PersonID)
}

// pastTime reports whether an open request is past its time at now.
func pastTime(r store.ConsentRequest, now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now)
}

// expireRequest closes, in the caller's transaction, an open request past
// its time that the janitor has not reached yet, as the janitor would.
func (s *Service) expireRequest(ctx context.Context, r store.ConsentRequest, now time.Time) error {
	err := s.Store.CloseRequest(ctx, r.TenantID, r.ID, store.RequestExpired, r.ExpiresAt)
	if errors.Is(err, store.ErrInactive) {
		return nil // closed meanwhile
	}
	if err != nil {
		return err
	}
	return s.noteRequestExpired(ctx, r, now)
}

// noteRequestExpired records, in the caller's transaction, that request r
// expired unanswered.
func (s *Service) noteRequestExpired(ctx context.Context, r store.ConsentRequest, at time.Time) error {
	if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: r.TenantID, PersonID: r.PersonID, RequestID: r.ID,
		Event: "expired", At: at, Details: store.EvidenceDetails{Note: "request"}}); err != nil {
		return err
	}
	return s.event(ctx, r.TenantID, "consent.expired", map[string]any{"person_id": r.PersonID, "request_id": r.ID, "reason": "request"})
}

// LinkEvent writes a link.* webhook event (linking.LinkEvents): the link
// as the diary knows it — its record, role, rung, status and reason.
func (s *Service) LinkEvent(ctx context.Context, typ string, l store.Link) error {
	return s.event(ctx, l.TenantID, typ, map[string]any{"person_id": l.ExternalID, "role": l.Role, "rung": l.Rung,
		"status": l.Status, "reason": l.Reason, "sub": s.subject(l.TenantID, l.ESIAOID)})
}

func (s *Service) subject(tenantID, oid string) string {
	if s.Subjects == nil {
		return ""
	}
	return s.Subjects.Subject(tenantID, oid)
}

// event writes a webhook event to the outbox, in the caller's transaction.
func (s *Service) event(ctx context.Context, tenantID, typ string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return s.Store.EnqueueEvent(ctx, store.OutboxEvent{ID: newID(), TenantID: tenantID, Type: typ, Data: b,
		CreatedAt: s.now(), Status: store.EventPending, NextAttemptAt: s.now()})
}

// Policy is the tenant's consent policy, the defaults of DESIGN.md §6
// filling the settings it leaves unset (zero).
func Policy(t store.Tenant) store.ConsentPolicy {
	p := t.Consent
	def := store.DefaultConsentPolicy()
	if p.AdultAge == 0 {
		p.AdultAge = def.AdultAge
	}
	if p.OwnAccountAge == 0 {
		p.OwnAccountAge = def.OwnAccountAge
	}
	if p.TextVersion == "" {
		p.TextVersion = def.TextVersion
	}
	if p.RequestDays == 0 {
		p.RequestDays = def.RequestDays
	}
	if p.DestroyAfterDay == 0 {
		p.DestroyAfterDay = def.DestroyAfterDay
	}
	if p.Purpose == "" {
		p.Purpose = def.Purpose
	}
	return p
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// newID returns a random UUID.
func newID() string { return uuid.NewString() }
