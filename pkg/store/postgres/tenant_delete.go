package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// tenantDeletion lists, in the order they are deleted, every table that
// holds a tenant's data and how its rows are found ($1: the tenant id).
// Rows that refer to others go before them; the append-only audit_log and
// consent_evidence allow the deletion under broker.delete_tenant
// (migration 00070).
var tenantDeletion = []struct{ table, where string }{
	{"consent_evidence", "tenant_id = $1"},
	{"consents", "tenant_id = $1"},
	{"consent_requests", "tenant_id = $1"},
	{"outbox_events", "tenant_id = $1"},
	{"mail_jobs", "tenant_id = $1"},
	{"ticket_notes", "ticket_id IN (SELECT id FROM tickets WHERE tenant_id = $1)"},
	{"tickets", "tenant_id = $1"},
	{"oauth_records", "tenant_id = $1 OR client_id IN (SELECT id FROM clients WHERE tenant_id = $1)"},
	{"oauth_grants", "tenant_id = $1 OR client_id IN (SELECT id FROM clients WHERE tenant_id = $1)"},
	{"attempt_values", "tenant_id = $1 OR ref IN (SELECT ref FROM attempts WHERE tenant_id = $1)"},
	{"attempt_events", "ref IN (SELECT ref FROM attempts WHERE tenant_id = $1)"},
	{"attempt_records", "tenant_id = $1 OR ref IN (SELECT ref FROM attempts WHERE tenant_id = $1)"},
	{"attempts", "tenant_id = $1"},
	{"links", "tenant_id = $1"},
	{"roster_relations", "tenant_id = $1"},
	{"roster_persons", "tenant_id = $1"},
	{"staff_grants", "tenant_id = $1"},
	{"clients", "tenant_id = $1"},
	{"audit_log", "tenant_id = $1"},
	{"tenants", "id = $1"},
}

// DeleteTenant implements store.TenantDeleter in one transaction.
func (s *Store) DeleteTenant(ctx context.Context, id, actor string) (store.TenantDeletion, error) {
	d := store.TenantDeletion{TenantID: id, By: actor, Counts: map[string]int64{}}
	if err := store.CheckID("actor", actor); err != nil {
		return d, err
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		t, err := s.GetTenantForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if !t.Disabled() {
			return fmt.Errorf("%w: tenant %s is not disabled; disable it first", store.ErrInvalid, id)
		}
		q := s.q(ctx)
		if _, err := q.Exec(ctx, `SELECT set_config('broker.delete_tenant', $1, true)`, id); err != nil {
			return wrap("delete tenant", err)
		}
		for _, step := range tenantDeletion {
			tag, err := q.Exec(ctx, `DELETE FROM `+step.table+` WHERE `+step.where, id)
			if err != nil {
				return wrap("delete tenant: "+step.table, err)
			}
			d.Counts[step.table] = tag.RowsAffected()
		}
		if _, err := q.Exec(ctx, `SELECT set_config('broker.delete_tenant', '', true)`); err != nil {
			return wrap("delete tenant", err)
		}
		d.At = s.now()
		detail, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return s.AppendAudit(ctx, store.AuditEntry{At: d.At, TenantID: id, Actor: actor, Action: store.AuditDeleteTenant,
			Target: id, Detail: detail})
	})
	return d, err
}
