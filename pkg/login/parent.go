package login

import (
	"context"
	"fmt"
	"net/url"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// ParentLogin is a parent who logged in for the parent's page: who they
// are, their parent records in the tenant, and the children ESIA lists for
// them (the proof of parenthood).
type ParentLogin struct {
	TenantID  string             `json:"tenant"`
	OID       string             `json:"oid"`
	Name      string             `json:"name"`
	SessionID string             `json:"session_id"`
	Records   []string           `json:"records"`
	Kids      []linking.Identity `json:"kids"`
}

// BeginParent starts a parent's ESIA login for the parent's page of a
// tenant, asking ESIA for the kid scopes; the login is bound to the
// browser as Begin's is. When the pending login cannot be kept, the
// attempt is recorded and Started carries its reference code with an error
// matching sessions.ErrUnavailable.
func (s *Service) BeginParent(ctx context.Context, tenantID string, extra url.Values) (Started, error) {
	if s.cfg.ParentESIA == nil {
		return Started{}, fmt.Errorf("login: the parent's page is not configured")
	}
	if _, err := s.cfg.Tenants.GetTenant(ctx, tenantID); err != nil {
		return Started{}, fmt.Errorf("login: tenant: %w", err)
	}
	state, err := esia.NewState()
	if err != nil {
		return Started{}, fmt.Errorf("login: %w", err)
	}
	p := Pending{Ref: NewRef(), Purpose: PurposeParent, Request: oauth.AuthorizeRequest{TenantID: tenantID}, StartedAt: s.cfg.Now().UTC()}
	bind, err := s.keepPending(ctx, state, p)
	if err != nil {
		return s.notKept(ctx, store.Attempt{Ref: p.Ref, TenantID: tenantID, ClientID: "parent-page"}, map[string]any{"purpose": PurposeParent}, err)
	}
	u, err := s.cfg.ParentESIA.AuthURL(ctx, state, extra)
	if err != nil {
		return Started{}, fmt.Errorf("login: esia url: %w", err)
	}
	s.record(ctx, store.Attempt{Ref: p.Ref, TenantID: tenantID, ClientID: "parent-page", Outcome: store.OutcomeInProgress}, "authorize",
		map[string]any{"purpose": PurposeParent})
	return Started{URL: u, Ref: p.Ref, Binding: bind}, nil
}

// parentCallback finishes a parent's login: the parent's records in the
// tenant (by the same ladder) and their ESIA kids.
func (s *Service) parentCallback(ctx context.Context, res *Result, q url.Values) (*Result, error) {
	p := res.Pending
	a := store.Attempt{Ref: p.Ref, TenantID: p.Request.TenantID, ClientID: "parent-page"}
	tok, person, failed := s.esiaAccount(ctx, s.cfg.ParentESIA, res, &a, q)
	if failed != nil {
		return failed, nil
	}
	kids, err := s.cfg.ParentESIA.Kids(ctx, tok)
	if err != nil {
		return s.esiaFailure(ctx, res, a, "esia_kids", err), nil
	}
	tenant, err := s.cfg.Tenants.GetTenant(ctx, p.Request.TenantID)
	if err != nil {
		return s.storeFailed(ctx, res, a, "tenant", fmt.Errorf("login: tenant: %w", err))
	}
	match, err := s.cfg.Ladder.Match(ctx, tenant, linkingPerson(tok.Identity.OID, person), store.RoleParent)
	if err != nil {
		return s.storeFailed(ctx, res, a, "link", fmt.Errorf("login: %w", err))
	}
	detail := map[string]any{"outcome": match.Outcome, "rung": match.Rung, "reason": match.Reason, "kids": len(kids), "candidates": match.Candidates}
	if match.Outcome != linking.OutcomeLinked {
		a.Outcome, a.Reason = string(match.Outcome), string(match.Outcome)
		s.record(ctx, a, "link", detail)
		res.Reason, res.Message = string(match.Outcome), Message{Title: "Вы не найдены среди родителей",
			Text: "Мы не нашли вашу запись родителя в электронном дневнике по данным Госуслуг. Попросите школу проверить, что вы внесены в дневник как родитель и что ваши данные (СНИЛС, ФИО, дата рождения) совпадают с Госуслугами."}
		return res, nil
	}
	created, err := s.cfg.Ladder.Link(ctx, tenant.ID, linkingPerson(tok.Identity.OID, person), match)
	if err != nil {
		return s.storeFailed(ctx, res, a, "link", fmt.Errorf("login: %w", err))
	}
	for _, l := range created {
		s.linkEvent(ctx, "link.created", l)
	}
	pl := &ParentLogin{TenantID: tenant.ID, OID: tok.Identity.OID, Name: fullName(person), SessionID: tok.Identity.SessionID}
	for _, r := range match.Records {
		pl.Records = append(pl.Records, r.ExternalID)
	}
	for _, k := range kids {
		id := linking.Identity{Name: linking.FullName{Last: k.LastName, First: k.FirstName, Patronymic: k.MiddleName}, BirthDate: k.BirthDate, SNILS: k.SNILS}
		for _, d := range k.Documents {
			switch linking.BirthCertType(d.Type) {
			case linking.BirthCertRF, linking.BirthCertForeign, linking.BirthCertOld:
				id.BirthCert = linking.BirthCert{Type: linking.BirthCertType(d.Type), Series: d.Series, Number: d.Number}
			}
		}
		pl.Kids = append(pl.Kids, id)
	}
	a.Outcome = "parent"
	s.record(ctx, a, "link", detail)
	res.Parent = pl
	return res, nil
}
