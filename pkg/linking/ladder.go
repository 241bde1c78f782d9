package linking

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Outcome is the result of matching an ESIA person against a roster.
type Outcome string

// Outcomes of Ladder.Match.
const (
	OutcomeLinked    Outcome = "linked"
	OutcomeNotFound  Outcome = "not_found"
	OutcomeAmbiguous Outcome = "ambiguous"
	OutcomeConflict  Outcome = "conflict"
)

// Rungs of the ladder (DESIGN.md §5), in the order they are tried.
const (
	RungLink      = "link"       // an existing link of this ESIA person
	RungSNILS     = "snils"      // SNILS and birth date equal
	RungBirthCert = "birth_cert" // birth certificate and birth date equal
	RungName      = "name"       // ФИО and birth date equal, when the tenant allows it
	// RungManual marks a link asked for from inside a diary for a named
	// record (MatchRecord); the check that passed is in the attempt.
	RungManual = "manual"
)

// Reasons say, for support, why an outcome is what it is.
const (
	ReasonNoCandidate     = "no_candidate"           // nothing in the roster looks like this person
	ReasonNoRule          = "no_rule_matched"        // candidates exist but no rung matched them
	ReasonBirthDateDiffer = "birth_date_differs"     // an identifier matched but the birth date contradicts it
	ReasonSNILSDiffers    = "snils_differs"          // a certificate or name matched but both SNILS are known and differ
	ReasonDuplicate       = "duplicate_records"      // several records of the same role
	ReasonRole            = "no_record_of_role"      // records exist, none of the role the diary asked for
	ReasonNoIdentifiers   = "no_identifiers_in_esia" // ESIA gave neither SNILS, nor certificate, nor birth date
	ReasonLinkSuspended   = "link_suspended"         // the only match has a link suspended by support or the diary
)

// Reasons a link is suspended. The first two are set by the ladder when a
// re-check at login finds the data changed on either side, and are lifted
// by the ladder when the data agree again; the others are set by people
// and only people lift them.
const (
	SuspendSNILSChanged     = "snils_changed"
	SuspendBirthDateChanged = "birth_date_changed"
	SuspendBySupport        = "support"
	SuspendByDiary          = "diary"
)

func autoSuspension(reason string) bool {
	return reason == SuspendSNILSChanged || reason == SuspendBirthDateChanged
}

// Person is the ESIA side of a match.
type Person struct {
	OID      string
	ETag     string
	Identity Identity
	// BirthCerts are all birth certificates among the person's ESIA documents.
	BirthCerts []BirthCert
}

// Candidate is one roster record that was compared, with the field-by-field
// explanation support staff see. It holds masked values only.
type Candidate struct {
	ExternalID string             `json:"record"`
	Role       store.Role         `json:"role"`
	Similarity float64            `json:"name_similarity"`
	Fields     []FieldExplanation `json:"fields"`
	// Link is this ESIA person's link to the record when it is suspended:
	// why tells support what to fix.
	Link *CandidateLink `json:"link,omitempty"`
}

// CandidateLink is a candidate record's suspended link to the person.
type CandidateLink struct {
	Status store.LinkStatus `json:"status"`
	Reason string           `json:"reason,omitempty"`
}

// Result is the outcome of a match with what was compared.
type Result struct {
	Outcome Outcome
	Rung    string
	Reason  string
	// Records are the matched records of the person (one per role) when
	// the outcome is linked.
	Records    []store.Person
	Candidates []Candidate
	// Suspended are the links this match suspended because the data
	// changed since they were made; their tokens must be revoked.
	Suspended []store.Link
}

// Ladder runs the matching ladder over one tenant's roster.
type Ladder struct {
	Roster store.Roster
	Links  store.Links
	Index  Indexer
	Now    func() time.Time
	// MaxCandidates bounds the explanations kept (default 10).
	MaxCandidates int
}

