package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Resealer = (*Store)(nil)

// sealedTable is where a sealed table keeps its key id and how its rows
// are named.
type sealedTable struct {
	table, keyCol string
}

var sealedTables = map[store.SealedTable]sealedTable{
	store.SealedRoster:   {"roster_persons", "pii_key_id"},
	store.SealedOAuth:    {"oauth_records", "key_id"},
	store.SealedEvidence: {"consent_evidence", "key_id"},
}

// SealedKeys implements store.Resealer.
func (s *Store) SealedKeys(ctx context.Context) (map[store.SealedTable]map[string]int64, error) {
	out := map[store.SealedTable]map[string]int64{}
	for name, t := range sealedTables {
		// Evidence whose personal data was destroyed has no key ('').
		rows, err := s.q(ctx).Query(ctx, `SELECT `+t.keyCol+`, count(*) FROM `+t.table+` WHERE `+t.keyCol+` <> '' GROUP BY 1`)
		if err != nil {
			return nil, wrap("sealed keys", err)
		}
		out[name] = map[string]int64{}
		for rows.Next() {
			var id string
			var n int64
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, wrap("sealed keys", err)
			}
			out[name][id] = n
		}
		if err := rows.Err(); err != nil {
			return nil, wrap("sealed keys", err)
		}
	}
	return out, nil
}

// Reseal implements store.Resealer: one transaction claims the rows, opens
// each under its old key and seals it again (same associated data: the row
// does not move), and writes them back in one UPDATE. updated_at is left
// alone: the data did not change.
func (s *Store) Reseal(ctx context.Context, table store.SealedTable, keyIDs []string, limit int) (int, error) {
	if s.sealer == nil {
		return 0, ErrNoSealer
	}
	if _, ok := sealedTables[table]; !ok {
		return 0, fmt.Errorf("%w: no sealed table %q", store.ErrInvalid, table)
	}
	if len(keyIDs) == 0 || limit <= 0 {
		return 0, nil
	}
	n := 0
	err := s.InTx(ctx, func(ctx context.Context) error {
		var err error
		switch table {
		case store.SealedRoster:
			n, err = s.resealRoster(ctx, keyIDs, limit)
		case store.SealedOAuth:
			n, err = s.resealOAuth(ctx, keyIDs, limit)
		case store.SealedEvidence:
			n, err = s.resealEvidence(ctx, keyIDs, limit)
		}
		return err
	})
	return n, err
}

// reseal opens a row sealed under keyID and seals it again; the active key
// must not be one of those being retired (a sealer that has not seen the
// rotation would re-seal under the old key forever).
func (s *Store) reseal(keyID string, sealed, aad []byte, old []string) (string, []byte, error) {
	plain, err := s.sealer.Open(keyID, sealed, aad)
	if err != nil {
		return "", nil, err
	}
	newID, out, err := s.sealer.Seal(plain, aad)
	if err != nil {
		return "", nil, err
	}
	if slices.Contains(old, newID) {
		return "", nil, fmt.Errorf("the active key %s is one being retired; reload the keys", newID)
	}
	return newID, out, nil
}

