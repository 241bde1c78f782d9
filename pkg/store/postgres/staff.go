package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

const staffColumns = `id, coalesce(tenant_id, ''), role, schools, ix_snils, snils_masked, esia_oid, granted_by, created_at, updated_at`

func scanGrant(row pgx.Row) (store.StaffGrant, error) {
	var g store.StaffGrant
	var role string
	if err := row.Scan(&g.ID, &g.TenantID, &role, &g.Schools, &g.SNILSIndex, &g.SNILSMasked, &g.ESIAOID, &g.GrantedBy,
		&g.CreatedAt, &g.UpdatedAt); err != nil {
		return store.StaffGrant{}, err
	}
	g.Role = store.StaffRole(role)
	if len(g.Schools) == 0 {
		g.Schools = nil
	}
	g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	return g, nil
}

// nullTenant is the tenant column of a grant: NULL for an operator's.
func nullTenant(tenantID string) any {
	if tenantID == "" {
		return nil
	}
	return tenantID
}

// PutStaffGrant implements store.Staff in one statement: the unique index
// on (tenant, SNILS index) decides between a new grant and a replaced one.
func (s *Store) PutStaffGrant(ctx context.Context, g store.StaffGrant) (store.StaffGrant, error) {
	g, err := store.ValidateStaffGrant(g)
	if err != nil {
		return store.StaffGrant{}, err
	}
	now := s.now()
	out, err := scanGrant(s.q(ctx).QueryRow(ctx, `
		INSERT INTO staff_grants AS t (id, tenant_id, role, schools, ix_snils, snils_masked, esia_oid, granted_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $8)
		ON CONFLICT ((COALESCE(tenant_id, '')), ix_snils) DO UPDATE SET
			role = EXCLUDED.role, schools = EXCLUDED.schools, snils_masked = EXCLUDED.snils_masked,
			granted_by = EXCLUDED.granted_by, updated_at = EXCLUDED.updated_at
		RETURNING `+staffColumns,
		g.ID, nullTenant(g.TenantID), string(g.Role), nonNil(g.Schools), g.SNILSIndex, g.SNILSMasked, g.GrantedBy, now))
	return out, wrap("put staff grant", err)
}

// ListStaffGrants implements store.Staff.
func (s *Store) ListStaffGrants(ctx context.Context, tenantID string) ([]store.StaffGrant, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	return s.listGrants(ctx, "list staff grants", `SELECT `+staffColumns+` FROM staff_grants
		WHERE $1 = '' OR tenant_id = $1 ORDER BY coalesce(tenant_id, ''), created_at, id`, tenantID)
}

// StaffGrantsBySNILS implements store.Staff.
func (s *Store) StaffGrantsBySNILS(ctx context.Context, snilsIndex string) ([]store.StaffGrant, error) {
	if snilsIndex == "" || !store.ValidKeys(snilsIndex) {
		return nil, nil
	}
	return s.listGrants(ctx, "staff grants by snils", `SELECT `+staffColumns+` FROM staff_grants
		WHERE ix_snils = $1 ORDER BY coalesce(tenant_id, ''), created_at, id`, snilsIndex)
}

func (s *Store) listGrants(ctx context.Context, op, query string, args ...any) ([]store.StaffGrant, error) {
	rows, err := s.q(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []store.StaffGrant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, g)
	}
	return out, wrap(op, rows.Err())
}

// DeleteStaffGrant implements store.Staff.
func (s *Store) DeleteStaffGrant(ctx context.Context, tenantID, id string) error {
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM staff_grants WHERE id = $1 AND coalesce(tenant_id, '') = $2`, id, tenantID)
	if err != nil {
		return wrap("delete staff grant", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// BindStaffGrant implements store.Staff: the first sign-in binds the
// grant, atomically — of two first sign-ins with different accounts one
// wins and the other gets ErrStaffBound.
func (s *Store) BindStaffGrant(ctx context.Context, id, oid string) (store.StaffGrant, error) {
	if err := store.CheckStaffBind(id, oid); err != nil {
		return store.StaffGrant{}, err
	}
	g, err := scanGrant(s.q(ctx).QueryRow(ctx, `UPDATE staff_grants
		SET esia_oid = $2, updated_at = CASE WHEN esia_oid = '' THEN $3 ELSE updated_at END
		WHERE id = $1 AND esia_oid IN ('', $2) RETURNING `+staffColumns, id, oid, s.now()))
	if err == nil {
		return g, nil
	}
	if !errors.Is(mapErr(err), store.ErrNotFound) {
		return store.StaffGrant{}, wrap("bind staff grant", err)
	}
	var exists bool
	if err := s.q(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_grants WHERE id = $1)`, id).Scan(&exists); err != nil {
		return store.StaffGrant{}, wrap("bind staff grant", err)
	}
	if exists {
		return store.StaffGrant{}, store.ErrStaffBound
	}
	return store.StaffGrant{}, store.ErrNotFound
}

// attemptScope keeps an attempt a within the scope of role $2, tenant $3
// and schools $4: a school_admin's attempts are those that named a record
// (attempt_records) of one of their schools.
const attemptScope = `($2 = 'operator' OR a.tenant_id = $3) AND ($2 <> 'school_admin' OR EXISTS (
	SELECT 1 FROM attempt_records ar JOIN roster_persons p ON p.tenant_id = ar.tenant_id AND p.external_id = ar.external_id
	WHERE ar.ref = a.ref AND p.tenant_id = a.tenant_id AND p.school = ANY($4)))`

// AttemptInScope implements store.Console: the scope is a condition of the
// query, so an attempt outside it is not read at all.
func (s *Store) AttemptInScope(ctx context.Context, sc store.Scope, ref string) (store.Attempt, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(ref) {
		return store.Attempt{}, store.ErrNotFound
	}
	var found string
	err := s.q(ctx).QueryRow(ctx, `SELECT a.ref FROM attempts a WHERE a.ref = $1 AND `+attemptScope,
		ref, string(sc.Role), sc.TenantID, nonNil(sc.Schools)).Scan(&found)
	if err != nil {
		return store.Attempt{}, wrap("attempt in scope", err)
	}
	return s.GetAttempt(ctx, found)
}

// PersonInScope implements store.Console.
func (s *Store) PersonInScope(ctx context.Context, sc store.Scope, tenantID, externalID string) (store.Person, error) {
	if !store.ValidScope(sc) || !store.ValidKeys(tenantID, externalID) {
		return store.Person{}, store.ErrNotFound
	}
	p, err := s.scanPerson(s.q(ctx).QueryRow(ctx, `SELECT `+personColumns+` FROM roster_persons
		WHERE tenant_id = $1 AND external_id = $2 AND ($3 = 'operator' OR tenant_id = $4) AND ($3 <> 'school_admin' OR school = ANY($5))`,
		tenantID, externalID, string(sc.Role), sc.TenantID, nonNil(sc.Schools)))
	return p, wrap("person in scope", err)
}
