package consent

import (
	"context"
	"errors"
	"fmt"

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
	req, err := s.openRequestIfAny(ctx, t.ID, personID)
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

// openRequestIfAny finds the child's open request without opening one
// (OpenRequest would create it), through its parents' lists.
func (s *Service) openRequestIfAny(ctx context.Context, tenantID, personID string) (*store.ConsentRequest, error) {
	rels, err := s.Store.RelationsOf(ctx, tenantID, personID)
	if err != nil {
		return nil, fmt.Errorf("consent: relations: %w", err)
	}
	for _, r := range rels {
		if r.Student != personID {
			continue
		}
		reqs, err := s.Store.OpenRequestsFor(ctx, tenantID, r.Parent)
		if err != nil {
			return nil, fmt.Errorf("consent: requests: %w", err)
		}
		for i := range reqs {
			if reqs[i].PersonID == personID {
				return &reqs[i], nil
			}
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

// Decide records a parent's grant or denial for a child. A grant closes the
// open request (of two parents granting at once exactly one consent is
// made) and creates the consent; a second grant is a no-op. A denial is
// recorded on the request, which stays open for the other parent.
func (s *Service) Decide(ctx context.Context, t store.Tenant, par Parent, childRecord string, accept bool) error {
	child, err := s.proven(ctx, t, par, childRecord)
	if err != nil {
		return err
	}
	p := policyOf(t)
	now := s.now()
	text := TextFor(t, store.ConsentParental)
	details := store.EvidenceDetails{GrantorOID: par.OID, GrantorName: par.Name, SubjectName: childName(child.Record),
		Operator: t.OperatorName, OperatorAddress: t.OperatorAddress, Purpose: p.Purpose, DataCategories: DataCategories,
		TextVersion: text.Version, TextHash: text.Hash, ESIASessionID: par.SessionID, Channel: "parent_page"}
	parentRecord := ""
	if len(par.Records) > 0 {
		parentRecord = par.Records[0]
	}
	if accept && child.Consent != nil && child.Consent.TextVersion == text.Version {
		return nil // granted already: a double submit, or the other parent was quicker
	}
	// A request to answer: the open one, or a new one for a parent who
	// grants before the child ever tried to log in.
	req, _, err := s.Store.OpenRequest(ctx, store.ConsentRequest{ID: newID(), TenantID: t.ID, PersonID: childRecord,
		Parents: par.Records, Status: store.RequestOpen, CreatedAt: now, ExpiresAt: now.AddDate(0, 0, p.RequestDays)})
	if err != nil {
		return fmt.Errorf("consent: request: %w", err)
	}
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		if !accept {
			if err := s.Store.AddDecline(ctx, t.ID, req.ID, store.Decline{ParentRecord: parentRecord, GrantorOID: par.OID, At: now}); err != nil {
				return err // ErrAlreadyExists: declined before (a double submit)
			}
			if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: t.ID, PersonID: childRecord, RequestID: req.ID, Event: "declined", At: now, Details: details}); err != nil {
				return err
			}
			return s.event(ctx, t.ID, "consent.denied", map[string]any{"person_id": childRecord, "request_id": req.ID, "kind": store.ConsentParental, "parent": parentRecord})
		}
		// The other parent may have granted since (and closed that request):
		// a consent granted meanwhile ends it here.
		if ok, err := s.hasGranted(ctx, t.ID, childRecord, text.Version); err != nil || ok {
			if err == nil {
				err = errGrantedAlready
			}
			return err
		}
		if err := s.Store.CloseRequest(ctx, t.ID, req.ID, store.RequestGranted, now); err != nil {
			return err
		}
		c := store.Consent{ID: newID(), TenantID: t.ID, PersonID: childRecord, Kind: store.ConsentParental, GrantorOID: par.OID,
			GrantorRecord: parentRecord, RequestID: req.ID, TextVersion: text.Version, TextHash: text.Hash, Status: store.ConsentGranted, GrantedAt: now}
		if p.TermDays > 0 {
			c.ExpiresAt = now.AddDate(0, 0, p.TermDays)
		}
		if err := s.Store.CreateConsent(ctx, c); err != nil {
			return err
		}
		if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: t.ID, PersonID: childRecord, ConsentID: c.ID, RequestID: req.ID, Event: "granted", At: now, Details: details}); err != nil {
			return err
		}
		return s.event(ctx, t.ID, "consent.granted", map[string]any{"person_id": childRecord, "consent_id": c.ID, "kind": c.Kind,
			"request_id": req.ID, "parent": parentRecord, "text_version": c.TextVersion, "expires_at": nullTime(c.ExpiresAt)})
	})
	if accept && (errors.Is(err, store.ErrInactive) || errors.Is(err, errGrantedAlready) || errors.Is(err, store.ErrAlreadyExists)) {
		return nil // the other parent granted at the same moment: one consent, no error
	}
	if !accept && errors.Is(err, store.ErrAlreadyExists) {
		return nil // declined already
	}
	if err != nil {
		return fmt.Errorf("consent: decide: %w", err)
	}
	return nil
}

// Revoke withdraws a parent's consent for a child: the child's next login
// is refused, the broker tokens the tenant holds for the child are revoked
// at once, and the diary is told.
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
		if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: t.ID, PersonID: childRecord, ConsentID: child.Consent.ID, Event: "revoked", At: now,
			Details: store.EvidenceDetails{GrantorOID: par.OID, GrantorName: par.Name, SubjectName: childName(child.Record),
				ESIASessionID: par.SessionID, Channel: "parent_page"}}); err != nil {
			return err
		}
		return s.event(ctx, t.ID, "consent.revoked", map[string]any{"person_id": childRecord, "consent_id": child.Consent.ID})
	})
	if errors.Is(err, store.ErrInactive) {
		return nil // revoked already
	}
	if err != nil {
		return fmt.Errorf("consent: revoke: %w", err)
	}
	return s.revokeTokens(ctx, t.ID, childRecord)
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

var errGrantedAlready = errors.New("consent: granted already")

// hasGranted reports whether a parental consent of the text version holds.
func (s *Service) hasGranted(ctx context.Context, tenantID, personID, version string) (bool, error) {
	cs, err := s.Store.ConsentsOf(ctx, tenantID, personID)
	if err != nil {
		return false, err
	}
	for _, c := range cs {
		if c.Status == store.ConsentGranted && c.Kind == store.ConsentParental && c.TextVersion == version {
			return true, nil
		}
	}
	return false, nil
}
