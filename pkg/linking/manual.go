package linking

import (
	"context"
	"errors"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// MatchRecord decides whether the ESIA person p is the roster record
// externalID, for linking started from inside a diary («Привязать учётную
// запись Госуслуг»): the diary names the record of its logged-in user and
// the same checks as the ladder's decide — SNILS and birth date, birth
// certificate and birth date, or (when the tenant allows it) ФИО and birth
// date. Nothing else in the roster is considered.
func (l *Ladder) MatchRecord(ctx context.Context, tenant store.Tenant, p Person, externalID string) (Result, error) {
	norm := normaliseESIA(p)
	rec, err := l.Roster.GetPerson(ctx, tenant.ID, externalID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{Outcome: OutcomeNotFound, Reason: ReasonNoCandidate}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("linking: record: %w", err)
	}
	links, err := l.Links.LinksByRecord(ctx, tenant.ID, externalID)
	if err != nil {
		return Result{}, fmt.Errorf("linking: links: %w", err)
	}
	for _, ln := range links {
		if ln.ESIAOID == norm.OID && ln.Status != store.LinkActive && !autoSuspension(ln.Reason) {
			return Result{Outcome: OutcomeConflict, Reason: ReasonLinkSuspended, Candidates: l.describe([]store.Person{rec}, norm)}, nil
		}
	}
	id := IdentityOfRecord(rec)
	ix := IndexOf(l.Index, id)
	type rung struct {
		name string
		ok   bool
	}
	esiaIx := IndexOf(l.Index, norm.Identity)
	certMatch := false
	for _, c := range norm.BirthCerts {
		if v := indexBirthCert(Identity{BirthCert: c}); v != "" && l.Index.Index(store.IndexBirthCert, v) == ix.BirthCert {
			certMatch = true
		}
	}
	rungs := []rung{
		{RungSNILS, ix.SNILS != "" && ix.SNILS == esiaIx.SNILS},
		{RungBirthCert, ix.BirthCert != "" && certMatch},
		{RungName, tenant.Matching.AllowNameMatch && ix.NameBirth != "" && ix.NameBirth == esiaIx.NameBirth},
	}
	res := Result{Outcome: OutcomeNotFound, Reason: ReasonNoRule, Candidates: l.describe([]store.Person{rec}, norm)}
	for _, r := range rungs {
		if !r.ok {
			continue
		}
		if why := contradiction(id, norm.Identity, r.name); why != "" {
			return Result{Outcome: OutcomeConflict, Rung: r.name, Reason: why, Candidates: res.Candidates}, nil
		}
		return Result{Outcome: OutcomeLinked, Rung: r.name, Records: []store.Person{rec}, Candidates: res.Candidates}, nil
	}
	return res, nil
}
