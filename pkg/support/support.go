package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// Caller is the support client asking: its id and the tenant its token is
// bound to.
type Caller struct {
	ClientID string
	TenantID string
}

// Errors callers branch on.
var (
	// ErrNotFound: no such attempt or record in the caller's tenant.
	ErrNotFound = errors.New("support: not found")
	// ErrBadQuery: the query is incomplete or malformed; the message says how.
	ErrBadQuery = errors.New("support: bad query")
)

// Service is the support desk's read side.
type Service struct {
	Attempts store.Attempts
	Roster   store.Roster
	Links    store.Links
	Audit    store.Audit
	Index    linking.Indexer
	Now      func() time.Time
}

// Event is one step of an attempt.
type Event struct {
	Step   string          `json:"step"`
	At     time.Time       `json:"at"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// AttemptView is a login attempt as support sees it.
type AttemptView struct {
	Ref       string    `json:"ref"`
	Tenant    string    `json:"tenant"`
	Client    string    `json:"client"`
	ESIAOID   string    `json:"esia_oid,omitempty"`
	Outcome   string    `json:"outcome"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Explanation is the matching step: outcome, rung, reason and the
	// candidates compared field by field (masked).
	Explanation json.RawMessage `json:"explanation,omitempty"`
	// Advice says in Russian what the school should check or fix.
	Advice []string `json:"advice,omitempty"`
	Events []Event  `json:"events"`
}

// Attempt returns the attempt with reference code ref (any case, with or
// without the dash).
func (s *Service) Attempt(ctx context.Context, c Caller, ref string) (*AttemptView, error) {
	r, err := login.ParseRef(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	a, err := s.Attempts.GetAttempt(ctx, r)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.TenantID != c.TenantID) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("support: attempt: %w", err)
	}
	v := ViewOfAttempt(a)
	if err := s.audit(ctx, c, store.AuditReadAttempt, a.Ref, map[string]any{"outcome": a.Outcome}); err != nil {
		return nil, err
	}
	return v, nil
}