// Match finds the record(s) of p. role, when not empty, keeps only records
// of that role (the diary's role parameter).
func (l *Ladder) Match(ctx context.Context, tenant store.Tenant, p Person, role store.Role) (Result, error) {
	norm := normaliseESIA(p)
	res, ok, links, err := l.byLink(ctx, tenant.ID, norm, role)
	if err != nil || ok {
		return res, err
	}
	// Records whose link a person suspended are never matched again
	// automatically.
	blocked := map[string]bool{}
	inactive := map[string]store.Link{}
	for _, ln := range links {
		if ln.Status != store.LinkActive {
			inactive[ln.ExternalID] = ln
			blocked[ln.ExternalID] = !autoSuspension(ln.Reason)
		}
	}
	suspended := res.Suspended
	res, err = l.climb(ctx, tenant, norm, role, blocked)
	res.Suspended = append(suspended, res.Suspended...)
	if res.Outcome != OutcomeLinked {
		for i, c := range res.Candidates {
			if ln, ok := inactive[c.ExternalID]; ok {
				res.Candidates[i].Link = &CandidateLink{Status: ln.Status, Reason: ln.Reason}
			}
		}
	}
	return res, err
}

// climb runs rungs 2–4; records in blocked (a link suspended by a person)
// are never matched again automatically.
func (l *Ladder) climb(ctx context.Context, tenant store.Tenant, norm Person, role store.Role, blocked map[string]bool) (Result, error) {
	type rung struct {
		name  string
		kind  store.IndexKind
		value string
		ok    bool
	}
	rungs := []rung{{RungSNILS, store.IndexSNILS, indexSNILS(norm.Identity), norm.Identity.SNILS != ""}}
	for _, c := range norm.BirthCerts {
		v := indexBirthCert(Identity{BirthCert: c})
		rungs = append(rungs, rung{RungBirthCert, store.IndexBirthCert, v, v != ""})
	}
	rungs = append(rungs, rung{RungName, store.IndexNameBirth, indexNameBirth(norm.Identity), tenant.Matching.AllowNameMatch})

	var conflict *Result
	for _, r := range rungs {
		if !r.ok || r.value == "" {
			continue
		}
		found, err := l.Roster.FindPersons(ctx, tenant.ID, r.kind, l.Index.Index(r.kind, r.value), 50)
		if err != nil {
			return Result{}, fmt.Errorf("linking: %s rung: %w", r.name, err)
		}
		var matched []store.Person
		for _, rec := range found {
			if blocked[rec.ExternalID] {
				if conflict == nil {
					conflict = &Result{Outcome: OutcomeConflict, Rung: r.name, Reason: ReasonLinkSuspended}
				}
				continue
			}
			switch why := contradiction(IdentityOfRecord(rec), norm.Identity, r.name); why {
			case "":
				matched = append(matched, rec)
			default:
				if conflict == nil {
					conflict = &Result{Outcome: OutcomeConflict, Rung: r.name, Reason: why}
				}
			}
		}
		if len(matched) == 0 {
			continue
		}
		return l.decide(ctx, tenant.ID, norm, r.name, matched, role)
	}
	res := Result{Outcome: OutcomeNotFound, Reason: ReasonNoCandidate}
	if conflict != nil {
		res = *conflict
	}
	if norm.Identity.SNILS == "" && len(norm.BirthCerts) == 0 && norm.Identity.BirthDate.IsZero() {
		res.Reason = ReasonNoIdentifiers
	}
	cands, err := l.explain(ctx, tenant.ID, norm)
	if err != nil {
		return Result{}, err
	}
	res.Candidates = cands
	if res.Outcome == OutcomeNotFound && len(cands) > 0 {
		res.Reason = ReasonNoRule
	}
	return res, nil
}

