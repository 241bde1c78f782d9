package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Consents = (*Store)(nil)

// consentRow is a stored consent; seq orders consents granted at the same
// instant, as the PostgreSQL store's identity column does.
type consentRow struct {
	c   store.Consent
	seq int64
}

// requestRow is a stored consent request and its insertion order.
type requestRow struct {
	r   store.ConsentRequest
	seq int64
}

// rowLimit is the number of rows a claim or a list takes when the caller
// passes limit ≤ 0.
func rowLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}

// microUTC is t as the PostgreSQL store returns it: in UTC, to the
// microsecond.
func microUTC(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// nextSeq numbers an insertion; the caller holds the write lock.
func (s *Store) nextSeq() int64 {
	s.seq++
	return s.seq
}

func (s *Store) checkTenant(id, what string) error {
	if _, ok := s.tenants[id]; !ok {
		return fmt.Errorf("%w: %s of unknown tenant %q", store.ErrInvalid, what, id)
	}
	return nil
}

// CreateConsent implements store.Consents. An empty status is granted, a
// zero GrantedAt is now. A second granted consent of a record and kind is
// ErrAlreadyExists, as the PostgreSQL store's index consents_one_granted
// has it.
func (s *Store) CreateConsent(ctx context.Context, c store.Consent) error {
	if c.Status == "" {
		c.Status = store.ConsentGranted
	}
	if err := store.ValidateConsent(c); err != nil {
		return err
	}
	defer s.write(ctx)()
	if err := s.checkTenant(c.TenantID, "consent"); err != nil {
		return err
	}
	if _, ok := s.consents[c.ID]; ok {
		return store.ErrAlreadyExists
	}
	if c.Status == store.ConsentGranted {
		for _, r := range s.consents {
			if r.c.Status == store.ConsentGranted && r.c.TenantID == c.TenantID && r.c.PersonID == c.PersonID && r.c.Kind == c.Kind {
				return fmt.Errorf("%w: record %s has a granted %s consent (%s)", store.ErrAlreadyExists, c.PersonID, c.Kind, r.c.ID)
			}
		}
	}
	if c.GrantedAt.IsZero() {
		c.GrantedAt = s.now()
	}
	c.GrantedAt, c.ExpiresAt, c.EndedAt = microUTC(c.GrantedAt), microUTC(c.ExpiresAt), microUTC(c.EndedAt)
	s.consents[c.ID] = consentRow{c: c, seq: s.nextSeq()}
	s.onUndo(ctx, func() { delete(s.consents, c.ID) })
	return nil
}

// ConsentsOf implements store.Consents: newest first.
func (s *Store) ConsentsOf(ctx context.Context, tenantID, personID string) ([]store.Consent, error) {
	if !store.ValidKeys(tenantID, personID) {
		return nil, nil
	}
	defer s.read(ctx)()
	var rows []consentRow
	for _, r := range s.consents {
		if r.c.TenantID == tenantID && r.c.PersonID == personID {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return newerConsent(rows[i], rows[j]) })
	out := make([]store.Consent, len(rows))
	for i, r := range rows {
		out[i] = r.c
	}
	return out, nil
}

func newerConsent(a, b consentRow) bool {
	if !a.c.GrantedAt.Equal(b.c.GrantedAt) {
		return a.c.GrantedAt.After(b.c.GrantedAt)
	}
	return a.seq > b.seq
}

// EndConsent implements store.Consents.
func (s *Store) EndConsent(ctx context.Context, tenantID, id string, status store.ConsentStatus, reason string, at time.Time) error {
	if err := store.CheckText("end_reason", reason, store.MaxTextLength); err != nil {
		return err
	}
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	switch status {
	case store.ConsentRevoked, store.ConsentExpired, store.ConsentSuperseded:
	default:
		return fmt.Errorf("%w: a consent cannot end as %q", store.ErrInvalid, status)
	}
	defer s.write(ctx)()
	old, ok := s.consents[id]
	if !ok || old.c.TenantID != tenantID {
		return store.ErrNotFound
	}
	if old.c.Status != store.ConsentGranted {
		return store.ErrInactive
	}
	if at.IsZero() {
		at = s.now()
	}
	r := old
	r.c.Status, r.c.EndReason, r.c.EndedAt = status, reason, microUTC(at)
	s.consents[id] = r
	s.onUndo(ctx, func() { s.consents[id] = old })
	return nil
}

// ExpireConsents implements store.Consents. An expired consent ended when
// it expired (EndedAt = ExpiresAt), whenever the janitor noticed, with the
// reason "term".
func (s *Store) ExpireConsents(ctx context.Context, now time.Time, limit int) ([]store.Consent, error) {
	now, limit = microUTC(now), rowLimit(limit)
	defer s.write(ctx)()
	due := oldestExpired(s.consents, now, limit, func(r consentRow) (bool, time.Time, int64) {
		return r.c.Status == store.ConsentGranted, r.c.ExpiresAt, r.seq
	})
	var out []store.Consent
	for _, old := range due {
		r := old
		r.c.Status, r.c.EndedAt, r.c.EndReason = store.ConsentExpired, r.c.ExpiresAt, "term"
		s.consents[r.c.ID] = r
		s.onUndo(ctx, func() { s.consents[old.c.ID] = old })
		out = append(out, r.c)
	}
	return out, nil
}

// oldestExpired returns at most limit rows that are live and expired before
// now, the earliest expiry first and insertion order between equals, as the
// PostgreSQL janitor queries order them.
func oldestExpired[R any](rows map[string]R, now time.Time, limit int, expiry func(R) (live bool, expiresAt time.Time, seq int64)) []R {
	type dueRow struct {
		row R
		at  time.Time
		seq int64
	}
	var due []dueRow
	for _, r := range rows {
		if live, at, seq := expiry(r); live && !at.IsZero() && at.Before(now) {
			due = append(due, dueRow{r, at, seq})
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].at.Equal(due[j].at) {
			return due[i].at.Before(due[j].at)
		}
		return due[i].seq < due[j].seq
	})
	out := make([]R, 0, min(len(due), limit))
	for _, d := range due[:min(len(due), limit)] {
		out = append(out, d.row)
	}
	return out
}

