package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

// ErrNoSealer is returned when roster records are written or read by a
// store that has no store.Sealer: personal data is never kept in plaintext.
var ErrNoSealer = errors.New("postgres: no sealer configured for personal data")

// personPII is the sealed part of a roster record.
type personPII struct {
	LastName   string           `json:"l,omitempty"`
	FirstName  string           `json:"f,omitempty"`
	MiddleName string           `json:"m,omitempty"`
	BirthDate  store.Date       `json:"b,omitempty"`
	SNILS      string           `json:"s,omitempty"`
	BirthCert  *store.BirthCert `json:"c,omitempty"`
	Contacts   []store.Contact  `json:"k,omitempty"`
}

// personAAD binds a sealed record to its tenant and id.
func personAAD(tenantID, externalID string) []byte {
	return []byte("roster\x00" + tenantID + "\x00" + externalID)
}

func (s *Store) sealPerson(tenantID string, p store.Person) (keyID string, sealed []byte, err error) {
	if s.sealer == nil {
		return "", nil, ErrNoSealer
	}
	plain, err := json.Marshal(personPII{p.LastName, p.FirstName, p.MiddleName, p.BirthDate, p.SNILS, p.BirthCert, p.Contacts})
	if err != nil {
		return "", nil, err
	}
	return s.sealer.Seal(plain, personAAD(tenantID, p.ExternalID))
}

func (s *Store) openPerson(p *store.Person, keyID string, sealed []byte) error {
	if s.sealer == nil {
		return ErrNoSealer
	}
	plain, err := s.sealer.Open(keyID, sealed, personAAD(p.TenantID, p.ExternalID))
	if err != nil {
		return fmt.Errorf("open record %s/%s: %w", p.TenantID, p.ExternalID, err)
	}
	var pii personPII
	if err := json.Unmarshal(plain, &pii); err != nil {
		return fmt.Errorf("decode record %s/%s: %w", p.TenantID, p.ExternalID, err)
	}
	p.LastName, p.FirstName, p.MiddleName = pii.LastName, pii.FirstName, pii.MiddleName
	p.BirthDate, p.SNILS, p.BirthCert, p.Contacts = pii.BirthDate, pii.SNILS, pii.BirthCert, pii.Contacts
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// UpsertPersons implements store.Roster in one statement: the batch lands
// whole or not at all.
func (s *Store) UpsertPersons(ctx context.Context, tenantID string, ps []store.Person) error {
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return err
	}
	if err := store.ValidatePersons(ps); err != nil {
		return err
	}
	return s.upsertSealed(ctx, "upsert persons", tenantID, ps, s.now())
}

