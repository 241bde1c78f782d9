package linking

import (
	"context"
	"errors"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// TokenRevoker revokes the broker tokens a tenant holds for a person.
type TokenRevoker interface {
	RevokeSubject(ctx context.Context, tenantID, subject string) (int, error)
}

// Subjects names a person to a tenant (the pairwise sub).
type Subjects interface {
	Subject(tenantID, oid string) string
}

// LinkAdmin unlinks and suspends links on behalf of a diary (API) or of
// support staff. Either way the broker tokens the tenant holds for the
// person are revoked at once: the diary must not keep a session for a
// link that no longer stands.
type LinkAdmin struct {
	Links    store.Links
	Tokens   TokenRevoker
	Subjects Subjects
	// Events, when set, receives link.removed and link.suspended for the
	// tenant's webhook.
	Events LinkEvents
}

// LinkEvents reports link changes to the tenant (the outbox).
type LinkEvents interface {
	LinkEvent(ctx context.Context, typ string, l store.Link) error
}

// Unlink removes the links of a roster record — to one ESIA person when oid
// is set, to all otherwise — and revokes those persons' tokens. It returns
// the links removed; none is ErrNotFound.
func (a *LinkAdmin) Unlink(ctx context.Context, tenantID, externalID, oid string) ([]store.Link, error) {
	links, err := a.linksOf(ctx, tenantID, externalID, oid)
	if err != nil {
		return nil, err
	}
	return links, a.remove(ctx, tenantID, links)
}

// UnlinkRecords removes every link of the records externalIDs, as Unlink
// does, before the records are deleted (a roster delete): tokens revoked,
// link.removed sent. It returns the links removed; records without links
// are no error.
func (a *LinkAdmin) UnlinkRecords(ctx context.Context, tenantID string, externalIDs []string) ([]store.Link, error) {
	links, err := a.Links.LinksByRecords(ctx, tenantID, externalIDs)
	if err != nil {
		return nil, fmt.Errorf("linking: links: %w", err)
	}
	return links, a.remove(ctx, tenantID, links)
}

// remove deletes links, then revokes their persons' tokens, then sends
// link.removed. Every link row goes before any person's codes are
// revoked: a code's exchange takes its link's row before the code's
// (store.OAuthRequirement), so a transaction that removed several links of
// one person one by one — revoking between them — could deadlock with it.
func (a *LinkAdmin) remove(ctx context.Context, tenantID string, links []store.Link) error {
	for _, l := range links {
		if err := a.Links.DeleteLink(ctx, tenantID, l.ESIAOID, l.ExternalID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("linking: unlink: %w", err)
		}
	}
	if err := a.revokeAll(ctx, tenantID, links); err != nil {
		return err
	}
	for _, l := range links {
		if err := a.event(ctx, "link.removed", l); err != nil {
			return err
		}
	}
	return nil
}

func (a *LinkAdmin) event(ctx context.Context, typ string, l store.Link) error {
	if a.Events == nil {
		return nil
	}
	return a.Events.LinkEvent(ctx, typ, l)
}

// Suspend suspends the links of a record (reason SuspendBySupport or
// SuspendByDiary): the ladder will not use or recreate them until a person
// lifts the suspension with Resume.
func (a *LinkAdmin) Suspend(ctx context.Context, tenantID, externalID, oid, reason string) ([]store.Link, error) {
	links, err := a.linksOf(ctx, tenantID, externalID, oid)
	if err != nil {
		return nil, err
	}
	for i := range links {
		links[i].Reason = reason
	}
	return links, a.suspend(ctx, tenantID, links)
}

// RecheckRecords re-checks the active links of roster records just
// written (an upsert through the API or an import) with the rules of the
// re-check at login: a SNILS or birth date of the record that differs from
// the one ESIA gave when the link was last checked (the link's evidence
// indexes; a value missing on either side is no change) suspends the link
// with reason SuspendSNILSChanged or SuspendBirthDateChanged, revokes the
// person's tokens and sends link.suspended. The person's next login lifts
// the suspension when the data agree again. It returns the links suspended.
func (a *LinkAdmin) RecheckRecords(ctx context.Context, tenantID string, ps []store.Person) ([]store.Link, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ps))
	byID := make(map[string]store.PersonIndex, len(ps))
	for i, p := range ps {
		ids[i], byID[p.ExternalID] = p.ExternalID, p.Index
	}
	links, err := a.Links.LinksByRecords(ctx, tenantID, ids)
	if err != nil {
		return nil, fmt.Errorf("linking: links: %w", err)
	}
	var changed []store.Link
	for _, l := range links {
		ix := byID[l.ExternalID]
		if why := recheckValues(ix.SNILS, l.SNILSIndex, ix.BirthDate, l.BirthDateIndex); why != "" && l.Status == store.LinkActive {
			l.Reason = why
			changed = append(changed, l)
		}
	}
	return changed, a.suspend(ctx, tenantID, changed)
}

// suspend suspends links with the reasons they carry: every link row
// first, then the persons' tokens, then link.suspended (see remove).
func (a *LinkAdmin) suspend(ctx context.Context, tenantID string, links []store.Link) error {
	for i := range links {
		links[i].Status = store.LinkSuspended
		if err := a.Links.UpdateLink(ctx, links[i]); err != nil {
			return fmt.Errorf("linking: suspend: %w", err)
		}
	}
	if err := a.revokeAll(ctx, tenantID, links); err != nil {
		return err
	}
	for i := range links {
		if err := a.event(ctx, "link.suspended", links[i]); err != nil {
			return err
		}
	}
	return nil
}

// revokeAll revokes the tokens of the persons of links, each once.
func (a *LinkAdmin) revokeAll(ctx context.Context, tenantID string, links []store.Link) error {
	done := make(map[string]bool, len(links))
	for _, l := range links {
		if done[l.ESIAOID] {
			continue
		}
		done[l.ESIAOID] = true
		if err := a.revoke(ctx, tenantID, l.ESIAOID); err != nil {
			return err
		}
	}
	return nil
}

// Resume makes suspended links active again.
func (a *LinkAdmin) Resume(ctx context.Context, tenantID, externalID, oid string) ([]store.Link, error) {
	links, err := a.linksOf(ctx, tenantID, externalID, oid)
	if err != nil {
		return nil, err
	}
	for i := range links {
		links[i].Status, links[i].Reason = store.LinkActive, ""
		if err := a.Links.UpdateLink(ctx, links[i]); err != nil {
			return nil, fmt.Errorf("linking: resume: %w", err)
		}
	}
	return links, nil
}

func (a *LinkAdmin) linksOf(ctx context.Context, tenantID, externalID, oid string) ([]store.Link, error) {
	all, err := a.Links.LinksByRecord(ctx, tenantID, externalID)
	if err != nil {
		return nil, fmt.Errorf("linking: links: %w", err)
	}
	var out []store.Link
	for _, l := range all {
		if oid == "" || l.ESIAOID == oid {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, store.ErrNotFound
	}
	return out, nil
}

func (a *LinkAdmin) revoke(ctx context.Context, tenantID, oid string) error {
	if a.Tokens == nil || a.Subjects == nil {
		return nil
	}
	if _, err := a.Tokens.RevokeSubject(ctx, tenantID, a.Subjects.Subject(tenantID, oid)); err != nil {
		return fmt.Errorf("linking: revoke tokens: %w", err)
	}
	return nil
}