// byLink is rung 1: the links this ESIA person already has, each
// re-checked against today's data on both sides: a SNILS or birth date
// that changed (in ESIA or in the roster) suspends the link and records
// why; a link suspended that way comes back when the data agree again.
// It also returns the person's links as they are after the re-check.
func (l *Ladder) byLink(ctx context.Context, tenantID string, p Person, role store.Role) (Result, bool, []store.Link, error) {
	links, err := l.Links.LinksByOID(ctx, tenantID, p.OID)
	if err != nil {
		return Result{}, false, nil, fmt.Errorf("linking: links: %w", err)
	}
	var res Result
	for i := range links {
		ln := &links[i]
		if ln.Status != store.LinkActive && !autoSuspension(ln.Reason) {
			continue
		}
		rec, err := l.Roster.GetPerson(ctx, tenantID, ln.ExternalID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Result{}, false, nil, fmt.Errorf("linking: linked record: %w", err)
		}
		why := recheck(IdentityOfRecord(rec), p.Identity)
		checked := l.withEvidence(*ln, p)
		switch {
		case why != "" && ln.Status == store.LinkActive:
			*ln = checked
			ln.Status, ln.Reason = store.LinkSuspended, why
			if err := l.Links.UpdateLink(ctx, *ln); err != nil {
				return Result{}, false, nil, fmt.Errorf("linking: suspend link: %w", err)
			}
			res.Suspended = append(res.Suspended, *ln)
			continue
		case why != "":
			continue
		case ln.Status != store.LinkActive:
			*ln = checked
			ln.Status, ln.Reason, ln.ESIAETag = store.LinkActive, "", p.ETag
			if err := l.Links.UpdateLink(ctx, *ln); err != nil {
				return Result{}, false, nil, fmt.Errorf("linking: reactivate link: %w", err)
			}
		case checked != *ln:
			// ESIA's SNILS or birth date changed in agreement with the
			// record (or the link predates its evidence): a record
			// written later is re-checked against today's values.
			*ln = checked
			if err := l.Links.UpdateLink(ctx, *ln); err != nil {
				return Result{}, false, nil, fmt.Errorf("linking: link evidence: %w", err)
			}
		}
		if role != "" && ln.Role != role {
			continue
		}
		res.Records = append(res.Records, rec)
	}
	if len(res.Records) == 0 {
		return res, false, links, nil
	}
	res.Outcome, res.Rung = OutcomeLinked, RungLink
	return res, true, links, nil
}

// recheck compares a linked record with the ESIA person it is linked to:
// "" when they still agree, else why the link must be suspended.
func recheck(rec, esia Identity) string {
	return recheckValues(rec.SNILS, esia.SNILS, rec.BirthDate.String(), esia.BirthDate.String())
}

// recheckValues is the rule of every re-check of a link, at login (on
// normalised values) and when the record is written (on blind indexes of
// them): a SNILS, then a birth date, known on both sides and different
// suspends the link. Values missing on either side are not a change.
func recheckValues(recSNILS, esiaSNILS, recBirth, esiaBirth string) string {
	if recSNILS != "" && esiaSNILS != "" && recSNILS != esiaSNILS {
		return SuspendSNILSChanged
	}
	if recBirth != "" && esiaBirth != "" && recBirth != esiaBirth {
		return SuspendBirthDateChanged
	}
	return ""
}

// contradiction says why a record found by one identifier is nevertheless
// not this person: a birth date that differs, or (for the weaker rungs)
// two known SNILS that differ. "" means no contradiction.
func contradiction(rec, esia Identity, rung string) string {
	if rec.BirthDate.IsZero() || esia.BirthDate.IsZero() || rec.BirthDate != esia.BirthDate {
		// A day/month swap is a diagnosable typo, never a match.
		return ReasonBirthDateDiffer
	}
	if rung != RungSNILS && rec.SNILS != "" && esia.SNILS != "" && rec.SNILS != normalisedSNILS(esia.SNILS) {
		return ReasonSNILSDiffers
	}
	if rung == RungName {
		cmp := CompareName(rec.Name, esia.Name)
		if !cmp.Matches() {
			return ReasonNoRule
		}
	}
	return ""
}

func normalisedSNILS(s string) string {
	n, _, err := NormaliseSNILS(s)
	if err != nil {
		return s
	}
	return n
}