// upsertSealed seals ps and inserts or updates them in one statement, so the batch
// lands whole or not at all; op names the caller in errors.
func (s *Store) upsertSealed(ctx context.Context, op, tenantID string, ps []store.Person, now time.Time) error {
	if len(ps) == 0 {
		return nil
	}
	n := len(ps)
	ids, roles, schools, classes, keyIDs := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	pii := make([][]byte, n)
	ixSNILS, ixCert, ixBirth, ixName := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	flags := make([]string, n)
	for i, p := range ps {
		keyID, sealed, err := s.sealPerson(tenantID, p)
		if err != nil {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		ids[i], roles[i], schools[i], classes[i], keyIDs[i], pii[i] = p.ExternalID, string(p.Role), p.School, p.Class, keyID, sealed
		ixSNILS[i], ixCert[i], ixBirth[i], ixName[i] = nullable(p.Index.SNILS), nullable(p.Index.BirthCert), nullable(p.Index.BirthDate), nullable(p.Index.NameBirth)
		f, _ := json.Marshal(nonNil(p.Flags))
		flags[i] = string(f)
	}
	_, err := s.q(ctx).Exec(ctx, `
		INSERT INTO roster_persons (tenant_id, external_id, role, school, class, pii, pii_key_id,
			ix_snils, ix_birth_cert, ix_birth_date, ix_name_birth, flags, updated_at)
		SELECT $1, u.id, u.role, u.school, u.class, u.pii, u.key_id, u.ix_snils, u.ix_cert, u.ix_birth, u.ix_name,
			ARRAY(SELECT jsonb_array_elements_text(u.flags::jsonb)), $2
		FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bytea[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
			AS u(id, role, school, class, pii, key_id, ix_snils, ix_cert, ix_birth, ix_name, flags)
		ON CONFLICT (tenant_id, external_id) DO UPDATE SET
			role = EXCLUDED.role, school = EXCLUDED.school, class = EXCLUDED.class, pii = EXCLUDED.pii,
			pii_key_id = EXCLUDED.pii_key_id, ix_snils = EXCLUDED.ix_snils, ix_birth_cert = EXCLUDED.ix_birth_cert,
			ix_birth_date = EXCLUDED.ix_birth_date, ix_name_birth = EXCLUDED.ix_name_birth, flags = EXCLUDED.flags,
			updated_at = EXCLUDED.updated_at`,
		tenantID, now, ids, roles, schools, classes, pii, keyIDs, ixSNILS, ixCert, ixBirth, ixName, flags)
	if err != nil && errors.Is(mapErr(err), store.ErrInvalid) {
		return fmt.Errorf("postgres: %s: %w: unknown tenant", op, store.ErrInvalid)
	}
	return wrap(op, err)
}

// LockPersons implements store.Roster with SELECT … FOR UPDATE, which
// waits out (and then blocks) the foreign-key checks of links, consents and
// relations made to the records.
func (s *Store) LockPersons(ctx context.Context, tenantID string, ids []string) error {
	if !store.ValidKeys(tenantID) {
		return nil
	}
	ids = store.ValidKeyList(ids)
	if s.txOf(ctx) == nil || len(ids) == 0 {
		return nil
	}
	_, err := s.q(ctx).Exec(ctx, `SELECT 1 FROM roster_persons WHERE tenant_id = $1 AND external_id = ANY($2) FOR UPDATE`, tenantID, ids)
	return wrap("lock persons", err)
}

// DeletePersons implements store.Roster; relations and links cascade.
func (s *Store) DeletePersons(ctx context.Context, tenantID string, ids []string) error {
	if !store.ValidKeys(tenantID) {
		return nil
	}
	ids = store.ValidKeyList(ids)
	_, err := s.q(ctx).Exec(ctx, `DELETE FROM roster_persons WHERE tenant_id = $1 AND external_id = ANY($2)`, tenantID, ids)
	return wrap("delete persons", err)
}

const personColumns = `tenant_id, external_id, role, school, class, pii, pii_key_id,
	coalesce(ix_snils, ''), coalesce(ix_birth_cert, ''), coalesce(ix_birth_date, ''), coalesce(ix_name_birth, ''), flags, updated_at`

func (s *Store) scanPerson(row pgx.Row) (store.Person, error) {
	var p store.Person
	var role, keyID string
	var sealed []byte
	if err := row.Scan(&p.TenantID, &p.ExternalID, &role, &p.School, &p.Class, &sealed, &keyID,
		&p.Index.SNILS, &p.Index.BirthCert, &p.Index.BirthDate, &p.Index.NameBirth, &p.Flags, &p.UpdatedAt); err != nil {
		return store.Person{}, err
	}
	p.Role = store.Role(role)
	p.UpdatedAt = p.UpdatedAt.UTC()
	if len(p.Flags) == 0 {
		p.Flags = nil
	}
	if err := s.openPerson(&p, keyID, sealed); err != nil {
		return store.Person{}, err
	}
	return p, nil
}

// GetPerson implements store.Roster.
func (s *Store) GetPerson(ctx context.Context, tenantID, id string) (store.Person, error) {
	if !store.ValidKeys(tenantID, id) {
		return store.Person{}, store.ErrNotFound
	}
	p, err := s.scanPerson(s.q(ctx).QueryRow(ctx,
		`SELECT `+personColumns+` FROM roster_persons WHERE tenant_id = $1 AND external_id = $2`, tenantID, id))
	return p, wrap("get person", err)
}

var indexColumn = map[store.IndexKind]string{
	store.IndexSNILS:     "ix_snils",
	store.IndexBirthCert: "ix_birth_cert",
	store.IndexBirthDate: "ix_birth_date",
	store.IndexNameBirth: "ix_name_birth",
}

// FindPersons implements store.Roster.
func (s *Store) FindPersons(ctx context.Context, tenantID string, kind store.IndexKind, value string, limit int) ([]store.Person, error) {
	if !store.ValidKeys(tenantID, value) {
		return nil, nil
	}
	col, ok := indexColumn[kind]
	if !ok {
		return nil, fmt.Errorf("%w: unknown index %q", store.ErrInvalid, kind)
	}
	if value == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT `+personColumns+` FROM roster_persons
		WHERE tenant_id = $1 AND `+col+` = $2 ORDER BY external_id LIMIT $3`, tenantID, value, limit)
	if err != nil {
		return nil, wrap("find persons", err)
	}
	defer rows.Close()
	var out []store.Person
	for rows.Next() {
		p, err := s.scanPerson(rows)
		if err != nil {
			return nil, wrap("find persons", err)
		}
		out = append(out, p)
	}
	return out, wrap("find persons", rows.Err())
}

// CountPersons implements store.Roster.
func (s *Store) CountPersons(ctx context.Context, tenantID string) (int, error) {
	if !store.ValidKeys(tenantID) {
		return 0, nil
	}
	var n int
	err := s.q(ctx).QueryRow(ctx, `SELECT count(*) FROM roster_persons WHERE tenant_id = $1`, tenantID).Scan(&n)
	return n, wrap("count persons", err)
}

// UpsertRelations implements store.Roster in one statement.
func (s *Store) UpsertRelations(ctx context.Context, tenantID string, rs []store.Relation) error {
	if err := store.ValidateRelations(rs); err != nil {
		return err
	}
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return err
	}
	if len(rs) == 0 {
		return nil
	}
	parents, students, kinds := make([]string, len(rs)), make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		parents[i], students[i], kinds[i] = r.Parent, r.Student, r.Kind
	}
	// All or nothing: one relation whose records are missing or of the
	// wrong role and none is written.
	var bad int
	err := s.q(ctx).QueryRow(ctx, `
		WITH u AS (
			SELECT DISTINCT ON (p, st) p, st, k, `+relationRolesKnown+` AS known
			FROM unnest($2::text[], $3::text[], $4::text[]) AS u(p, st, k)
		), ins AS (
			INSERT INTO roster_relations (tenant_id, parent_id, student_id, kind)
			SELECT $1, p, st, k FROM u WHERE NOT EXISTS (SELECT 1 FROM u WHERE NOT known)
			ON CONFLICT (tenant_id, parent_id, student_id) DO UPDATE SET kind = EXCLUDED.kind
		)
		SELECT count(*) FROM u WHERE NOT known`,
		tenantID, parents, students, kinds).Scan(&bad)
	if err == nil && bad > 0 {
		return fmt.Errorf("postgres: upsert relations: %w: relation to an unknown record or one of the wrong role", store.ErrInvalid)
	}
	return wrap("upsert relations", err)
}

// DeleteRelations implements store.Roster.
func (s *Store) DeleteRelations(ctx context.Context, tenantID string, rs []store.Relation) error {
	if err := store.ValidateRelations(rs); err != nil {
		return err
	}
	if !store.ValidKeys(tenantID) {
		return nil
	}
	if len(rs) == 0 {
		return nil
	}
	parents, students := make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		parents[i], students[i] = r.Parent, r.Student
	}
	_, err := s.q(ctx).Exec(ctx, `DELETE FROM roster_relations r USING unnest($2::text[], $3::text[]) AS u(p, st)
		WHERE r.tenant_id = $1 AND r.parent_id = u.p AND r.student_id = u.st`, tenantID, parents, students)
	return wrap("delete relations", err)
}

// RelationsOf implements store.Roster.
func (s *Store) RelationsOf(ctx context.Context, tenantID, id string) ([]store.Relation, error) {
	if !store.ValidKeys(tenantID, id) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT parent_id, student_id, kind FROM roster_relations
		WHERE tenant_id = $1 AND (parent_id = $2 OR student_id = $2) ORDER BY parent_id, student_id`, tenantID, id)
	if err != nil {
		return nil, wrap("relations", err)
	}
	defer rows.Close()
	var out []store.Relation
	for rows.Next() {
		r := store.Relation{TenantID: tenantID}
		if err := rows.Scan(&r.Parent, &r.Student, &r.Kind); err != nil {
			return nil, wrap("relations", err)
		}
		out = append(out, r)
	}
	return out, wrap("relations", rows.Err())
}