func (s *Store) resealRoster(ctx context.Context, keyIDs []string, limit int) (int, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT tenant_id, external_id, pii, pii_key_id FROM roster_persons
		WHERE pii_key_id = ANY($1) LIMIT $2 FOR UPDATE SKIP LOCKED`, keyIDs, limit)
	if err != nil {
		return 0, wrap("reseal roster", err)
	}
	var tenants, ids, keys []string
	var data [][]byte
	for rows.Next() {
		var t, id, keyID string
		var sealed []byte
		if err := rows.Scan(&t, &id, &sealed, &keyID); err != nil {
			rows.Close()
			return 0, wrap("reseal roster", err)
		}
		newID, out, err := s.reseal(keyID, sealed, personAAD(t, id), keyIDs)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("postgres: reseal record %s/%s: %w", t, id, err)
		}
		tenants, ids, keys, data = append(tenants, t), append(ids, id), append(keys, newID), append(data, out)
	}
	if err := rows.Err(); err != nil {
		return 0, wrap("reseal roster", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	_, err = s.q(ctx).Exec(ctx, `UPDATE roster_persons r SET pii = u.pii, pii_key_id = u.key_id
		FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[]) AS u(tenant_id, external_id, pii, key_id)
		WHERE r.tenant_id = u.tenant_id AND r.external_id = u.external_id`, tenants, ids, data, keys)
	if err != nil {
		return 0, wrap("reseal roster", err)
	}
	return len(ids), nil
}

func (s *Store) resealOAuth(ctx context.Context, keyIDs []string, limit int) (int, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT kind, signature, data, key_id FROM oauth_records
		WHERE key_id = ANY($1) LIMIT $2 FOR UPDATE SKIP LOCKED`, keyIDs, limit)
	if err != nil {
		return 0, wrap("reseal oauth", err)
	}
	var kinds, sigs, keys []string
	var data [][]byte
	for rows.Next() {
		var kind, sig, keyID string
		var sealed []byte
		if err := rows.Scan(&kind, &sig, &sealed, &keyID); err != nil {
			rows.Close()
			return 0, wrap("reseal oauth", err)
		}
		newID, out, err := s.reseal(keyID, sealed, oauthAAD(store.OAuthKind(kind), sig), keyIDs)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("postgres: reseal oauth %s record: %w", kind, err)
		}
		kinds, sigs, keys, data = append(kinds, kind), append(sigs, sig), append(keys, newID), append(data, out)
	}
	if err := rows.Err(); err != nil {
		return 0, wrap("reseal oauth", err)
	}
	if len(sigs) == 0 {
		return 0, nil
	}
	_, err = s.q(ctx).Exec(ctx, `UPDATE oauth_records o SET data = u.data, key_id = u.key_id
		FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[]) AS u(kind, signature, data, key_id)
		WHERE o.kind = u.kind AND o.signature = u.signature`, kinds, sigs, data, keys)
	if err != nil {
		return 0, wrap("reseal oauth", err)
	}
	return len(sigs), nil
}

// resealEvidence re-seals consent evidence; its append-only trigger allows
// exactly this change (details and key_id, nothing else).
func (s *Store) resealEvidence(ctx context.Context, keyIDs []string, limit int) (int, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT id, tenant_id, person_id, details, key_id FROM consent_evidence
		WHERE key_id = ANY($1) AND details IS NOT NULL LIMIT $2 FOR UPDATE SKIP LOCKED`, keyIDs, limit)
	if err != nil {
		return 0, wrap("reseal evidence", err)
	}
	var ids []int64
	var keys []string
	var data [][]byte
	for rows.Next() {
		var id int64
		var tenantID, personID, keyID string
		var sealed []byte
		if err := rows.Scan(&id, &tenantID, &personID, &sealed, &keyID); err != nil {
			rows.Close()
			return 0, wrap("reseal evidence", err)
		}
		newID, out, err := s.reseal(keyID, sealed, evidenceAAD(tenantID, personID, id), keyIDs)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("postgres: reseal evidence %d: %w", id, err)
		}
		ids, keys, data = append(ids, id), append(keys, newID), append(data, out)
	}
	if err := rows.Err(); err != nil {
		return 0, wrap("reseal evidence", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	_, err = s.q(ctx).Exec(ctx, `UPDATE consent_evidence e SET details = u.details, key_id = u.key_id
		FROM unnest($1::bigint[], $2::bytea[], $3::text[]) AS u(id, details, key_id)
		WHERE e.id = u.id`, ids, data, keys)
	if err != nil {
		return 0, wrap("reseal evidence", err)
	}
	return len(ids), nil
}

// DeleteSealingKey implements store.Resealer. Only a retired key goes, and
// only when the check and the delete see no row under it.
func (s *Store) DeleteSealingKey(ctx context.Context, id string) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM keys WHERE id = $1 AND retired_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM roster_persons WHERE pii_key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM oauth_records WHERE key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM consent_evidence WHERE key_id = $1)`, id)
	if err != nil {
		return false, wrap("delete sealing key", err)
	}
	return tag.RowsAffected() == 1, nil
}
