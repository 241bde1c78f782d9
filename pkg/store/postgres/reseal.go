package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Resealer = (*Store)(nil)

// SealedKeys implements store.Resealer.
func (s *Store) SealedKeys(ctx context.Context) (map[store.SealedTable]map[string]int64, error) {
	out := map[store.SealedTable]map[string]int64{}
	for name, t := range resealers {
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

// Reseal implements store.Resealer: one transaction claims the rows in
// primary-key order from the position (an index scan that stops after
// limit rows, and never comes back over rows re-sealed already, live or
// dead), opens each under its old key and seals it again (same associated
// data: the row does not move), and writes them back in one UPDATE.
// updated_at is left alone: the data did not change.
func (s *Store) Reseal(ctx context.Context, table store.SealedTable, keyIDs []string, limit int, after string) (int, string, error) {
	if s.sealer == nil {
		return 0, "", ErrNoSealer
	}
	t, ok := resealers[table]
	if !ok {
		return 0, "", fmt.Errorf("%w: no sealed table %q", store.ErrInvalid, table)
	}
	if len(keyIDs) == 0 || limit <= 0 {
		return 0, "", nil
	}
	var n int
	var next string
	err := s.InTx(ctx, func(ctx context.Context) error {
		var err error
		n, next, err = s.resealBatch(ctx, t, keyIDs, limit, after)
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("postgres: reseal %s: %w", table, err)
	}
	return n, next, nil
}

func (s *Store) resealBatch(ctx context.Context, t resealer, keyIDs []string, limit int, after string) (int, string, error) {
	args := []any{keyIDs, limit}
	cols := make([]string, 0, len(t.key)+len(t.extra))
	for _, c := range append(slices.Clone(t.key), t.extra...) {
		cols = append(cols, c+"::text")
	}
	where := ""
	if after != "" {
		pos := strings.Split(after, "\x00")
		if len(pos) != len(t.key) {
			return 0, "", fmt.Errorf("%w: bad position %q", store.ErrInvalid, after)
		}
		ph := make([]string, len(pos))
		for i, p := range pos {
			args = append(args, p)
			ph[i] = fmt.Sprintf("$%d::%s", len(args), t.keyTypes[i])
		}
		where = "(" + strings.Join(t.key, ", ") + ") > (" + strings.Join(ph, ", ") + ") AND "
	}
	// "key_id || ''" keeps the planner off the key id's index: with it,
	// and statistics that say few rows are under the old key, it would
	// gather every such row and sort them for each batch. The primary
	// key's order is what makes a pass linear.
	rows, err := s.q(ctx).Query(ctx, `SELECT `+strings.Join(cols, ", ")+`, `+t.dataCol+`, `+t.keyCol+` FROM `+t.table+`
		WHERE `+where+`(`+t.keyCol+` || '') = ANY($1) ORDER BY `+strings.Join(t.key, ", ")+` LIMIT $2 FOR UPDATE SKIP LOCKED`, args...)
	if err != nil {
		return 0, "", mapErr(err)
	}
	keys := make([][]string, len(t.key))
	var newIDs []string
	var data [][]byte
	var last []string
	for rows.Next() {
		vals := make([]string, len(cols))
		dest := make([]any, 0, len(cols)+2)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		var sealed []byte
		var keyID string
		if err := rows.Scan(append(dest, &sealed, &keyID)...); err != nil {
			rows.Close()
			return 0, "", mapErr(err)
		}
		key := vals[:len(t.key)]
		newID, out, err := s.reseal(keyID, sealed, t.aad(key, vals[len(t.key):]), keyIDs)
		if err != nil {
			rows.Close()
			return 0, "", fmt.Errorf("row %s: %w", strings.Join(key, "/"), err)
		}
		for i, v := range key {
			keys[i] = append(keys[i], v)
		}
		newIDs, data, last = append(newIDs, newID), append(data, out), key
	}
	if err := rows.Err(); err != nil {
		return 0, "", mapErr(err)
	}
	if len(newIDs) == 0 {
		return 0, "", nil
	}
	next := ""
	if len(newIDs) == limit {
		next = strings.Join(last, "\x00")
	}
	args = []any{data, newIDs}
	names := []string{"data", "key_id"}
	match := make([]string, len(t.key))
	for i, k := range t.key {
		args = append(args, keys[i])
		names = append(names, fmt.Sprintf("k%d", i))
		match[i] = fmt.Sprintf("t.%s = u.k%d::%s", k, i, t.keyTypes[i])
	}
	arrays := "$1::bytea[], $2::text[]"
	for i := range t.key {
		arrays += fmt.Sprintf(", $%d::text[]", i+3)
	}
	if _, err := s.q(ctx).Exec(ctx, `UPDATE `+t.table+` t SET `+t.dataCol+` = u.data, `+t.keyCol+` = u.key_id
		FROM unnest(`+arrays+`) AS u(`+strings.Join(names, ", ")+`) WHERE `+strings.Join(match, " AND "), args...); err != nil {
		return 0, "", mapErr(err)
	}
	return len(newIDs), next, nil
}

// resealer says how to re-seal one table: its primary key (the order of a
// pass, the position, the rows to update), the other columns its
// associated data needs, the sealed column and the key id's column.
type resealer struct {
	table, dataCol, keyCol string
	key, keyTypes          []string
	extra                  []string
	aad                    func(key, extra []string) []byte
}

var resealers = map[store.SealedTable]resealer{
	store.SealedRoster: {table: "roster_persons", dataCol: "pii", keyCol: "pii_key_id",
		key: []string{"tenant_id", "external_id"}, keyTypes: []string{"text", "text"},
		aad: func(k, _ []string) []byte { return personAAD(k[0], k[1]) }},
	store.SealedOAuth: {table: "oauth_records", dataCol: "data", keyCol: "key_id",
		key: []string{"kind", "signature"}, keyTypes: []string{"text", "text"},
		aad: func(k, _ []string) []byte { return oauthAAD(store.OAuthKind(k[0]), k[1]) }},
	// A token row that reads its grant's data has none of its own, nor a
	// key (''); its grant is re-sealed here.
	store.SealedOAuthGrants: {table: "oauth_grants", dataCol: "data", keyCol: "key_id",
		key: []string{"request_id"}, keyTypes: []string{"text"},
		aad: func(k, _ []string) []byte { return oauthGrantAAD(k[0]) }},
	// Evidence's append-only trigger allows exactly this change (details
	// and key_id, nothing else); destroyed evidence has no key ('').
	store.SealedEvidence: {table: "consent_evidence", dataCol: "details", keyCol: "key_id",
		key: []string{"id"}, keyTypes: []string{"bigint"}, extra: []string{"tenant_id", "person_id"},
		aad: func(k, x []string) []byte {
			id, _ := strconv.ParseInt(k[0], 10, 64)
			return evidenceAAD(x[0], x[1], id)
		}},
	// Destroyed values have no key ('').
	store.SealedAttemptValues: {table: "attempt_values", dataCol: "data", keyCol: "key_id",
		key: []string{"ref"}, keyTypes: []string{"text"}, extra: []string{"tenant_id"},
		aad: func(k, x []string) []byte { return attemptValuesAAD(x[0], k[0]) }},
	// A ticket whose reporter wrote nothing has no key ('').
	store.SealedTickets: {table: "tickets", dataCol: "report", keyCol: "report_key_id",
		key: []string{"id"}, keyTypes: []string{"text"}, extra: []string{"tenant_id"},
		aad: func(k, x []string) []byte { return ticketAAD(x[0], k[0]) }},
	// Staff comments and resolutions written before they were sealed, and
	// tickets not resolved yet, have no key ('').
	store.SealedTicketNotes: {table: "ticket_notes", dataCol: "sealed", keyCol: "key_id",
		key: []string{"id"}, keyTypes: []string{"bigint"}, extra: []string{"ticket_id"},
		aad: func(_, x []string) []byte { return ticketNoteAAD(x[0]) }},
	store.SealedTicketResolutions: {table: "tickets", dataCol: "resolution_sealed", keyCol: "resolution_key_id",
		key: []string{"id"}, keyTypes: []string{"text"}, extra: []string{"tenant_id"},
		aad: func(k, x []string) []byte { return ticketResolutionAAD(x[0], k[0]) }},
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

// DeleteSealingKey implements store.Resealer. Only a retired key goes, and
// only when the check and the delete see no row under it.
func (s *Store) DeleteSealingKey(ctx context.Context, id string) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx, `DELETE FROM keys WHERE id = $1 AND retired_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM roster_persons WHERE pii_key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM oauth_records WHERE key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM oauth_grants WHERE key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM consent_evidence WHERE key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM attempt_values WHERE key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM tickets WHERE report_key_id = $1 OR resolution_key_id = $1)
		AND NOT EXISTS (SELECT 1 FROM ticket_notes WHERE key_id = $1)`, id)
	if err != nil {
		return false, wrap("delete sealing key", err)
	}
	return tag.RowsAffected() == 1, nil
}
