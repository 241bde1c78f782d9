package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// RecordsStore is what the console's record side needs from the store:
// the scoped queries (store.RecordConsole, store.Console) that decide
// whether a record is seen at all, and the reads of a record's page once
// it is.
type RecordsStore interface {
	store.RecordConsole
	store.Console
	store.Roster
	store.Consents
	store.Attempts
	store.Tenants
	store.Audit
}

// Records is the support console's side of roster records: the search,
// a record's page and the actions on it, each within the staff member's
// scope (filtered by the store) and audited with their grant as the actor.
type Records struct {
	Store RecordsStore
	Index linking.Indexer
	// Links changes links as the API does (tokens revoked, webhook sent);
	// its Links are replaced by the scoped ones for every call.
	Links linking.LinkAdmin
	// Consent re-opens requests and exports the evidence.
	Consent *consent.Service
	Now     func() time.Time
}

// RecordQuery is the console's search: Text is one box that takes a
// reference code, a SNILS, a record id or a birth-certificate number (every
// reading that fits is tried); the name and birth date fields search by ФИО
// and birth date.
type RecordQuery struct {
	Text                                       string
	LastName, FirstName, MiddleName, BirthDate string
}

// RecordHit is a record a search found and how.
type RecordHit struct {
	Record store.Person
	// By: "id", "snils", "birth_cert", "name_birth" (exact), "similar_name"
	// (same or swapped birth date, a name that looks alike), "attempt"
	// (named by the attempt of the reference code).
	By string
}

// SearchResult is what a search found within the scope.
type SearchResult struct {
	Attempt *AttemptView // the attempt of the reference code, when there is one
	Records []RecordHit
}

