package login

import (
	"context"
	"fmt"
	"net/url"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// PurposeSupport marks a staff member's sign-in to the support console
// (/support).
const PurposeSupport = "support"

// supportClient is the client id the console's sign-ins are recorded under.
const supportClient = "support-console"

// StaffLogin is who signed in to the support console, as ESIA says: the
// server looks their grants up by SNILS and keeps no SNILS itself.
type StaffLogin struct {
	OID       string
	Name      string
	SNILS     string
	SessionID string
	Ref       string
}

// BeginSupport starts a staff member's ESIA sign-in to the support
// console, bound to the browser as Begin's is (and, like BeginParent's,
// recorded with its reference code when the pending login cannot be
// kept). It belongs to no tenant: the
// grants found at the callback say where the person may look.
func (s *Service) BeginSupport(ctx context.Context, extra url.Values) (Started, error) {
	state, err := esia.NewState()
	if err != nil {
		return Started{}, fmt.Errorf("login: %w", err)
	}
	p := Pending{Ref: NewRef(), Purpose: PurposeSupport, Request: oauth.AuthorizeRequest{}, StartedAt: s.cfg.Now().UTC()}
	bind, err := s.keepPending(ctx, state, p)
	if err != nil {
		return s.notKept(ctx, store.Attempt{Ref: p.Ref, ClientID: supportClient}, map[string]any{"purpose": PurposeSupport}, err)
	}
	u, err := s.cfg.ESIA.AuthURL(ctx, state, extra)
	if err != nil {
		return Started{}, fmt.Errorf("login: esia url: %w", err)
	}
	s.record(ctx, store.Attempt{Ref: p.Ref, ClientID: supportClient, Outcome: store.OutcomeInProgress}, "authorize",
		map[string]any{"purpose": PurposeSupport})
	return Started{URL: u, Ref: p.Ref, Binding: bind}, nil
}

// supportCallback finishes a staff member's sign-in: who they are at ESIA.
// An account that is not confirmed carries a SNILS nobody checked, so it
// signs no one in.
func (s *Service) supportCallback(ctx context.Context, res *Result, q url.Values) (*Result, error) {
	p := res.Pending
	a := store.Attempt{Ref: p.Ref, ClientID: supportClient}
	tok, person, failed := s.esiaAccount(ctx, s.cfg.ESIA, res, &a, q)
	if failed != nil {
		return failed, nil
	}
	trusted := tok.Identity.Trusted || person.Trusted
	s.record(ctx, a, "esia", map[string]any{"level": tok.Identity.Level, "trusted": trusted, "has_snils": person.SNILS != ""})
	if !trusted || person.SNILS == "" {
		a.Outcome, a.Reason = ReasonAccountNotConfirmed, ReasonAccountNotConfirmed
		s.record(ctx, a, "staff", map[string]any{"outcome": ReasonAccountNotConfirmed})
		res.Reason, res.Message = ReasonAccountNotConfirmed, Message{Title: "Нужна подтверждённая учётная запись",
			Text: "В консоль поддержки входят только с подтверждённой учётной записью Госуслуг, в которой указан СНИЛС. Подтвердите учётную запись и войдите снова."}
		return res, nil
	}
	res.Staff = &StaffLogin{OID: tok.Identity.OID, Name: fullName(person), SNILS: person.SNILS, SessionID: tok.Identity.SessionID, Ref: p.Ref}
	return res, nil
}
