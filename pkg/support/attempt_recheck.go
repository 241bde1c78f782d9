package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// ErrValuesGone means a re-check was asked for an attempt whose ESIA
// values were destroyed after the tenant's period, or never kept.
var ErrValuesGone = errors.New("support: the attempt's ESIA values are not kept")

// Recheck is what the next login of the attempt's person would do with
// the roster as it is now.
type Recheck struct {
	// Linked: the next login would link Records.
	Linked bool
	// Outcome says it in Russian: «Следующий вход найдёт запись s-0012
	// (ученик, …) по СНИЛС и дате рождения», or why it still would not.
	Outcome string
	// Records are the records it would link, described (another school's
	// only by id).
	Records []string
	// Advice is what still to correct, as the attempt page's.
	Advice []string
}

// Recheck runs the matching ladder for the attempt ref (in sc) with the
// ESIA values kept from its login against the roster as it is now, and
// says what the next login would do — without linking anything or
// changing any state — and audits it. ErrValuesGone when the values are
// no longer kept. It returns the attempt page too.
func (d *AttemptDesk) Recheck(ctx context.Context, sc store.Scope, grantID, ref string) (*AttemptDetail, *Recheck, error) {
	out, a, err := d.build(ctx, sc, ref, "")
	if err != nil {
		return nil, nil, err
	}
	if out.esia == nil || a.TenantID == "" || d.Ladder == nil {
		return out, nil, ErrValuesGone
	}
	tenant, err := d.Store.GetTenant(ctx, a.TenantID)
	if err != nil {
		return nil, nil, fmt.Errorf("support: tenant: %w", err)
	}
	var x explanation
	if len(out.View.Explanation) > 0 {
		_ = json.Unmarshal(out.View.Explanation, &x)
	}
	res, err := d.Ladder.Preview(ctx, tenant, *out.esia, store.Role(x.Role), x.ManualRecord)
	if err != nil {
		return nil, nil, fmt.Errorf("support: re-check: %w", err)
	}
	r := &Recheck{Linked: res.Outcome == linking.OutcomeLinked}
	records := map[string]store.Person{}
	var ids []string
	for _, c := range res.Candidates {
		p, err := d.Store.PersonInScope(ctx, sc, a.TenantID, c.ExternalID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, nil, fmt.Errorf("support: candidate record: %w", err)
		default:
			records[c.ExternalID] = p
		}
	}
	for _, p := range res.Records {
		ids = append(ids, p.ExternalID)
		if _, ok := records[p.ExternalID]; !ok {
			if q, err := d.Store.PersonInScope(ctx, sc, a.TenantID, p.ExternalID); err == nil {
				records[p.ExternalID] = q
			}
		}
		if q, ok := records[p.ExternalID]; ok {
			r.Records = append(r.Records, recordPlace(p.ExternalID, q))
		} else {
			r.Records = append(r.Records, "запись "+p.ExternalID+" (не из ваших школ)")
		}
	}
	now := explanation{Outcome: string(res.Outcome), Rung: res.Rung, Reason: res.Reason, Candidates: res.Candidates}
	if r.Linked {
		r.Outcome = "Следующий вход найдёт " + strings.Join(r.Records, "; ")
		if t := rungTexts[res.Rung]; t != "" {
			r.Outcome += " " + t
		}
		r.Outcome += "."
	} else {
		r.Outcome = "Следующий вход снова не завершится: " + matchingLine(now) + "."
		r.Advice = adviseAttempt(now, records)
	}
	if err := d.audit(ctx, a.TenantID, grantID, ActionRecheck, a.Ref, map[string]any{"outcome": res.Outcome, "rung": res.Rung,
		"reason": res.Reason, "records": ids}); err != nil {
		return nil, nil, err
	}
	return out, r, nil
}
