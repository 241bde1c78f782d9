package postgres

import (
	"context"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// personScope is the condition that puts a roster_persons row (alias p)
// in a scope given as $1 role, $2 tenant, $3 schools: the filter of every
// console query on records, so that a record outside the scope is never
// read.
const personScope = `($1 = 'operator' OR p.tenant_id = $2) AND ($1 <> 'school_admin' OR p.school = ANY($3))`

func scopeArgs(sc store.Scope) []any {
	return []any{string(sc.Role), sc.TenantID, nonNil(sc.Schools)}
}

func (s *Store) scopedPersons(ctx context.Context, what, where string, args ...any) ([]store.Person, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+personColumns+` FROM roster_persons p WHERE `+personScope+` AND `+where+`
		ORDER BY p.tenant_id, p.external_id LIMIT `+fmt.Sprint(store.MaxConsoleResults), args...)
	if err != nil {
		return nil, wrap(what, err)
	}
	defer rows.Close()
	var out []store.Person
	for rows.Next() {
		p, err := s.scanPerson(rows)
		if err != nil {
			return nil, wrap(what, err)
		}
		out = append(out, p)
	}
	return out, wrap(what, rows.Err())
}

// FindRecordsInScope implements store.RecordConsole.
func (s *Store) FindRecordsInScope(ctx context.Context, sc store.Scope, kind store.IndexKind, value string, limit int) ([]store.Person, error) {
	col, ok := indexColumn[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown index %q", store.ErrInvalid, kind)
	}
	if !store.ValidScope(sc) || !store.ValidKeys(value) || value == "" {
		return nil, nil
	}
	list, err := s.scopedPersons(ctx, "find records in scope", `p.`+col+` = $4`, append(scopeArgs(sc), value)...)
	if len(list) > store.ConsoleLimit(limit) {
		list = list[:store.ConsoleLimit(limit)]
	}
	return list, err
}

// RecordsByIDInScope implements store.RecordConsole.
func (s *Store) RecordsByIDInScope(ctx context.Context, sc store.Scope, externalID string) ([]store.Person, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(externalID) || externalID == "" {
		return nil, nil
	}
	return s.scopedPersons(ctx, "records by id in scope", `p.external_id = $4`, append(scopeArgs(sc), externalID)...)
}

// recordInScope reports whether the record exists and is in sc, asking
// the database only when sc and the keys could be stored at all.
func (s *Store) recordInScope(ctx context.Context, sc store.Scope, tenantID, externalID string) error {
	if !store.ValidScope(sc) || !store.ValidKeys(tenantID, externalID) {
		return store.ErrNotFound
	}
	var one int
	err := s.q(ctx).QueryRow(ctx, `SELECT 1 FROM roster_persons p WHERE `+personScope+` AND p.tenant_id = $4 AND p.external_id = $5`,
		append(scopeArgs(sc), tenantID, externalID)...).Scan(&one)
	return wrap("record in scope", err)
}

// LinksInScope implements store.RecordConsole: one statement, the links
// joined to their record under the scope's condition.
func (s *Store) LinksInScope(ctx context.Context, sc store.Scope, tenantID, externalID string) ([]store.Link, error) {
	if err := s.recordInScope(ctx, sc, tenantID, externalID); err != nil {
		return nil, err
	}
	return s.listLinks(ctx, `tenant_id = $1 AND external_id = $2 AND EXISTS (
		SELECT 1 FROM roster_persons p WHERE p.tenant_id = links.tenant_id AND p.external_id = links.external_id
		AND ($3 = 'operator' OR p.tenant_id = $4) AND ($3 <> 'school_admin' OR p.school = ANY($5)))`,
		tenantID, externalID, string(sc.Role), sc.TenantID, nonNil(sc.Schools))
}

// RecordEventsInScope implements store.RecordConsole.
func (s *Store) RecordEventsInScope(ctx context.Context, sc store.Scope, tenantID, externalID string, limit int) ([]store.OutboxEvent, error) {
	if err := s.recordInScope(ctx, sc, tenantID, externalID); err != nil {
		return nil, err
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+eventColumns+` FROM outbox_events e
		WHERE e.tenant_id = $4 AND e.data->>'person_id' = $5 AND EXISTS (
			SELECT 1 FROM roster_persons p WHERE p.tenant_id = e.tenant_id AND p.external_id = $5 AND `+personScope+`)
		ORDER BY e.created_at DESC, e.seq DESC LIMIT $6`,
		append(scopeArgs(sc), tenantID, externalID, store.ConsoleLimit(limit))...)
	if err != nil {
		return nil, wrap("record events in scope", err)
	}
	defer rows.Close()
	var out []store.OutboxEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, wrap("record events in scope", err)
		}
		out = append(out, e)
	}
	return out, wrap("record events in scope", rows.Err())
}