// Search finds records (and the attempt of a reference code) within sc.
// A query that fits no reading is ErrBadQuery; finding nothing is an empty
// result. The search is audited (search_records) with the ways tried and
// the records found, never the query.
func (r *Records) Search(ctx context.Context, sc store.Scope, grantID string, q RecordQuery) (*SearchResult, error) {
	res := &SearchResult{}
	seen := map[string]bool{}
	var by []string
	add := func(how string, ps ...store.Person) {
		for _, p := range ps {
			if k := p.TenantID + "/" + p.ExternalID; !seen[k] {
				seen[k] = true
				res.Records = append(res.Records, RecordHit{Record: p, By: how})
			}
		}
	}
	find := func(how string, kind store.IndexKind, normalised string) error {
		if normalised == "" {
			return nil
		}
		by = append(by, how)
		ps, err := r.Store.FindRecordsInScope(ctx, sc, kind, r.Index.Index(kind, normalised), 0)
		if err != nil {
			return fmt.Errorf("support: search: %w", err)
		}
		add(how, ps...)
		return nil
	}
	text := strings.TrimSpace(q.Text)
	if text != "" {
		if ref, err := login.ParseRef(text); err == nil {
			by = append(by, "ref")
			a, err := r.Store.AttemptInScope(ctx, sc, ref)
			switch {
			case err == nil:
				res.Attempt = ViewOfAttempt(a)
				if err := r.audit(ctx, sc, grantID, a.TenantID, store.AuditReadAttempt, a.Ref, map[string]any{"outcome": a.Outcome}); err != nil {
					return nil, err
				}
				inScope := map[string]store.Person{}
				for _, id := range namedRecords(a) {
					if p, err := r.Store.PersonInScope(ctx, sc, a.TenantID, id); err == nil {
						add("attempt", p)
						inScope[id] = p
					}
				}
				// The advice of the attempt page, which names only the
				// records in sc (ViewOfAttempt's is the API's, about the
				// first candidate whatever its school).
				var x explanation
				if len(res.Attempt.Explanation) > 0 {
					_ = json.Unmarshal(res.Attempt.Explanation, &x)
				}
				res.Attempt.Advice = adviseAttempt(x, inScope)
				res.Attempt.Advice = append(res.Attempt.Advice, outcomeAdvice(a.Outcome)...)
			case !errors.Is(err, store.ErrNotFound):
				return nil, fmt.Errorf("support: search: %w", err)
			}
		}
		if store.CheckID("id", text) == nil {
			by = append(by, "id")
			ps, err := r.Store.RecordsByIDInScope(ctx, sc, text)
			if err != nil {
				return nil, fmt.Errorf("support: search: %w", err)
			}
			add("id", ps...)
		}
		if snils, _, err := linking.NormaliseSNILS(text); err == nil && snils != "" {
			if err := find("snils", store.IndexSNILS, snils); err != nil {
				return nil, err
			}
		}
		for _, c := range birthCertsOf(text) {
			if err := find("birth_cert", store.IndexBirthCert, linking.IndexOf(identityIndex{}, linking.Identity{BirthCert: c}).BirthCert); err != nil {
				return nil, err
			}
		}
	}
	if q.LastName != "" || q.FirstName != "" || q.BirthDate != "" {
		if strings.TrimSpace(q.LastName) == "" || strings.TrimSpace(q.FirstName) == "" || strings.TrimSpace(q.BirthDate) == "" {
			return nil, fmt.Errorf("%w: фамилия, имя и дата рождения нужны вместе", ErrBadQuery)
		}
		bd, err := linking.ParseBirthDate(q.BirthDate)
		if err != nil {
			return nil, fmt.Errorf("%w: дата рождения — дд.мм.гггг", ErrBadQuery)
		}
		id := linking.Identity{Name: linking.FullName{Last: q.LastName, First: q.FirstName, Patronymic: q.MiddleName}, BirthDate: bd}
		if _, _, err := linking.NormaliseFullName(id.Name); err != nil {
			return nil, fmt.Errorf("%w: в имени есть знаки, которых в имени не бывает", ErrBadQuery)
		}
		if err := find("name_birth", store.IndexNameBirth, linking.IndexOf(identityIndex{}, id).NameBirth); err != nil {
			return nil, err
		}
		if err := r.similar(ctx, sc, id, add); err != nil {
			return nil, err
		}
		by = append(by, "similar_name")
	}
	if len(by) == 0 {
		return nil, fmt.Errorf("%w: введите код обращения, СНИЛС, номер записи или свидетельства о рождении, или ФИО и дату рождения", ErrBadQuery)
	}
	ids := make([]string, 0, len(res.Records))
	for _, h := range res.Records {
		ids = append(ids, h.Record.TenantID+"/"+h.Record.ExternalID)
	}
	if err := r.audit(ctx, sc, grantID, sc.TenantID, "search_records", "", map[string]any{"by": by, "records": ids}); err != nil {
		return nil, err
	}
	return res, nil
}

// identityIndex makes linking.IndexOf return the normalised strings it
// would index, for find to index with the real key.
type identityIndex struct{}

func (identityIndex) Index(_ store.IndexKind, normalised string) string { return normalised }

// similar adds the records born the same day (or with day and month
// swapped) whose names look alike, as the API's search does.
func (r *Records) similar(ctx context.Context, sc store.Scope, q linking.Identity, add func(string, ...store.Person)) error {
	found, err := similarByBirthDate(q, func(d store.Date) ([]store.Person, error) {
		return r.Store.FindRecordsInScope(ctx, sc, store.IndexBirthDate, r.Index.Index(store.IndexBirthDate, d.String()), 0)
	})
	if err != nil {
		return fmt.Errorf("support: search: %w", err)
	}
	add("similar_name", found...)
	return nil
}

// similarByBirthDate returns the records find answers for q's birth date
// (and for it with day and month swapped) whose names look like q's: the
// ten most similar, most similar first.
func similarByBirthDate(q linking.Identity, find func(store.Date) ([]store.Person, error)) ([]store.Person, error) {
	dates := []store.Date{q.BirthDate}
	if bd := q.BirthDate; bd.Day <= 12 && int(bd.Month) != bd.Day {
		dates = append(dates, store.Date{Year: bd.Year, Month: time.Month(bd.Day), Day: int(bd.Month)})
	}
	type scored struct {
		p store.Person
		s float64
	}
	var all []scored
	for _, d := range dates {
		found, err := find(d)
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			if sim := linking.NameSimilarity(linking.IdentityOfRecord(p).Name, q.Name); sim >= 0.75 {
				all = append(all, scored{p, sim})
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].s > all[j].s })
	var out []store.Person
	for i := 0; i < len(all) && i < 10; i++ {
		out = append(out, all[i].p)
	}
	return out, nil
}

