package support

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// AttemptDesk is the support console's attempt page: an attempt's steps,
// its candidate records side by side with what ESIA said, the advice, a
// value shown in full on request (Unmask) and the re-check against the
// roster as it is now (Recheck). Every query is within the staff member's
// scope, in the store; everything is audited with their grant as actor.
type AttemptDesk struct {
	Store interface {
		store.Console
		store.Audit
		store.Rechecks
		store.Tenants
	}
	// Ladder is the matching ladder the logins use; Recheck previews it.
	Ladder *linking.Ladder
	Now    func() time.Time
}

// Audit actions of the attempt page besides store.AuditReadAttempt and
// ActionUnmask.
const (
	// ActionRecheck: «Проверить снова» ran the ladder for an attempt.
	ActionRecheck = "recheck_attempt"
)

// Values states of an attempt's kept ESIA values.
const (
	ValuesKept      = "kept"      // kept, sealed; re-check and «Показать» of ESIA's side work
	ValuesDestroyed = "destroyed" // destroyed after the tenant's period
	ValuesNone      = "none"      // never kept (a login that did not reach matching, or older than the feature)
)

// AttemptDetail is an attempt as its page shows it. Values are masked but
// for the field in Revealed.
type AttemptDetail struct {
	View *AttemptView
	// Location is the tenant's time zone, in which times are shown.
	Location *time.Location
	Steps    []StepLine
	// Values says whether ESIA's values are kept: ValuesKept,
	// ValuesDestroyed or ValuesNone; KeptUntil is when they will be
	// destroyed, DestroyedAt when they were.
	Values      string
	KeptUntil   time.Time
	DestroyedAt time.Time
	// Matching is the matching step in Russian: outcome, rung, reason.
	Matching string
	// Columns are the candidate records, most similar first; Fields the
	// rows of the side-by-side table.
	Columns []CandidateColumn
	Fields  []FieldRow
	// Advice says what to correct, in which record, school and class.
	Advice []string
	// Revealed is the field shown in full on this page, "" for none.
	Revealed string

	esia *linking.Person // ESIA's values, when kept
}

// StepLine is one step of an attempt.
type StepLine struct {
	At     time.Time
	When   string
	Title  string
	Detail string
}

// CandidateColumn is one candidate record.
type CandidateColumn struct {
	ExternalID string
	// InScope is false for a record outside the staff member's scope
	// (another school's): only that it exists is shown.
	InScope bool
	// Gone: the record was deleted from the roster since the login.
	Gone                bool
	Role, School, Class string
	Similarity          float64
	// Suspended says why this person's link to it is suspended, if it is.
	Suspended string
}

// FieldRow is one compared field: ESIA's value and each candidate's.
type FieldRow struct {
	Field string // linking.Field*
	Name  string // in Russian
	ESIA  Value
	Cells []Cell // one per column
	// Revealable: «Показать» may show this field in full.
	Revealable bool
}

// Cell is a candidate record's value of a field and how it compared.
type Cell struct {
	Value Value
	// Result says in Russian how the value compared with ESIA's at the
	// login: «совпадает», «отличается одной цифрой (символ 10)», …
	Result string
	// Differs: the values contradict; Missing: one side has none.
	Differs, Missing bool
	// Now says how the record's value compares today, when it changed
	// since the login ("" when it compares as it did).
	Now string
}

// Value is a value as shown: its parts, the marked ones highlighted (a
// birth date's differing part), and whether it is shown in full.
type Value struct {
	Parts []Part
	Full  bool
}

// Part is a piece of a shown value.
type Part struct {
	Text string
	Mark bool
}

