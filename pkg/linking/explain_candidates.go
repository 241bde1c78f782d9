package linking

import (
	"context"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

// explain gathers the records that look like p and compares each field by
// field, most similar names first. It asks the cheap exact questions first
// — same SNILS, same certificate, same ФИО with the birth date or with day
// and month swapped — and only when none of them finds anyone reads the
// whole birth-date bucket (a hundred or more records on a regional roster,
// each decrypted and compared): that keeps a failed login's explanation as
// quick as a match.
func (l *Ladder) explain(ctx context.Context, tenantID string, p Person) ([]Candidate, error) {
	type probe struct {
		kind  store.IndexKind
		value string
	}
	bd := p.Identity.BirthDate
	var swapped store.Date
	if !bd.IsZero() && bd.Day <= 12 && int(bd.Month) != bd.Day {
		swapped = store.Date{Year: bd.Year, Month: timeMonth(bd.Day), Day: int(bd.Month)}
	}
	exact := []probe{{store.IndexSNILS, indexSNILS(p.Identity)}, {store.IndexNameBirth, indexNameBirth(p.Identity)}}
	for _, c := range p.BirthCerts {
		exact = append(exact, probe{store.IndexBirthCert, indexBirthCert(Identity{BirthCert: c})})
	}
	if !swapped.IsZero() {
		id := p.Identity
		id.BirthDate = swapped
		exact = append(exact, probe{store.IndexNameBirth, indexNameBirth(id)})
	}
	buckets := []probe{{store.IndexBirthDate, bd.String()}}
	if !swapped.IsZero() {
		buckets = append(buckets, probe{store.IndexBirthDate, swapped.String()})
	}
	seen := map[string]bool{}
	var recs []store.Person
	ask := func(probes []probe, limit int) error {
		for _, pr := range probes {
			if pr.value == "" {
				continue
			}
			found, err := l.Roster.FindPersons(ctx, tenantID, pr.kind, l.Index.Index(pr.kind, pr.value), limit)
			if err != nil {
				return fmt.Errorf("linking: candidates: %w", err)
			}
			for _, rec := range found {
				if !seen[rec.ExternalID] {
					seen[rec.ExternalID] = true
					recs = append(recs, rec)
				}
			}
		}
		return nil
	}
	if err := ask(exact, 20); err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		if err := ask(buckets, 200); err != nil {
			return nil, err
		}
	}
	return l.describe(recs, p), nil
}

// describe keeps the records most similar to p by name and compares those
// field by field (ranking first: the comparisons cost more than the score).
func (l *Ladder) describe(recs []store.Person, p Person) []Candidate {
	type ranked struct {
		rec store.Person
		id  Identity
		sim float64
	}
	all := make([]ranked, 0, len(recs))
	for _, rec := range recs {
		id := IdentityOfRecord(rec)
		all = append(all, ranked{rec, id, NameSimilarity(id.Name, p.Identity.Name)})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].sim > all[j].sim })
	max := l.MaxCandidates
	if max <= 0 {
		max = 10
	}
	if len(all) > max {
		all = all[:max]
	}
	out := make([]Candidate, 0, len(all))
	for _, r := range all {
		c := Candidate{ExternalID: r.rec.ExternalID, Role: r.rec.Role, Similarity: r.sim}
		c.Fields = append(c.Fields, CompareSNILS(r.id.SNILS, p.Identity.SNILS), CompareBirthDate(r.id.BirthDate, p.Identity.BirthDate))
		c.Fields = append(c.Fields, CompareName(r.id.Name, p.Identity.Name).Fields()...)
		if !r.id.BirthCert.IsZero() || !p.Identity.BirthCert.IsZero() {
			c.Fields = append(c.Fields, CompareBirthCert(r.id.BirthCert, p.Identity.BirthCert))
		}
		out = append(out, c)
	}
	return out
}