func cloneRequest(r store.ConsentRequest) store.ConsentRequest {
	r.Parents = cloneStrings(r.Parents)
	if len(r.Declines) == 0 {
		r.Declines = nil
	} else {
		r.Declines = slices.Clone(r.Declines)
	}
	return r
}

// openRequestOf returns the open request of a record; the caller holds the lock.
func (s *Store) openRequestOf(tenantID, personID string) (requestRow, bool) {
	for _, r := range s.consentRequests {
		if r.r.TenantID == tenantID && r.r.PersonID == personID && r.r.Status == store.RequestOpen {
			return r, true
		}
	}
	return requestRow{}, false
}

// OpenRequest implements store.Consents. A zero CreatedAt is now.
func (s *Store) OpenRequest(ctx context.Context, r store.ConsentRequest) (store.ConsentRequest, bool, error) {
	if err := store.ValidateConsentRequest(r); err != nil {
		return store.ConsentRequest{}, false, err
	}
	if r.Status == "" {
		r.Status = store.RequestOpen
	}
	if r.ID == "" || r.TenantID == "" || r.PersonID == "" {
		return store.ConsentRequest{}, false, fmt.Errorf("%w: consent request needs an id, a tenant and a record", store.ErrInvalid)
	}
	if r.Status != store.RequestOpen {
		return store.ConsentRequest{}, false, fmt.Errorf("%w: a new consent request is open, not %q", store.ErrInvalid, r.Status)
	}
	defer s.write(ctx)()
	if open, ok := s.openRequestOf(r.TenantID, r.PersonID); ok {
		return cloneRequest(open.r), false, nil
	}
	if err := s.checkTenant(r.TenantID, "consent request"); err != nil {
		return store.ConsentRequest{}, false, err
	}
	if _, ok := s.consentRequests[r.ID]; ok {
		return store.ConsentRequest{}, false, store.ErrAlreadyExists
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	r = cloneRequest(r)
	r.CreatedAt, r.ExpiresAt, r.ClosedAt = microUTC(r.CreatedAt), microUTC(r.ExpiresAt), microUTC(r.ClosedAt)
	for i := range r.Declines {
		r.Declines[i].At = microUTC(r.Declines[i].At)
	}
	s.consentRequests[r.ID] = requestRow{r: r, seq: s.nextSeq()}
	s.onUndo(ctx, func() { delete(s.consentRequests, r.ID) })
	return cloneRequest(r), true, nil
}

// OpenRequestOf implements store.Consents.
func (s *Store) OpenRequestOf(ctx context.Context, tenantID, personID string) (store.ConsentRequest, error) {
	if !store.ValidKeys(tenantID, personID) {
		return store.ConsentRequest{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	r, ok := s.openRequestOf(tenantID, personID)
	if !ok {
		return store.ConsentRequest{}, store.ErrNotFound
	}
	return cloneRequest(r.r), nil
}

// LockConsents implements store.Consents: a transaction holds the store's
// lock already, so there is nothing more to lock.
func (s *Store) LockConsents(context.Context, string, string) error { return nil }

// GetRequest implements store.Consents.
func (s *Store) GetRequest(ctx context.Context, tenantID, id string) (store.ConsentRequest, error) {
	if !store.ValidKeys(tenantID, id) {
		return store.ConsentRequest{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	r, ok := s.consentRequests[id]
	if !ok || r.r.TenantID != tenantID {
		return store.ConsentRequest{}, store.ErrNotFound
	}
	return cloneRequest(r.r), nil
}

// OpenRequestsFor implements store.Consents: oldest first.
func (s *Store) OpenRequestsFor(ctx context.Context, tenantID, parentRecord string) ([]store.ConsentRequest, error) {
	if !store.ValidKeys(tenantID, parentRecord) {
		return nil, nil
	}
	defer s.read(ctx)()
	var rows []requestRow
	for _, r := range s.consentRequests {
		if r.r.TenantID == tenantID && r.r.Status == store.RequestOpen && slices.Contains(r.r.Parents, parentRecord) {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].r.CreatedAt.Equal(rows[j].r.CreatedAt) {
			return rows[i].r.CreatedAt.Before(rows[j].r.CreatedAt)
		}
		return rows[i].seq < rows[j].seq
	})
	var out []store.ConsentRequest
	for _, r := range rows {
		out = append(out, cloneRequest(r.r))
	}
	return out, nil
}

// sameDecliner reports whether two declines are of one parent: the same
// roster record, or, for parents without one, the same ESIA oid.
func sameDecliner(a, b store.Decline) bool {
	if a.ParentRecord != "" || b.ParentRecord != "" {
		return a.ParentRecord == b.ParentRecord
	}
	return a.GrantorOID == b.GrantorOID
}

// AddDecline implements store.Consents: a closed request is ErrInactive, a
// second decline of the same parent ErrAlreadyExists (a parent is named by
// the roster record, or by the ESIA oid when not in the roster). A zero At
// is now.
func (s *Store) AddDecline(ctx context.Context, tenantID, id string, d store.Decline) error {
	if err := store.ValidateDecline(d); err != nil {
		return err
	}
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	if d.ParentRecord == "" && d.GrantorOID == "" {
		return fmt.Errorf("%w: a decline needs the parent's record or ESIA oid", store.ErrInvalid)
	}
	defer s.write(ctx)()
	old, ok := s.consentRequests[id]
	if !ok || old.r.TenantID != tenantID {
		return store.ErrNotFound
	}
	if old.r.Status != store.RequestOpen {
		return store.ErrInactive
	}
	for _, x := range old.r.Declines {
		if sameDecliner(x, d) {
			return store.ErrAlreadyExists
		}
	}
	if d.At.IsZero() {
		d.At = s.now()
	}
	d.At = microUTC(d.At)
	r := old
	r.r = cloneRequest(old.r)
	r.r.Declines = append(r.r.Declines, d)
	s.consentRequests[id] = r
	s.onUndo(ctx, func() { s.consentRequests[id] = old })
	return nil
}

// CloseRequest implements store.Consents.
func (s *Store) CloseRequest(ctx context.Context, tenantID, id string, status store.RequestStatus, at time.Time) error {
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	if status != store.RequestGranted && status != store.RequestExpired {
		return fmt.Errorf("%w: a consent request cannot close as %q", store.ErrInvalid, status)
	}
	defer s.write(ctx)()
	old, ok := s.consentRequests[id]
	if !ok || old.r.TenantID != tenantID {
		return store.ErrNotFound
	}
	if old.r.Status != store.RequestOpen {
		return store.ErrInactive
	}
	if at.IsZero() {
		at = s.now()
	}
	r := old
	r.r.Status, r.r.ClosedAt = status, microUTC(at)
	s.consentRequests[id] = r
	s.onUndo(ctx, func() { s.consentRequests[id] = old })
	return nil
}

// ExpireRequests implements store.Consents. An expired request closed when
// it expired (ClosedAt = ExpiresAt).
func (s *Store) ExpireRequests(ctx context.Context, now time.Time, limit int) ([]store.ConsentRequest, error) {
	now, limit = microUTC(now), rowLimit(limit)
	defer s.write(ctx)()
	due := oldestExpired(s.consentRequests, now, limit, func(r requestRow) (bool, time.Time, int64) {
		return r.r.Status == store.RequestOpen, r.r.ExpiresAt, r.seq
	})
	var out []store.ConsentRequest
	for _, old := range due {
		r := old
		r.r.Status, r.r.ClosedAt = store.RequestExpired, r.r.ExpiresAt
		s.consentRequests[r.r.ID] = r
		s.onUndo(ctx, func() { s.consentRequests[old.r.ID] = old })
		out = append(out, cloneRequest(r.r))
	}
	return out, nil
}

// evidenceDestroyedEvent is the event that records a destruction; its
// record never counts as holding personal data.
const evidenceDestroyedEvent = "destroyed"

// detailsEmpty reports whether d holds nothing (the PostgreSQL store then
// seals nothing).
func detailsEmpty(d store.EvidenceDetails) bool {
	return d.GrantorOID == "" && d.GrantorName == "" && d.SubjectName == "" && d.SubjectOID == "" &&
		d.Operator == "" && d.OperatorAddress == "" && d.Purpose == "" && len(d.DataCategories) == 0 &&
		d.TextVersion == "" && d.TextHash == "" && d.ESIASessionID == "" && d.Channel == "" && d.Note == ""
}

func cloneEvidence(e store.Evidence) store.Evidence {
	e.Details.DataCategories = cloneStrings(e.Details.DataCategories)
	return e
}

// AppendEvidence implements store.Consents. The store numbers the record;
// a zero At is now. Evidence is appended with its details: only
// DestroyEvidence destroys them.
func (s *Store) AppendEvidence(ctx context.Context, e store.Evidence) error {
	if err := store.ValidateEvidence(e); err != nil {
		return err
	}
	if e.TenantID == "" || e.PersonID == "" || e.Event == "" {
		return fmt.Errorf("%w: evidence needs a tenant, a record and an event", store.ErrInvalid)
	}
	if e.Destroyed {
		return fmt.Errorf("%w: evidence cannot be appended destroyed", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if err := s.checkTenant(e.TenantID, "evidence"); err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e = cloneEvidence(e)
	e.At = microUTC(e.At)
	s.evidenceSeq++
	e.ID = s.evidenceSeq
	s.evidence = append(s.evidence, e)
	s.onUndo(ctx, func() { s.evidence, s.evidenceSeq = s.evidence[:len(s.evidence)-1], s.evidenceSeq-1 })
	return nil
}

// EvidenceOf implements store.Consents: oldest first.
func (s *Store) EvidenceOf(ctx context.Context, tenantID, personID string) ([]store.Evidence, error) {
	if !store.ValidKeys(tenantID, personID) {
		return nil, nil
	}
	defer s.read(ctx)()
	var out []store.Evidence
	for _, e := range s.evidence {
		if e.TenantID == tenantID && e.PersonID == personID {
			out = append(out, cloneEvidence(e))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// DestroyEvidence implements store.Consents: the details go, and the
// oids of the record's consents and requests made before before. Records
// already destroyed are not counted again.
func (s *Store) DestroyEvidence(ctx context.Context, tenantID, personID string, before time.Time) (int, error) {
	if !store.ValidKeys(tenantID, personID) {
		return 0, nil
	}
	before = microUTC(before)
	defer s.write(ctx)()
	n := 0
	for i := range s.evidence {
		e := s.evidence[i]
		if e.TenantID != tenantID || e.PersonID != personID || e.Destroyed || !e.At.Before(before) {
			continue
		}
		s.evidence[i].Details, s.evidence[i].Destroyed = store.EvidenceDetails{}, true
		s.onUndo(ctx, func() { s.evidence[i] = e })
		n++
	}
	for id, old := range s.consents {
		if old.c.TenantID == tenantID && old.c.PersonID == personID && old.c.GrantedAt.Before(before) && old.c.GrantorOID != "" {
			r := old
			r.c.GrantorOID = ""
			s.consents[id] = r
			s.onUndo(ctx, func() { s.consents[id] = old })
		}
	}
	for id, old := range s.consentRequests {
		if old.r.TenantID != tenantID || old.r.PersonID != personID || !old.r.CreatedAt.Before(before) {
			continue
		}
		r := old
		r.r = cloneRequest(old.r)
		r.r.ChildOID = ""
		for i := range r.r.Declines {
			r.r.Declines[i].GrantorOID = ""
		}
		s.consentRequests[id] = r
		s.onUndo(ctx, func() { s.consentRequests[id] = old })
	}
	return n, nil
}

// ClaimWithdrawn implements store.Consents (the store's lock is the
// claim). Evidence holds personal data when its details are not empty and
// not destroyed; the record of a destruction (event "destroyed") never
// counts, so that noting one does not make the record due again.
func (s *Store) ClaimWithdrawn(ctx context.Context, tenantID string, before time.Time, limit int) ([]store.ConsentRef, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	before, limit = microUTC(before), rowLimit(limit)
	defer s.read(ctx)()
	latest := map[string]consentRow{}
	for _, r := range s.consents {
		if r.c.TenantID != tenantID {
			continue
		}
		if cur, ok := latest[r.c.PersonID]; !ok || newerConsent(r, cur) {
			latest[r.c.PersonID] = r
		}
	}
	personal := map[string]bool{}
	for _, e := range s.evidence {
		if e.TenantID == tenantID && !e.Destroyed && e.Event != evidenceDestroyedEvent && !detailsEmpty(e.Details) {
			personal[e.PersonID] = true
		}
	}
	var due []consentRow
	for person, r := range latest {
		if r.c.Status == store.ConsentRevoked && !r.c.EndedAt.IsZero() && r.c.EndedAt.Before(before) && personal[person] {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		a, b := due[i].c, due[j].c
		if !a.EndedAt.Equal(b.EndedAt) {
			return a.EndedAt.Before(b.EndedAt)
		}
		return a.PersonID < b.PersonID
	})
	var out []store.ConsentRef
	for _, r := range due[:min(len(due), limit)] {
		out = append(out, store.ConsentRef{TenantID: tenantID, PersonID: r.c.PersonID})
	}
	return out, nil
}
