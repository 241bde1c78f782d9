package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/diarybroker/broker/pkg/store"
)

// DeleteTenant implements store.TenantDeleter. The counts are named after
// the PostgreSQL store's tables, so that both report the same.
func (s *Store) DeleteTenant(ctx context.Context, id, actor string) (store.TenantDeletion, error) {
	d := store.TenantDeletion{TenantID: id, By: actor, Counts: map[string]int64{}}
	if err := store.CheckID("actor", actor); err != nil {
		return d, err
	}
	if !store.ValidKeys(id) {
		return d, store.ErrNotFound
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		t, ok := s.tenants[id]
		if !ok {
			return store.ErrNotFound
		}
		if !t.Disabled() {
			return fmt.Errorf("%w: tenant %s is not disabled; disable it first", store.ErrInvalid, id)
		}
		s.deleteTenantData(ctx, id, d.Counts)
		d.At = s.now().UTC()
		detail, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return s.AppendAudit(ctx, store.AuditEntry{At: d.At, TenantID: id, Actor: actor, Action: store.AuditDeleteTenant,
			Target: id, Detail: detail})
	})
	return d, err
}

// deleteTenantData removes everything of tenant id, counting into counts;
// the caller's transaction holds the store.
func (s *Store) deleteTenantData(ctx context.Context, id string, counts map[string]int64) {
	// Slices: kept entries in new slices, the old ones restored on undo.
	oldEvidence, oldAudit := s.evidence, s.audit
	s.evidence = slices.DeleteFunc(slices.Clone(oldEvidence), func(e store.Evidence) bool { return e.TenantID == id })
	s.audit = slices.DeleteFunc(slices.Clone(oldAudit), func(e store.AuditEntry) bool { return e.TenantID == id })
	counts["consent_evidence"] = int64(len(oldEvidence) - len(s.evidence))
	counts["audit_log"] = int64(len(oldAudit) - len(s.audit))

	// Maps: every map the deletion touches is copied for the undo.
	clientsOf := map[string]bool{}
	for cid, c := range s.clients {
		if c.TenantID == id {
			clientsOf[cid] = true
		}
	}
	oldConsents, oldRequests, oldEvents := maps.Clone(s.consents), maps.Clone(s.consentRequests), maps.Clone(s.events)
	oldAttempts, oldRecords, oldClients, oldStaff := maps.Clone(s.attempts), maps.Clone(s.attemptRecords), maps.Clone(s.clients), maps.Clone(s.staff)
	oldValues, oldTickets, oldMail := maps.Clone(s.values), maps.Clone(s.tickets), maps.Clone(s.mail)
	oldOAuth, oldByReq := map[store.OAuthKind]map[string]store.OAuthRecord{}, map[store.OAuthKind]map[string]map[string]bool{}
	for k, m := range s.oauth {
		oldOAuth[k] = maps.Clone(m)
	}
	for k, m := range s.oauthByRequest {
		oldByReq[k] = maps.Clone(m)
	}
	oldTenant := s.tenants[id]
	oldPersons, oldIndexes, oldRelations, oldLinks := s.persons[id], s.indexes[id], s.relations[id], s.links[id]

	counts["consents"] = deleteWhere(s.consents, func(r consentRow) bool { return r.c.TenantID == id })
	counts["consent_requests"] = deleteWhere(s.consentRequests, func(r requestRow) bool { return r.r.TenantID == id })
	counts["outbox_events"] = deleteWhere(s.events, func(r eventRow) bool { return r.e.TenantID == id })
	var notes int64
	for _, tk := range s.tickets {
		if tk.TenantID == id {
			notes += int64(len(tk.Notes))
		}
	}
	counts["ticket_notes"] = notes
	counts["tickets"] = deleteWhere(s.tickets, func(tk store.Ticket) bool { return tk.TenantID == id })
	counts["mail_jobs"] = deleteWhere(s.mail, func(r mailRow) bool { return r.j.TenantID == id })
	var oauthN int64
	for kind, m := range s.oauth {
		for sig, r := range m {
			if r.TenantID != id && !clientsOf[r.ClientID] {
				continue
			}
			oauthN++
			delete(m, sig)
			if byReq := s.oauthByRequest[kind][r.RequestID]; byReq != nil {
				byReq = maps.Clone(byReq)
				delete(byReq, sig)
				if len(byReq) == 0 {
					delete(s.oauthByRequest[kind], r.RequestID)
				} else {
					s.oauthByRequest[kind][r.RequestID] = byReq
				}
			}
		}
	}
	counts["oauth_records"] = oauthN
	oldGrants := maps.Clone(s.oauthGrants)
	counts["oauth_grants"] = deleteWhere(s.oauthGrants, func(g store.OAuthGrant) bool { return g.TenantID == id || clientsOf[g.ClientID] })
	var events, records int64
	for ref, a := range s.attempts {
		if a.TenantID == id {
			events += int64(len(a.Events))
			records += int64(len(s.attemptRecords[ref]))
			delete(s.attemptRecords, ref)
		}
	}
	counts["attempt_events"], counts["attempt_records"] = events, records
	counts["attempt_values"] = deleteWhere(s.values, func(v store.AttemptValues) bool { return v.TenantID == id })
	counts["attempts"] = deleteWhere(s.attempts, func(a *store.Attempt) bool { return a.TenantID == id })
	var links int64
	for _, byRecord := range s.links[id] {
		links += int64(len(byRecord))
	}
	counts["links"] = links
	counts["roster_relations"] = int64(len(s.relations[id]))
	counts["roster_persons"] = int64(len(s.persons[id]))
	delete(s.persons, id)
	delete(s.indexes, id)
	delete(s.relations, id)
	delete(s.links, id)
	counts["staff_grants"] = deleteWhere(s.staff, func(g store.StaffGrant) bool { return g.TenantID == id })
	counts["clients"] = deleteWhere(s.clients, func(c store.Client) bool { return c.TenantID == id })
	delete(s.tenants, id)
	counts["tenants"] = 1

	s.onUndo(ctx, func() {
		s.evidence, s.audit = oldEvidence, oldAudit
		s.consents, s.consentRequests, s.events = oldConsents, oldRequests, oldEvents
		s.attempts, s.attemptRecords, s.clients, s.staff, s.values = oldAttempts, oldRecords, oldClients, oldStaff, oldValues
		s.tickets = oldTickets
		s.mail = oldMail
		s.oauth, s.oauthByRequest, s.oauthGrants = oldOAuth, oldByReq, oldGrants
		s.tenants[id] = oldTenant
		restore(s.persons, id, oldPersons)
		restore(s.indexes, id, oldIndexes)
		restore(s.relations, id, oldRelations)
		restore(s.links, id, oldLinks)
	})
}

// deleteWhere deletes the entries of m that gone keeps and counts them.
func deleteWhere[K comparable, V any](m map[K]V, gone func(V) bool) int64 {
	var n int64
	for k, v := range m {
		if gone(v) {
			delete(m, k)
			n++
		}
	}
	return n
}

// restore puts a tenant's map back as it was before its deletion (nil:
// there was none).
func restore[M ~map[K]V, K comparable, V any](m map[string]M, id string, old M) {
	if old != nil {
		m[id] = old
	}
}