// birthCertsOf reads a birth certificate from the search box: a Russian
// one as a series and a number ("IV-МЮ 512345", "IV-МЮ № 512345"), and the
// whole text as a foreign one's number when it has a digit.
func birthCertsOf(text string) []linking.BirthCert {
	var out []linking.BirthCert
	t := strings.TrimSpace(text)
	i := len(t)
	for i > 0 && t[i-1] >= '0' && t[i-1] <= '9' {
		i--
	}
	if number := t[i:]; len(number) >= 6 && len(number) <= 7 {
		series := strings.TrimRight(strings.TrimSpace(t[:i]), " №-")
		if series != "" {
			out = append(out, linking.BirthCert{Type: linking.BirthCertRF, Series: series, Number: number})
		}
	}
	if strings.IndexFunc(t, unicode.IsDigit) >= 0 {
		out = append(out, linking.BirthCert{Type: linking.BirthCertForeign, Number: t})
	}
	return out
}

// namedRecords are the records an attempt's events named.
func namedRecords(a store.Attempt) []string {
	seen := map[string]bool{}
	var out []string
	for _, ev := range a.Events {
		for _, id := range store.RecordsNamedIn(ev.Detail) {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// RecordView is everything the console's record page shows, personal data
// unmasked: the page masks it.
type RecordView struct {
	Record   store.Person
	Links    []store.Link
	Consents []store.Consent
	Evidence []store.Evidence
	Request  *store.ConsentRequest // the open parental request, if any
	Family   []Relative
	Attempts []store.Attempt // newest first, no events
	Events   []store.OutboxEvent
}

// Relative is a parent or child of the record in the roster; Record is
// nil when that record is outside the scope (another school's).
type Relative struct {
	ExternalID string
	Kind       string // mother, father, guardian, other
	IsParent   bool   // the relative is the record's parent (else its child)
	Record     *store.Person
}

// recentAttempts and recentEvents bound a record page's lists.
const recentEvents = 20

// Record returns the record tenantID/id with everything its page shows,
// when it is in sc; ErrNotFound otherwise, as for one that does not exist.
// The read is audited (read_record).
func (r *Records) Record(ctx context.Context, sc store.Scope, grantID, tenantID, id string) (*RecordView, error) {
	p, err := r.Store.PersonInScope(ctx, sc, tenantID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("support: record: %w", err)
	}
	v := &RecordView{Record: p}
	if v.Links, err = r.Store.LinksInScope(ctx, sc, tenantID, id); err != nil {
		return nil, fmt.Errorf("support: record links: %w", err)
	}
	if v.Events, err = r.Store.RecordEventsInScope(ctx, sc, tenantID, id, recentEvents); err != nil {
		return nil, fmt.Errorf("support: record events: %w", err)
	}
	if v.Consents, err = r.Store.ConsentsOf(ctx, tenantID, id); err != nil {
		return nil, fmt.Errorf("support: record consents: %w", err)
	}
	if v.Evidence, err = r.Store.EvidenceOf(ctx, tenantID, id); err != nil {
		return nil, fmt.Errorf("support: record evidence: %w", err)
	}
	if req, err := r.Store.OpenRequestOf(ctx, tenantID, id); err == nil {
		v.Request = &req
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("support: record request: %w", err)
	}
	rels, err := r.Store.RelationsOf(ctx, tenantID, id)
	if err != nil {
		return nil, fmt.Errorf("support: record relations: %w", err)
	}
	for _, rel := range rels {
		rv := Relative{Kind: rel.Kind, IsParent: rel.Student == id, ExternalID: rel.Student}
		if rv.IsParent {
			rv.ExternalID = rel.Parent
		}
		if q, err := r.Store.PersonInScope(ctx, sc, tenantID, rv.ExternalID); err == nil {
			rv.Record = &q
		}
		v.Family = append(v.Family, rv)
	}
	if v.Attempts, err = r.attempts(ctx, tenantID, id, v.Links); err != nil {
		return nil, err
	}
	if err := r.audit(ctx, sc, grantID, tenantID, "read_record", id, map[string]any{"role": sc.Role}); err != nil {
		return nil, err
	}
	return v, nil
}

// attempts are the newest logins that named the record (the failed ones
// that compared it as a candidate among them) and those of the persons
// linked to it, newest first.
func (r *Records) attempts(ctx context.Context, tenantID, id string, links []store.Link) ([]store.Attempt, error) {
	all, err := r.Store.AttemptsByRecord(ctx, tenantID, id, recentAttempts)
	if err != nil {
		return nil, fmt.Errorf("support: record attempts: %w", err)
	}
	for _, l := range links {
		byOID, err := r.Store.AttemptsByOID(ctx, tenantID, l.ESIAOID, recentAttempts)
		if err != nil {
			return nil, fmt.Errorf("support: record attempts: %w", err)
		}
		all = append(all, byOID...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].CreatedAt.After(all[j].CreatedAt) })
	seen := map[string]bool{}
	var out []store.Attempt
	for _, a := range all {
		if !seen[a.Ref] && len(out) < recentAttempts {
			seen[a.Ref] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// LinkAction is a change of one link from the console.
type LinkAction string

// The link actions.
const (
	LinkSuspend LinkAction = "suspend_link"
	LinkResume  LinkAction = "resume_link"
	LinkRemove  LinkAction = "unlink"
)

// ChangeLink suspends, resumes or removes the link of record tenantID/id
// to the ESIA person oid, through linking.LinkAdmin as the API does
// (tokens revoked, webhook sent), reading the record's links through the
// scoped store: a record outside sc, or an oid that is not linked to this
// record, is ErrNotFound. The change is audited with the reason.
func (r *Records) ChangeLink(ctx context.Context, sc store.Scope, grantID, tenantID, id, oid string, action LinkAction, reason string) ([]store.Link, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	if oid == "" {
		return nil, ErrNotFound
	}
	admin := r.Links
	admin.Links = scopedLinks{Links: admin.Links, rc: r.Store, sc: sc}
	var links []store.Link
	switch action {
	case LinkSuspend:
		links, err = admin.Suspend(ctx, tenantID, id, oid, linking.SuspendBySupport)
	case LinkResume:
		links, err = admin.Resume(ctx, tenantID, id, oid)
	case LinkRemove:
		links, err = admin.Unlink(ctx, tenantID, id, oid)
	default:
		return nil, fmt.Errorf("%w: unknown action", ErrBadQuery)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("support: %s: %w", action, err)
	}
	if err := r.audit(ctx, sc, grantID, tenantID, string(action), id, map[string]any{"esia_oid": oid, "reason": reason}); err != nil {
		return nil, err
	}
	return links, nil
}

// scopedLinks reads a record's links only through the scoped query: the
// link admin cannot reach a link of a record outside the scope.
type scopedLinks struct {
	store.Links
	rc interface {
		LinksInScope(ctx context.Context, sc store.Scope, tenantID, externalID string) ([]store.Link, error)
	}
	sc store.Scope
}

func (l scopedLinks) LinksByRecord(ctx context.Context, tenantID, externalID string) ([]store.Link, error) {
	return l.rc.LinksInScope(ctx, l.sc, tenantID, externalID)
}

// ReopenConsent asks the parents of record tenantID/id again
// (consent.Service.Reopen) when the record is in sc; ErrNotFound
// otherwise. It returns the request and whether it was opened now, and
// audits the action with the reason.
func (r *Records) ReopenConsent(ctx context.Context, sc store.Scope, grantID, tenantID, id, reason string) (store.ConsentRequest, bool, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return store.ConsentRequest{}, false, err
	}
	if _, err := r.Store.PersonInScope(ctx, sc, tenantID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.ConsentRequest{}, false, ErrNotFound
		}
		return store.ConsentRequest{}, false, fmt.Errorf("support: reopen: %w", err)
	}
	t, err := r.Store.GetTenant(ctx, tenantID)
	if err != nil {
		return store.ConsentRequest{}, false, fmt.Errorf("support: reopen: %w", err)
	}
	req, created, err := r.Consent.Reopen(ctx, t, id)
	if err != nil {
		return store.ConsentRequest{}, false, err
	}
	if err := r.audit(ctx, sc, grantID, tenantID, "reopen_consent_request", id,
		map[string]any{"request_id": req.ID, "created": created, "reason": reason}); err != nil {
		return store.ConsentRequest{}, false, err
	}
	return req, created, nil
}

// ExportConsents is the 152-ФЗ export of record tenantID/id's consents and
// evidence (consent.Service.Export, as `broker consents export`) when the
// record is in sc; ErrNotFound otherwise. Audited with the reason.
func (r *Records) ExportConsents(ctx context.Context, sc store.Scope, grantID, tenantID, id, reason string) (consent.Export, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return consent.Export{}, err
	}
	if _, err := r.Store.PersonInScope(ctx, sc, tenantID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return consent.Export{}, ErrNotFound
		}
		return consent.Export{}, fmt.Errorf("support: export: %w", err)
	}
	exp, err := r.Consent.Export(ctx, tenantID, id)
	if err != nil {
		return consent.Export{}, fmt.Errorf("support: export: %w", err)
	}
	if err := r.audit(ctx, sc, grantID, tenantID, "export_consents", id,
		map[string]any{"consents": len(exp.Consents), "evidence": len(exp.Evidence), "reason": reason}); err != nil {
		return consent.Export{}, err
	}
	return exp, nil
}

// checkReason trims a reason and refuses a blank one (ErrNoReason) or one
// the audit log cannot keep (ErrBadQuery).
func checkReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", ErrNoReason
	}
	if len([]rune(reason)) > MaxReasonLength || store.CheckMultiline("reason", reason, 4*MaxReasonLength) != nil {
		return "", fmt.Errorf("%w: причина длиннее %d знаков или с недопустимыми знаками", ErrBadQuery, MaxReasonLength)
	}
	return reason, nil
}

