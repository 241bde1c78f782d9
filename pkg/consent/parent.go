package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// Parent is a parent who logged in through ESIA with the kid scopes.
type Parent struct {
	OID       string
	Name      string // ФИО, for the evidence
	SessionID string // ESIA session id
	// Records are the parent's roster records in the tenant (role parent).
	Records []string
	// Kids are the children ESIA lists for the parent («Семья и дети»).
	Kids []linking.Identity
}

// Child is one child of a parent, as the parent's page shows it.
type Child struct {
	Record store.Person
	// Proven: the child is among the parent's ESIA kids (SNILS or birth
	// certificate); only then may the parent grant, deny or revoke.
	Proven  bool
	Consent *store.Consent        // the granted parental consent, if any
	Request *store.ConsentRequest // the open request, if any
	// Declined: this parent declined the open request already.
	Declined bool
}

// Children lists the students the roster relates to the parent's records,
// each marked proven when ESIA lists the child for this parent too.
func (s *Service) Children(ctx context.Context, t store.Tenant, par Parent) ([]Child, error) {
	seen := map[string]bool{}
	var out []Child
	for _, rec := range par.Records {
		rels, err := s.Store.RelationsOf(ctx, t.ID, rec)
		if err != nil {
			return nil, fmt.Errorf("consent: relations: %w", err)
		}
		for _, rel := range rels {
			if rel.Parent != rec || seen[rel.Student] {
				continue
			}
			seen[rel.Student] = true
			child, err := s.child(ctx, t, par, rel.Student)
			if err != nil {
				return nil, err
			}
			out = append(out, child)
		}
	}
	return out, nil
}

func (s *Service) child(ctx context.Context, t store.Tenant, par Parent, personID string) (Child, error) {
	rec, err := s.Store.GetPerson(ctx, t.ID, personID)
	if err != nil {
		return Child{}, fmt.Errorf("consent: child record: %w", err)
	}
	c := Child{Record: rec, Proven: proves(par.Kids, linking.IdentityOfRecord(rec))}
	consents, err := s.Store.ConsentsOf(ctx, t.ID, personID)
	if err != nil {
		return Child{}, fmt.Errorf("consent: %w", err)
	}
	for i := range consents {
		if consents[i].Status == store.ConsentGranted && consents[i].Kind == store.ConsentParental {
			c.Consent = &consents[i]
			break
		}
	}
	req, err := s.liveRequest(ctx, t.ID, personID, s.now(), false)
	if err != nil {
		return Child{}, err
	}
	if req != nil {
		c.Request = req
		for _, d := range req.Declines {
			if d.GrantorOID == par.OID {
				c.Declined = true
			}
		}
	}
	return c, nil
}

// liveRequest finds the child's open request without opening one; a
// request past its time counts as none, and expire closes it (in the
// caller's transaction) as the janitor would.
func (s *Service) liveRequest(ctx context.Context, tenantID, personID string, now time.Time, expire bool) (*store.ConsentRequest, error) {
	req, err := s.Store.OpenRequestOf(ctx, tenantID, personID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("consent: requests: %w", err)
	}
	if !pastTime(req, now) {
		return &req, nil
	}
	if expire {
		if err := s.expireRequest(ctx, req, now); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// proves reports whether one of the parent's ESIA kids is the child of the
// roster record: SNILS equal, or birth certificate equal (DESIGN.md §6).
func proves(kids []linking.Identity, child linking.Identity) bool {
	for _, k := range kids {
		if linking.CompareSNILS(child.SNILS, k.SNILS).Matches() && child.SNILS != "" {
			return true
		}
		if !child.BirthCert.IsZero() && !k.BirthCert.IsZero() && linking.CompareBirthCert(child.BirthCert, k.BirthCert).Matches() {
			return true
		}
	}
	return false
}

// Decide records a parent's grant or denial for a child, in one
// transaction that holds the record's lock (store.LockConsents). A grant
// closes the child's open request, if any (a parent may grant before the
// child ever tried to log in), supersedes a consent to an older text, and
// creates the consent; a grant when one holds already — a double submit,
// or the other parent was quicker — is a no-op. A denial is recorded on
// the open request, which stays open for the other parent; with no open
// request there is nothing to deny (ErrNoRequest). Decide never opens a
// request: only the child's login does.
func (s *Service) Decide(ctx context.Context, t store.Tenant, par Parent, childRecord string, accept bool) error {
	child, err := s.proven(ctx, t, par, childRecord)
	if err != nil {
		return err
	}
	now := s.now()
	text := TextFor(t, store.ConsentParental)
	p := Policy(t)
	d := decision{t: t, par: par, child: childRecord, text: text, now: now,
		details: store.EvidenceDetails{GrantorOID: par.OID, GrantorName: par.Name, SubjectName: childName(child.Record),
			Operator: t.OperatorName, OperatorAddress: t.OperatorAddress, Purpose: text.Purpose, DataCategories: text.Categories,
			TextVersion: text.Version, TextHash: text.Hash, ESIASessionID: par.SessionID, Channel: "parent_page"}}
	if len(par.Records) > 0 {
		d.parentRecord = par.Records[0]
	}
	if p.TermDays > 0 {
		d.expires = now.AddDate(0, 0, p.TermDays)
	}
	noRequest := false
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.LockConsents(ctx, t.ID, childRecord); err != nil {
			return err
		}
		req, err := s.liveRequest(ctx, t.ID, childRecord, now, true)
		switch {
		case err != nil:
			return err
		case accept:
			return s.grant(ctx, d, req)
		case req == nil:
			noRequest = true // nothing to decline; a request expired here stays expired
			return nil
		}
		return s.decline(ctx, d, *req)
	})
	switch {
	case accept && errors.Is(err, errGrantedAlready):
		return nil // one consent, no error
	case !accept && errors.Is(err, store.ErrAlreadyExists):
		return nil // declined already (a double submit)
	case err != nil:
		return fmt.Errorf("consent: decide: %w", err)
	case noRequest:
		return ErrNoRequest
	}
	return nil
}

