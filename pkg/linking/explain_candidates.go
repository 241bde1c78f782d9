package linking

import (
	"context"
	"fmt"
	"sort"

	"github.com/diarybroker/broker/pkg/store"
)

// explain gathers the records that look like p — same SNILS, certificate,
// birth date, or the birth date with day and month swapped — and compares
// each field by field, most similar names first.
func (l *Ladder) explain(ctx context.Context, tenantID string, p Person) ([]Candidate, error) {
	type probe struct {
		kind  store.IndexKind
		value string
	}
	probes := []probe{{store.IndexSNILS, indexSNILS(p.Identity)}}
	for _, c := range p.BirthCerts {
		probes = append(probes, probe{store.IndexBirthCert, indexBirthCert(Identity{BirthCert: c})})
	}
	bd := p.Identity.BirthDate
	probes = append(probes, probe{store.IndexBirthDate, bd.String()})
	if !bd.IsZero() && bd.Day <= 12 && int(bd.Month) != bd.Day {
		swapped := store.Date{Year: bd.Year, Month: timeMonth(bd.Day), Day: int(bd.Month)}
		probes = append(probes, probe{store.IndexBirthDate, swapped.String()})
	}
	seen := map[string]bool{}
	var recs []store.Person
	for _, pr := range probes {
		if pr.value == "" {
			continue
		}
		found, err := l.Roster.FindPersons(ctx, tenantID, pr.kind, l.Index.Index(pr.kind, pr.value), 200)
		if err != nil {
			return nil, fmt.Errorf("linking: candidates: %w", err)
		}
		for _, rec := range found {
			if !seen[rec.ExternalID] {
				seen[rec.ExternalID] = true
				recs = append(recs, rec)
			}
		}
	}
	return l.describe(recs, p), nil
}

// describe compares records with p and keeps the most similar ones.
func (l *Ladder) describe(recs []store.Person, p Person) []Candidate {
	out := make([]Candidate, 0, len(recs))
	for _, rec := range recs {
		id := IdentityOfRecord(rec)
		c := Candidate{ExternalID: rec.ExternalID, Role: rec.Role, Similarity: NameSimilarity(id.Name, p.Identity.Name)}
		c.Fields = append(c.Fields, CompareSNILS(id.SNILS, p.Identity.SNILS), CompareBirthDate(id.BirthDate, p.Identity.BirthDate))
		c.Fields = append(c.Fields, CompareName(id.Name, p.Identity.Name).Fields()...)
		if !id.BirthCert.IsZero() || !p.Identity.BirthCert.IsZero() {
			c.Fields = append(c.Fields, CompareBirthCert(id.BirthCert, p.Identity.BirthCert))
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Similarity > out[j].Similarity })
	max := l.MaxCandidates
	if max <= 0 {
		max = 10
	}
	if len(out) > max {
		out = out[:max]
	}
	return out
}