// audit writes one entry with the staff member's grant as the actor, in
// tenantID (the operators' audit tenant for none); an action that cannot
// be audited is refused.
func (r *Records) audit(ctx context.Context, sc store.Scope, grantID, tenantID, action, target string, detail map[string]any) error {
	if tenantID == "" {
		tenantID = OperatorAuditTenant
	}
	b, _ := json.Marshal(detail)
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if err := r.Store.AppendAudit(ctx, store.AuditEntry{At: now().UTC(), TenantID: tenantID, Actor: StaffActor(grantID),
		Action: action, Target: target, Detail: b}); err != nil {
		return fmt.Errorf("support: audit: %w", err)
	}
	return nil
}

// RecordFields are the fields of a record page that «Показать» shows in
// full, one at a time (UnmaskRecord checks and audits it).
var RecordFields = map[string]bool{"name": true, "birth_date": true, "snils": true, "birth_cert": true, "contacts": true}

// UnmaskRecord checks and audits showing field of record tenantID/id in
// full: a reason is required (ErrNoReason; a longer one than
// MaxReasonLength is ErrBadQuery), the field must be one of RecordFields
// (ErrBadQuery) and the record in sc (ErrNotFound, as for one that does
// not exist). The audit entry (ActionUnmask, kind record) names the
// record, the field and the reason, and is written before the caller
// renders the page with the field revealed.
func (r *Records) UnmaskRecord(ctx context.Context, sc store.Scope, grantID, tenantID, id, field, reason string) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	if !RecordFields[field] {
		return fmt.Errorf("%w: no such field", ErrBadQuery)
	}
	if _, err := r.Store.PersonInScope(ctx, sc, tenantID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		return fmt.Errorf("support: unmask: %w", err)
	}
	return r.audit(ctx, sc, grantID, tenantID, ActionUnmask, id, map[string]any{"kind": "record", "field": field, "reason": reason})
}