// String is the value's text.
func (v Value) String() string {
	var b strings.Builder
	for _, p := range v.Parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

func plain(s string) Value {
	if s == "" {
		return Value{}
	}
	return Value{Parts: []Part{{Text: s}}}
}

// Attempt returns the attempt page of ref when the attempt is in sc
// (ErrNotFound otherwise, as for one that does not exist), with nothing
// shown in full, and audits the read.
func (d *AttemptDesk) Attempt(ctx context.Context, sc store.Scope, grantID, ref string) (*AttemptDetail, error) {
	out, a, err := d.build(ctx, sc, ref, "")
	if err != nil {
		return nil, err
	}
	if err := d.audit(ctx, a.TenantID, grantID, store.AuditReadAttempt, a.Ref, map[string]any{"outcome": a.Outcome, "role": sc.Role}); err != nil {
		return nil, err
	}
	return out, nil
}

// Unmask returns the attempt page with field (a linking.Field* name)
// shown in full — ESIA's value and those of the candidate records in sc
// — after writing an audit entry naming the attempt, the field, the
// records and the reason. A blank reason is ErrNoReason; an unknown field
// ErrBadQuery.
func (d *AttemptDesk) Unmask(ctx context.Context, sc store.Scope, grantID, ref, field, reason string) (*AttemptDetail, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return nil, ErrNoReason
	case len([]rune(reason)) > MaxReasonLength:
		return nil, fmt.Errorf("%w: the reason is longer than %d characters", ErrBadQuery, MaxReasonLength)
	case fieldNames[field] == "":
		return nil, fmt.Errorf("%w: no such field", ErrBadQuery)
	}
	out, a, err := d.build(ctx, sc, ref, field)
	if err != nil {
		return nil, err
	}
	var shown []string
	for _, c := range out.Columns {
		if c.InScope && !c.Gone {
			shown = append(shown, c.ExternalID)
		}
	}
	if err := d.audit(ctx, a.TenantID, grantID, ActionUnmask, a.Ref, map[string]any{"kind": "attempt", "field": field,
		"records": shown, "esia": out.esia != nil, "reason": reason}); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *AttemptDesk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// build reads the attempt in sc and everything its page shows, with
// reveal ("" for none) in full. It audits nothing.
func (d *AttemptDesk) build(ctx context.Context, sc store.Scope, ref, reveal string) (*AttemptDetail, store.Attempt, error) {
	a, err := d.attemptInScope(ctx, sc, ref)
	if err != nil {
		return nil, a, err
	}
	out := &AttemptDetail{View: ViewOfAttempt(a), Location: time.UTC, Revealed: reveal}
	var tenant store.Tenant
	if a.TenantID != "" {
		if tenant, err = d.Store.GetTenant(ctx, a.TenantID); err != nil {
			return nil, a, fmt.Errorf("support: tenant: %w", err)
		}
		out.Location = tenant.Location()
	}
	out.Steps = stepLines(out.View.Events, out.Location)
	if err := d.values(ctx, a, tenant, out); err != nil {
		return nil, a, err
	}
	var x explanation
	if len(out.View.Explanation) > 0 {
		_ = json.Unmarshal(out.View.Explanation, &x)
	}
	out.Matching = matchingLine(x)
	records, err := d.columns(ctx, sc, a.TenantID, x, out)
	if err != nil {
		return nil, a, err
	}
	out.Fields = fieldRows(x, records, out, reveal)
	out.Advice = adviseAttempt(x, records)
	out.Advice = append(out.Advice, outcomeAdvice(a.Outcome)...)
	return out, a, nil
}

// attemptInScope is the store's scoped read, with ErrNotFound for any
// reference code that is not one.
func (d *AttemptDesk) attemptInScope(ctx context.Context, sc store.Scope, ref string) (store.Attempt, error) {
	r, err := login.ParseRef(ref)
	if err != nil {
		return store.Attempt{}, ErrNotFound
	}
	a, err := d.Store.AttemptInScope(ctx, sc, r)
	if errors.Is(err, store.ErrNotFound) {
		return store.Attempt{}, ErrNotFound
	}
	if err != nil {
		return store.Attempt{}, fmt.Errorf("support: attempt: %w", err)
	}
	return a, nil
}

// values reads the kept ESIA values of the attempt.
func (d *AttemptDesk) values(ctx context.Context, a store.Attempt, tenant store.Tenant, out *AttemptDetail) error {
	out.Values = ValuesNone
	v, err := d.Store.GetAttemptValues(ctx, a.Ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("support: attempt values: %w", err)
	}
	if v.Data == nil {
		out.Values, out.DestroyedAt = ValuesDestroyed, v.DestroyedAt
		return nil
	}
	p, err := linking.DecodePerson(v.Data)
	if err != nil {
		return fmt.Errorf("support: attempt values: %w", err)
	}
	out.Values, out.esia = ValuesKept, &p
	out.KeptUntil = v.KeptAt.AddDate(0, 0, tenant.Retention.Effective().RecheckDays)
	return nil
}

// explanation is the matching step's detail.
type explanation struct {
	Outcome      string              `json:"outcome"`
	Rung         string              `json:"rung"`
	Reason       string              `json:"reason"`
	Role         string              `json:"role"`
	ManualRecord string              `json:"manual_record"`
	Candidates   []linking.Candidate `json:"candidates"`
}

// columns reads each candidate record within sc.
func (d *AttemptDesk) columns(ctx context.Context, sc store.Scope, tenantID string, x explanation, out *AttemptDetail) (map[string]store.Person, error) {
	records := map[string]store.Person{}
	for _, c := range x.Candidates {
		col := CandidateColumn{ExternalID: c.ExternalID, Role: roleTitle(c.Role), Similarity: c.Similarity}
		if c.Link != nil {
			col.Suspended = suspensions[c.Link.Reason]
			if col.Suspended == "" {
				col.Suspended = c.Link.Reason
			}
		}
		p, err := d.Store.PersonInScope(ctx, sc, tenantID, c.ExternalID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Another school's record, or one deleted since: which of
			// the two is only told within scope.
			if sc.Role != store.StaffSchoolAdmin {
				col.InScope, col.Gone = true, true
			}
		case err != nil:
			return nil, fmt.Errorf("support: candidate record: %w", err)
		default:
			col.InScope, col.School, col.Class = true, p.School, p.Class
			records[c.ExternalID] = p
		}
		out.Columns = append(out.Columns, col)
	}
	return records, nil
}

func (d *AttemptDesk) audit(ctx context.Context, tenantID, grantID, action, target string, detail map[string]any) error {
	return auditEntry(ctx, d.Store, d.now(), tenantID, grantID, action, target, detail)
}

// auditEntry writes one entry of a staff member's action; an action that
// cannot be audited is refused.
func auditEntry(ctx context.Context, a store.Audit, at time.Time, tenantID, grantID, action, target string, detail map[string]any) error {
	b, _ := json.Marshal(detail)
	if err := a.AppendAudit(ctx, store.AuditEntry{At: at.UTC(), TenantID: auditTenant(tenantID), Actor: StaffActor(grantID),
		Action: action, Target: target, Detail: b}); err != nil {
		return fmt.Errorf("support: audit: %w", err)
	}
	return nil
}