// decision is a parent's answer being recorded by Decide.
type decision struct {
	t            store.Tenant
	par          Parent
	parentRecord string
	child        string
	text         Text
	details      store.EvidenceDetails
	now, expires time.Time
}

var errGrantedAlready = errors.New("consent: granted already")

// grant records a parent's consent, in Decide's transaction.
func (s *Service) grant(ctx context.Context, d decision, req *store.ConsentRequest) error {
	cs, err := s.Store.ConsentsOf(ctx, d.t.ID, d.child)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Status != store.ConsentGranted || c.Kind != store.ConsentParental {
			continue
		}
		if c.TextVersion == d.text.Version {
			return errGrantedAlready
		}
		if err := s.Store.EndConsent(ctx, d.t.ID, c.ID, store.ConsentSuperseded, "text_version", d.now); err != nil {
			return err
		}
		if err := s.noteEnded(ctx, c, store.ConsentSuperseded, "text_version", store.EvidenceDetails{Note: "text_version"}, d.now); err != nil {
			return err
		}
	}
	requestID := ""
	if req != nil {
		if err := s.Store.CloseRequest(ctx, d.t.ID, req.ID, store.RequestGranted, d.now); err != nil {
			return err
		}
		requestID = req.ID
	}
	c := store.Consent{ID: newID(), TenantID: d.t.ID, PersonID: d.child, Kind: store.ConsentParental, GrantorOID: d.par.OID,
		GrantorRecord: d.parentRecord, RequestID: requestID, TextVersion: d.text.Version, TextHash: d.text.Hash,
		Status: store.ConsentGranted, GrantedAt: d.now, ExpiresAt: d.expires}
	if err := s.Store.CreateConsent(ctx, c); err != nil {
		return err
	}
	if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: d.t.ID, PersonID: d.child, ConsentID: c.ID, RequestID: requestID,
		Event: "granted", At: d.now, Details: d.details}); err != nil {
		return err
	}
	return s.event(ctx, d.t.ID, "consent.granted", map[string]any{"person_id": d.child, "consent_id": c.ID, "kind": c.Kind,
		"request_id": requestID, "parent": d.parentRecord, "text_version": c.TextVersion, "expires_at": nullTime(c.ExpiresAt)})
}

// decline records a parent's refusal on the open request, in Decide's
// transaction.
func (s *Service) decline(ctx context.Context, d decision, req store.ConsentRequest) error {
	if err := s.Store.AddDecline(ctx, d.t.ID, req.ID, store.Decline{ParentRecord: d.parentRecord, GrantorOID: d.par.OID, At: d.now}); err != nil {
		return err // ErrAlreadyExists: declined before
	}
	if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: d.t.ID, PersonID: d.child, RequestID: req.ID, Event: "declined",
		At: d.now, Details: d.details}); err != nil {
		return err
	}
	return s.event(ctx, d.t.ID, "consent.denied", map[string]any{"person_id": d.child, "request_id": req.ID,
		"kind": store.ConsentParental, "parent": d.parentRecord})
}

// Revoke withdraws a parent's consent for a child: the child's next login
// is refused, the broker tokens the tenant holds for the child are revoked
// in the same transaction (a failure leaves the consent granted, to be
// revoked again), and the diary is told.
func (s *Service) Revoke(ctx context.Context, t store.Tenant, par Parent, childRecord string) error {
	child, err := s.proven(ctx, t, par, childRecord)
	if err != nil {
		return err
	}
	if child.Consent == nil {
		return ErrNoConsent
	}
	now := s.now()
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.EndConsent(ctx, t.ID, child.Consent.ID, store.ConsentRevoked, "revoked_by_parent", now); err != nil {
			return err
		}
		return s.noteEnded(ctx, *child.Consent, store.ConsentRevoked, "revoked_by_parent", store.EvidenceDetails{GrantorOID: par.OID,
			GrantorName: par.Name, SubjectName: childName(child.Record), ESIASessionID: par.SessionID, Channel: "parent_page"}, now)
	})
	if errors.Is(err, store.ErrInactive) {
		return nil // revoked already
	}
	if err != nil {
		return fmt.Errorf("consent: revoke: %w", err)
	}
	return nil
}

// revokeTokens revokes the tenant's tokens of every ESIA person linked to
// the record.
func (s *Service) revokeTokens(ctx context.Context, tenantID, personID string) error {
	if s.Tokens == nil || s.Subjects == nil {
		return nil
	}
	links, err := s.Store.LinksByRecord(ctx, tenantID, personID)
	if err != nil {
		return fmt.Errorf("consent: links: %w", err)
	}
	for _, l := range links {
		if _, err := s.Tokens.RevokeSubject(ctx, tenantID, s.Subjects.Subject(tenantID, l.ESIAOID)); err != nil {
			return fmt.Errorf("consent: revoke tokens: %w", err)
		}
	}
	return nil
}

// proven returns the child if the parent may act for it.
func (s *Service) proven(ctx context.Context, t store.Tenant, par Parent, childRecord string) (Child, error) {
	children, err := s.Children(ctx, t, par)
	if err != nil {
		return Child{}, err
	}
	for _, c := range children {
		if c.Record.ExternalID == childRecord {
			if !c.Proven {
				return Child{}, ErrNotParent
			}
			return c, nil
		}
	}
	return Child{}, ErrNotParent
}

func childName(p store.Person) string {
	n := p.LastName + " " + p.FirstName
	if p.MiddleName != "" {
		n += " " + p.MiddleName
	}
	return n
}