// ViewOfAttempt is the attempt as support sees it: its steps, the
// explanation of its matching step and the advice for the school.
func ViewOfAttempt(a store.Attempt) *AttemptView {
	v := &AttemptView{Ref: login.FormatRef(a.Ref), Tenant: a.TenantID, Client: a.ClientID, ESIAOID: a.ESIAOID,
		Outcome: a.Outcome, Reason: a.Reason, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	for _, ev := range a.Events {
		v.Events = append(v.Events, Event{Step: ev.Step, At: ev.At, Detail: ev.Detail})
		if ev.Step == "link" {
			v.Explanation = ev.Detail
			v.Advice = advise(ev.Detail)
		}
	}
	v.Advice = append(v.Advice, outcomeAdvice(a.Outcome)...)
	return v
}

// PersonQuery searches the roster: by SNILS, by last name, first name
// (and optionally patronymic) and birth date, by birth-certificate series
// and number, or by the record's id in the diary. The first of them given
// is used.
type PersonQuery struct {
	SNILS      string
	LastName   string
	FirstName  string
	MiddleName string
	BirthDate  string
	// BirthCert is a certificate as written on it, "II-МЮ 123456" (a
	// foreign one: its number alone).
	BirthCert string
	// RecordID is the record's external id.
	RecordID string
}

// PersonView is a roster record as support sees it: masked.
type PersonView struct {
	ExternalID string `json:"person_id"`
	Role       string `json:"role"`
	School     string `json:"school,omitempty"`
	Class      string `json:"class,omitempty"`
	Name       string `json:"name"`
	SNILS      string `json:"snils,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"`
	BirthCert  string `json:"birth_cert,omitempty"`
	// Flags are data-quality findings of the import (snils_checksum, …).
	Flags []string `json:"flags,omitempty"`
	// Match is "exact" (the query's key matched) or "candidate" (same or
	// swapped birth date and a similar name).
	Match      string  `json:"match"`
	Similarity float64 `json:"name_similarity,omitempty"`
	// Fields compares the record with what was searched, field by field.
	Fields []linking.FieldExplanation `json:"fields,omitempty"`
	Links  []LinkView                 `json:"links"`
	// RecentAttempts are the newest logins of the persons linked to the
	// record and those that named it, newest first.
	RecentAttempts []AttemptSummary `json:"recent_attempts"`
}

// LinkView is a link of a record.
type LinkView struct {
	ESIAOID   string    `json:"esia_oid"`
	Rung      string    `json:"rung"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AttemptSummary is a recent login attempt of a person linked to the
// record or one that named the record (compared it as a candidate).
type AttemptSummary struct {
	Ref     string    `json:"ref"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	At      time.Time `json:"at"`
}

// SearchPersons finds roster records of the caller's tenant.
func (s *Service) SearchPersons(ctx context.Context, c Caller, q PersonQuery) ([]PersonView, error) {
	var (
		exact []store.Person
		cands []store.Person
		by    string
		query linking.Identity
	)
	switch {
	case strings.TrimSpace(q.SNILS) != "":
		snils, _, err := linking.NormaliseSNILS(q.SNILS)
		if err != nil || snils == "" {
			return nil, fmt.Errorf("%w: snils must be 11 digits", ErrBadQuery)
		}
		by, query.SNILS = "snils", snils
		if exact, err = s.Roster.FindPersons(ctx, c.TenantID, store.IndexSNILS, s.Index.Index(store.IndexSNILS, snils), 50); err != nil {
			return nil, fmt.Errorf("support: search: %w", err)
		}
	case q.LastName != "" && q.FirstName != "" && q.BirthDate != "":
		bd, err := linking.ParseBirthDate(q.BirthDate)
		if err != nil {
			return nil, fmt.Errorf("%w: birth_date must be a real date, YYYY-MM-DD", ErrBadQuery)
		}
		by = "name_birth"
		query = linking.Identity{Name: linking.FullName{Last: q.LastName, First: q.FirstName, Patronymic: q.MiddleName}, BirthDate: bd}
		if _, _, err := linking.NormaliseFullName(query.Name); err != nil {
			return nil, fmt.Errorf("%w: the name has characters a name cannot have", ErrBadQuery)
		}
		ix := linking.IndexOf(s.Index, query)
		if exact, err = s.Roster.FindPersons(ctx, c.TenantID, store.IndexNameBirth, ix.NameBirth, 50); err != nil {
			return nil, fmt.Errorf("support: search: %w", err)
		}
		if cands, err = s.candidates(ctx, c.TenantID, query); err != nil {
			return nil, err
		}
	case strings.TrimSpace(q.BirthCert) != "":
		by = "birth_cert"
		var asked bool
		for _, bc := range birthCertsOf(q.BirthCert) {
			ix := linking.IndexOf(s.Index, linking.Identity{BirthCert: bc}).BirthCert
			if ix == "" {
				continue
			}
			asked = true
			found, err := s.Roster.FindPersons(ctx, c.TenantID, store.IndexBirthCert, ix, 50)
			if err != nil {
				return nil, fmt.Errorf("support: search: %w", err)
			}
			exact = append(exact, found...)
		}
		if !asked {
			return nil, fmt.Errorf("%w: birth_cert must be a certificate's series and number, as «II-МЮ 123456»", ErrBadQuery)
		}
	case strings.TrimSpace(q.RecordID) != "":
		by = "record_id"
		id := strings.TrimSpace(q.RecordID)
		if !store.ValidKeys(id) {
			return nil, fmt.Errorf("%w: record_id is not an id a record can have", ErrBadQuery)
		}
		p, err := s.Roster.GetPerson(ctx, c.TenantID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("support: search: %w", err)
		default:
			exact = append(exact, p)
		}
	default:
		return nil, fmt.Errorf("%w: give snils, last_name, first_name and birth_date, birth_cert or record_id", ErrBadQuery)
	}
	seen := map[string]bool{}
	var out []PersonView
	add := func(p store.Person, match string) error {
		if seen[p.ExternalID] {
			return nil
		}
		seen[p.ExternalID] = true
		v, err := s.view(ctx, c.TenantID, p, match, query)
		if err == nil {
			out = append(out, v)
		}
		return err
	}
	for _, p := range exact {
		if err := add(p, "exact"); err != nil {
			return nil, err
		}
	}
	for _, p := range cands {
		if err := add(p, "candidate"); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(out))
	for _, v := range out {
		ids = append(ids, v.ExternalID)
	}
	if err := s.audit(ctx, c, "search_persons", "", map[string]any{"by": by, "records": ids}); err != nil {
		return nil, err
	}
	return out, nil
}

// candidates are records born the same day (or with day and month
// swapped) whose names look alike, most similar first.
func (s *Service) candidates(ctx context.Context, tenantID string, q linking.Identity) ([]store.Person, error) {
	found, err := similarByBirthDate(q, func(d store.Date) ([]store.Person, error) {
		return s.Roster.FindPersons(ctx, tenantID, store.IndexBirthDate, s.Index.Index(store.IndexBirthDate, d.String()), 500)
	})
	if err != nil {
		return nil, fmt.Errorf("support: candidates: %w", err)
	}
	return found, nil
}

func (s *Service) view(ctx context.Context, tenantID string, p store.Person, match string, q linking.Identity) (PersonView, error) {
	id := linking.IdentityOfRecord(p)
	v := PersonView{ExternalID: p.ExternalID, Role: string(p.Role), School: p.School, Class: p.Class,
		Name:  strings.TrimSpace(linking.MaskName(p.LastName) + " " + linking.MaskName(p.FirstName) + " " + linking.MaskName(p.MiddleName)),
		SNILS: linking.MaskSNILS(p.SNILS), BirthDate: linking.MaskBirthDate(p.BirthDate), Flags: p.Flags, Match: match,
		Links: []LinkView{}, RecentAttempts: []AttemptSummary{}}
	if !id.BirthCert.IsZero() {
		v.BirthCert = linking.MaskBirthCert(id.BirthCert)
	}
	if q.SNILS != "" {
		v.Fields = append(v.Fields, linking.CompareSNILS(id.SNILS, q.SNILS))
	}
	if !q.BirthDate.IsZero() {
		v.Similarity = linking.NameSimilarity(id.Name, q.Name)
		v.Fields = append(v.Fields, linking.CompareBirthDate(id.BirthDate, q.BirthDate))
		v.Fields = append(v.Fields, linking.CompareName(id.Name, q.Name).Fields()...)
	}
	links, err := s.Links.LinksByRecord(ctx, tenantID, p.ExternalID)
	if err != nil {
		return v, fmt.Errorf("support: links: %w", err)
	}
	// Recent attempts: those of the persons linked to the record, and those
	// that named it — above all the failed logins that compared it as a
	// candidate («дневник не найден») and never made a link.
	attempts, err := s.Attempts.AttemptsByRecord(ctx, tenantID, p.ExternalID, recentAttempts)
	if err != nil {
		return v, fmt.Errorf("support: attempts: %w", err)
	}
	for _, l := range links {
		v.Links = append(v.Links, LinkView{ESIAOID: l.ESIAOID, Rung: l.Rung, Status: string(l.Status), Reason: l.Reason, CreatedAt: l.CreatedAt})
		byOID, err := s.Attempts.AttemptsByOID(ctx, tenantID, l.ESIAOID, recentAttempts)
		if err != nil {
			return v, fmt.Errorf("support: attempts: %w", err)
		}
		attempts = append(attempts, byOID...)
	}
	sort.SliceStable(attempts, func(i, j int) bool { return attempts[i].CreatedAt.After(attempts[j].CreatedAt) })
	seen := map[string]bool{}
	for _, a := range attempts {
		if !seen[a.Ref] && len(v.RecentAttempts) < recentAttempts {
			seen[a.Ref] = true
			v.RecentAttempts = append(v.RecentAttempts, AttemptSummary{Ref: login.FormatRef(a.Ref), Outcome: a.Outcome, Reason: a.Reason, At: a.CreatedAt})
		}
	}
	return v, nil
}

// recentAttempts is how many attempts a record's view lists.
const recentAttempts = 10

// audit writes one entry; a read that cannot be audited is refused.
func (s *Service) audit(ctx context.Context, c Caller, action, target string, detail map[string]any) error {
	b, _ := json.Marshal(detail)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if err := s.Audit.AppendAudit(ctx, store.AuditEntry{At: now().UTC(), TenantID: c.TenantID, Actor: c.ClientID,
		Action: action, Target: target, Detail: b}); err != nil {
		return fmt.Errorf("support: audit: %w", err)
	}
	return nil
}
