package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var (
	_ store.PersonCopier   = (*Store)(nil)
	_ store.KnownRelations = (*Store)(nil)
)

// relationRolesKnown is true when the parent (u.p) and the student (u.st)
// of a relation are records of tenant $1 of those roles.
const relationRolesKnown = `EXISTS (SELECT 1 FROM roster_persons WHERE tenant_id = $1 AND external_id = u.p AND role = 'parent')
	AND EXISTS (SELECT 1 FROM roster_persons WHERE tenant_id = $1 AND external_id = u.st AND role = 'student')`

// personCopyColumns are the columns CopyPersons streams.
var personCopyColumns = []string{"tenant_id", "external_id", "role", "school", "class", "pii", "pii_key_id",
	"ix_snils", "ix_birth_cert", "ix_birth_date", "ix_name_birth", "flags", "updated_at"}

// CopyPersons implements store.PersonCopier in one transaction: records
// that are not in the table yet are streamed in with COPY, which is several
// times cheaper for PostgreSQL than INSERT … ON CONFLICT, and the others go
// through the same upsert as UpsertPersons. Sealing happens while COPY
// streams, on pgx's encoding goroutine, so the CPU work overlaps the
// database's. A record another writer inserts between the check and the
// COPY makes the COPY fail; the batch is then upserted whole.
func (s *Store) CopyPersons(ctx context.Context, tenantID string, ps []store.Person) error {
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return err
	}
	if err := store.ValidatePersons(ps); err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	if s.sealer == nil {
		return ErrNoSealer
	}
	now := s.now()
	err := s.InTx(ctx, func(ctx context.Context) error {
		tx := s.txOf(ctx).tx
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = p.ExternalID
		}
		rows, err := tx.Query(ctx, `SELECT external_id FROM roster_persons WHERE tenant_id = $1 AND external_id = ANY($2)`, tenantID, ids)
		if err != nil {
			return wrap("copy persons", err)
		}
		existing := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap("copy persons", err)
			}
			existing[id] = true
		}
		if err := rows.Err(); err != nil {
			return wrap("copy persons", err)
		}
		fresh := make([]store.Person, 0, len(ps)-len(existing))
		old := make([]store.Person, 0, len(existing))
		for _, p := range ps {
			if existing[p.ExternalID] {
				old = append(old, p)
			} else {
				fresh = append(fresh, p)
			}
		}
		if len(fresh) > 0 {
			src := &personSource{s: s, tenantID: tenantID, ps: fresh, now: now, i: -1}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"roster_persons"}, personCopyColumns, src); err != nil {
				if src.err != nil {
					return fmt.Errorf("postgres: copy persons: %w", src.err)
				}
				return copyErr(err)
			}
		}
		return s.upsertSealed(ctx, "copy persons", tenantID, old, now)
	})
	if errors.Is(err, store.ErrAlreadyExists) && s.txOf(ctx) == nil {
		// Another import inserted one of the records since the check.
		err = s.InTx(ctx, func(ctx context.Context) error { return s.upsertSealed(ctx, "copy persons", tenantID, ps, now) })
	}
	return err
}

// copyErr maps a failed COPY: a foreign key means the tenant is unknown.
func copyErr(err error) error {
	err = mapErr(err)
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("postgres: copy persons: %w: unknown tenant", store.ErrInvalid)
	}
	return fmt.Errorf("postgres: copy persons: %w", err)
}

// personSource feeds COPY, sealing each record when pgx asks for it.
type personSource struct {
	s        *Store
	tenantID string
	ps       []store.Person
	now      time.Time
	i        int
	err      error
}

func (src *personSource) Next() bool {
	src.i++
	return src.i < len(src.ps) && src.err == nil
}

func (src *personSource) Values() ([]any, error) {
	p := src.ps[src.i]
	keyID, sealed, err := src.s.sealPerson(src.tenantID, p)
	if err != nil {
		src.err = err
		return nil, err
	}
	return []any{src.tenantID, p.ExternalID, string(p.Role), p.School, p.Class, sealed, keyID,
		nullable(p.Index.SNILS), nullable(p.Index.BirthCert), nullable(p.Index.BirthDate), nullable(p.Index.NameBirth),
		nonNil(p.Flags), src.now}, nil
}

func (src *personSource) Err() error { return src.err }

// UpsertKnownRelations implements store.KnownRelations: one statement
// inserts the relations whose records exist with the roles they need and
// returns the positions of the others.
func (s *Store) UpsertKnownRelations(ctx context.Context, tenantID string, rs []store.Relation) ([]int, error) {
	if err := store.ValidateRelations(rs); err != nil {
		return nil, err
	}
	if err := store.CheckIDs("tenant_id", tenantID); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	// The last occurrence of a pair wins; one statement cannot update a
	// row twice.
	last := make(map[[2]string]int, len(rs))
	for i, r := range rs {
		last[[2]string{r.Parent, r.Student}] = i
	}
	parents, students, kinds, pos := make([]string, 0, len(last)), make([]string, 0, len(last)), make([]string, 0, len(last)), make([]int32, 0, len(last))
	for i, r := range rs {
		if last[[2]string{r.Parent, r.Student}] != i {
			continue
		}
		parents, students, kinds, pos = append(parents, r.Parent), append(students, r.Student), append(kinds, r.Kind), append(pos, int32(i))
	}
	// One plain statement writes the relations whose records exist with
	// their roles and returns them; the positions it did not return are
	// the missing. (A data-modifying CTE that named the others in the same
	// statement cost the update path of a 200k import 35 % more time.)
	rows, err := s.q(ctx).Query(ctx, `
		INSERT INTO roster_relations (tenant_id, parent_id, student_id, kind)
		SELECT $1, u.p, u.st, u.k FROM unnest($2::text[], $3::text[], $4::text[]) AS u(p, st, k)
		WHERE `+relationRolesKnown+`
		ON CONFLICT (tenant_id, parent_id, student_id) DO UPDATE SET kind = EXCLUDED.kind
		RETURNING parent_id, student_id`,
		tenantID, parents, students, kinds)
	if err != nil {
		return nil, wrap("upsert known relations", err)
	}
	written := make(map[[2]string]bool, len(parents))
	for rows.Next() {
		var p, st string
		if err := rows.Scan(&p, &st); err != nil {
			rows.Close()
			return nil, wrap("upsert known relations", err)
		}
		written[[2]string{p, st}] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("upsert known relations", err)
	}
	var missing []int
	if len(written) < len(parents) {
		for j := range parents {
			if !written[[2]string{parents[j], students[j]}] {
				missing = append(missing, int(pos[j]))
			}
		}
	}
	// Every occurrence of a missing pair is missing.
	if len(missing) > 0 && len(last) < len(rs) {
		gone := map[[2]string]bool{}
		for _, i := range missing {
			gone[[2]string{rs[i].Parent, rs[i].Student}] = true
		}
		missing = missing[:0]
		for i, r := range rs {
			if gone[[2]string{r.Parent, r.Student}] {
				missing = append(missing, i)
			}
		}
	}
	slices.Sort(missing)
	return missing, nil
}