// decide turns the records one rung matched into an outcome.
func (l *Ladder) decide(ctx context.Context, tenantID string, p Person, rung string, matched []store.Person, role store.Role) (Result, error) {
	byRole := map[store.Role][]store.Person{}
	for _, rec := range matched {
		byRole[rec.Role] = append(byRole[rec.Role], rec)
	}
	res := Result{Rung: rung}
	if role != "" {
		byRole = map[store.Role][]store.Person{role: byRole[role]}
		if len(byRole[role]) == 0 {
			res.Outcome, res.Reason = OutcomeNotFound, ReasonRole
			res.Candidates = l.describe(matched, p)
			return res, nil
		}
	}
	for _, recs := range byRole {
		if len(recs) > 1 && !inSeparateSchools(recs, p) {
			res.Outcome, res.Reason = OutcomeAmbiguous, ReasonDuplicate
			res.Candidates = l.describe(matched, p)
			return res, nil
		}
		res.Records = append(res.Records, recs...)
	}
	sort.Slice(res.Records, func(i, j int) bool { return res.Records[i].ExternalID < res.Records[j].ExternalID })
	res.Outcome = OutcomeLinked
	res.Candidates = l.describe(res.Records, p)
	return res, nil
}

// inSeparateSchools reports whether several records of one role are one
// person's records in different schools — a parent with children in two
// schools, a teacher who teaches in two — rather than duplicates: every
// one carries the SNILS ESIA gave, and each names a school none of the
// others names. Records without a school, or two in the same school, are
// duplicates and the match is ambiguous.
func inSeparateSchools(recs []store.Person, p Person) bool {
	if p.Identity.SNILS == "" {
		return false
	}
	schools := make(map[string]bool, len(recs))
	for _, r := range recs {
		school := strings.ToUpper(strings.Join(strings.Fields(r.School), " "))
		if r.SNILS != p.Identity.SNILS || school == "" || schools[school] {
			return false
		}
		schools[school] = true
	}
	return true
}

// Link stores the links of a linked result (rung 1 results are stored already).
// It returns the links it created (a reactivated link is not new).
func (l *Ladder) Link(ctx context.Context, tenantID string, p Person, res Result) ([]store.Link, error) {
	if res.Outcome != OutcomeLinked || res.Rung == RungLink {
		return nil, nil
	}
	var created []store.Link
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	norm := normaliseESIA(p)
	for _, rec := range res.Records {
		ln := l.withEvidence(store.Link{TenantID: tenantID, ESIAOID: p.OID, ExternalID: rec.ExternalID,
			Role: rec.Role, Rung: res.Rung, Status: store.LinkActive, ESIAETag: p.ETag, CreatedAt: now().UTC()}, norm)
		err := l.Links.CreateLink(ctx, ln)
		if err == nil {
			created = append(created, ln)
		}
		if errors.Is(err, store.ErrAlreadyExists) {
			// A link suspended because data changed, matched again by a
			// rung: the data agree now.
			err = l.Links.UpdateLink(ctx, ln)
		}
		if err != nil {
			return created, fmt.Errorf("linking: store link: %w", err)
		}
	}
	return created, nil
}

// withEvidence returns ln with the blind indexes of the (normalised) ESIA
// person's SNILS and birth date, against which a roster record written
// later is re-checked (LinkAdmin.RecheckRecords). A value ESIA did not give
// this time leaves the one kept: missing is not a change.
func (l *Ladder) withEvidence(ln store.Link, p Person) store.Link {
	if v := l.Index.Index(store.IndexSNILS, indexSNILS(p.Identity)); v != "" {
		ln.SNILSIndex = v
	}
	if v := l.Index.Index(store.IndexBirthDate, indexBirthDate(p.Identity)); v != "" {
		ln.BirthDateIndex = v
	}
	return ln
}

// normaliseESIA normalises what ESIA said; values that do not normalise
// are dropped (and show up as missing in explanations).
func normaliseESIA(p Person) Person {
	out := p
	if s, _, err := NormaliseSNILS(p.Identity.SNILS); err == nil {
		out.Identity.SNILS = s
	} else {
		out.Identity.SNILS = ""
	}
	out.BirthCerts = nil
	for _, c := range p.BirthCerts {
		if n, _, err := NormaliseBirthCert(c); err == nil && n.Number != "" {
			out.BirthCerts = append(out.BirthCerts, n)
		}
	}
	if len(out.BirthCerts) > 0 {
		out.Identity.BirthCert = out.BirthCerts[0]
	}
	return out
}
