package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

var _ store.Consents = (*Store)(nil)

// rowLimit is the number of rows a claim or a list takes when the caller
// passes limit ≤ 0.
func rowLimit(limit int) int {
	if limit <= 0 {
		return 100
	}
	return limit
}

// microUTC is t as PostgreSQL keeps it: pgx sends microseconds, truncated.
func microUTC(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// timeOf reads a nullable timestamp: NULL is the zero time.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

const consentColumns = `id, tenant_id, person_id, kind, grantor_oid, grantor_record, request_id,
	text_version, text_hash, status, granted_at, expires_at, ended_at, end_reason`

func scanConsent(row pgx.Row) (store.Consent, error) {
	var c store.Consent
	var kind, status string
	var expires, ended *time.Time
	if err := row.Scan(&c.ID, &c.TenantID, &c.PersonID, &kind, &c.GrantorOID, &c.GrantorRecord, &c.RequestID,
		&c.TextVersion, &c.TextHash, &status, &c.GrantedAt, &expires, &ended, &c.EndReason); err != nil {
		return store.Consent{}, err
	}
	c.Kind, c.Status = store.ConsentKind(kind), store.ConsentStatus(status)
	c.GrantedAt, c.ExpiresAt, c.EndedAt = c.GrantedAt.UTC(), timeOf(expires), timeOf(ended)
	return c, nil
}

func collectConsents(rows pgx.Rows, err error) ([]store.Consent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateConsent implements store.Consents. An empty status is granted, a
// zero GrantedAt is now. A second granted consent of a record and kind
// violates the index consents_one_granted: ErrAlreadyExists, which aborts
// the caller's transaction.
func (s *Store) CreateConsent(ctx context.Context, c store.Consent) error {
	if c.Status == "" {
		c.Status = store.ConsentGranted
	}
	if err := store.ValidateConsent(c); err != nil {
		return err
	}
	if c.GrantedAt.IsZero() {
		c.GrantedAt = s.now()
	}
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO consents (`+consentColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.TenantID, c.PersonID, string(c.Kind), c.GrantorOID, c.GrantorRecord, c.RequestID,
		c.TextVersion, c.TextHash, string(c.Status), c.GrantedAt, nullTime(c.ExpiresAt), nullTime(c.EndedAt), c.EndReason)
	return wrap("create consent", err)
}

// ConsentsOf implements store.Consents: newest first.
func (s *Store) ConsentsOf(ctx context.Context, tenantID, personID string) ([]store.Consent, error) {
	if !store.ValidKeys(tenantID, personID) {
		return nil, nil
	}
	out, err := collectConsents(s.q(ctx).Query(ctx, `SELECT `+consentColumns+` FROM consents
		WHERE tenant_id = $1 AND person_id = $2 ORDER BY granted_at DESC, seq DESC`, tenantID, personID))
	return out, wrap("consents of", err)
}

// changed runs a conditional UPDATE wrapped as
// `WITH u AS (UPDATE … RETURNING 1) SELECT EXISTS (SELECT 1 FROM u), EXISTS (…the row…)`
// and turns its answer into nil, ErrInactive or ErrNotFound. A concurrent
// caller waits for the winner's row lock, then finds the condition false.
func (s *Store) changed(ctx context.Context, op, sql string, args ...any) error {
	var updated, exists bool
	if err := s.q(ctx).QueryRow(ctx, sql, args...).Scan(&updated, &exists); err != nil {
		return wrap(op, err)
	}
	switch {
	case updated:
		return nil
	case exists:
		return store.ErrInactive
	}
	return store.ErrNotFound
}

// EndConsent implements store.Consents.
func (s *Store) EndConsent(ctx context.Context, tenantID, id string, status store.ConsentStatus, reason string, at time.Time) error {
	if err := store.CheckText("end_reason", reason, store.MaxTextLength); err != nil {
		return err
	}
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	switch status {
	case store.ConsentRevoked, store.ConsentExpired, store.ConsentSuperseded:
	default:
		return fmt.Errorf("%w: a consent cannot end as %q", store.ErrInvalid, status)
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.changed(ctx, "end consent", `WITH u AS (
			UPDATE consents SET status = $3, end_reason = $4, ended_at = $5
			WHERE tenant_id = $1 AND id = $2 AND status = 'granted' RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM consents WHERE tenant_id = $1 AND id = $2)`,
		tenantID, id, string(status), reason, at)
}

// ExpireConsents implements store.Consents. An expired consent ended when
// it expired (EndedAt = ExpiresAt), whenever the janitor noticed, with the
// reason "term". Rows locked by another replica's claim are skipped.
func (s *Store) ExpireConsents(ctx context.Context, now time.Time, limit int) ([]store.Consent, error) {
	out, err := collectConsents(s.q(ctx).Query(ctx, `WITH due AS (
			SELECT id FROM consents WHERE status = 'granted' AND expires_at < $1
			ORDER BY expires_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED),
		done AS (
			UPDATE consents c SET status = 'expired', ended_at = c.expires_at, end_reason = 'term'
			FROM due WHERE c.id = due.id RETURNING c.*)
		SELECT `+consentColumns+` FROM done ORDER BY expires_at, seq`, now, rowLimit(limit)))
	return out, wrap("expire consents", err)
}

const requestColumns = `id, tenant_id, person_id, child_oid, parents, status, declines, created_at, expires_at, closed_at`

// scanRequest reads requestColumns and then extra.
func scanRequest(row pgx.Row, extra ...any) (store.ConsentRequest, error) {
	var r store.ConsentRequest
	var status string
	var declines []byte
	var expires, closed *time.Time
	dest := append([]any{&r.ID, &r.TenantID, &r.PersonID, &r.ChildOID, &r.Parents, &status, &declines,
		&r.CreatedAt, &expires, &closed}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.ConsentRequest{}, err
	}
	r.Status = store.RequestStatus(status)
	r.CreatedAt, r.ExpiresAt, r.ClosedAt = r.CreatedAt.UTC(), timeOf(expires), timeOf(closed)
	if len(r.Parents) == 0 {
		r.Parents = nil
	}
	if err := json.Unmarshal(declines, &r.Declines); err != nil {
		return store.ConsentRequest{}, fmt.Errorf("decode declines of request %s: %w", r.ID, err)
	}
	if len(r.Declines) == 0 {
		r.Declines = nil
	}
	for i := range r.Declines {
		r.Declines[i].At = r.Declines[i].At.UTC()
	}
	return r, nil
}

func collectRequests(rows pgx.Rows, err error) ([]store.ConsentRequest, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ConsentRequest
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// declinesJSON encodes declines as stored: times in UTC to the microsecond.
func declinesJSON(ds []store.Decline) (string, error) {
	out := make([]store.Decline, len(ds))
	for i, d := range ds {
		d.At = microUTC(d.At)
		out[i] = d
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// OpenRequest implements store.Consents in one round trip when there is no
// race: the insert yields to the open request of the record (the partial
// unique index consent_requests_one_open), which the same statement reads.
// When a concurrent caller's request committed after this statement's
// snapshot, the insert does nothing and sees nothing, and a second
// statement reads the winner.
func (s *Store) OpenRequest(ctx context.Context, r store.ConsentRequest) (store.ConsentRequest, bool, error) {
	if err := store.ValidateConsentRequest(r); err != nil {
		return store.ConsentRequest{}, false, err
	}
	if r.Status == "" {
		r.Status = store.RequestOpen
	}
	if r.ID == "" || r.TenantID == "" || r.PersonID == "" {
		return store.ConsentRequest{}, false, fmt.Errorf("%w: consent request needs an id, a tenant and a record", store.ErrInvalid)
	}
	if r.Status != store.RequestOpen {
		return store.ConsentRequest{}, false, fmt.Errorf("%w: a new consent request is open, not %q", store.ErrInvalid, r.Status)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	declines, err := declinesJSON(r.Declines)
	if err != nil {
		return store.ConsentRequest{}, false, fmt.Errorf("postgres: open request: %w", err)
	}
	for attempt := 0; attempt < 10; attempt++ {
		rows, err := s.q(ctx).Query(ctx, `WITH ins AS (
				INSERT INTO consent_requests (`+requestColumns+`)
				VALUES ($1, $2, $3, $4, $5, 'open', $6::jsonb, $7, $8, $9)
				ON CONFLICT (tenant_id, person_id) WHERE status = 'open' DO NOTHING
				RETURNING `+requestColumns+`)
			SELECT `+requestColumns+`, true FROM ins
			UNION ALL
			SELECT `+requestColumns+`, false FROM consent_requests
			WHERE tenant_id = $2 AND person_id = $3 AND status = 'open'`,
			r.ID, r.TenantID, r.PersonID, r.ChildOID, nonNil(r.Parents), declines, r.CreatedAt, nullTime(r.ExpiresAt), nullTime(r.ClosedAt))
		if err != nil {
			return store.ConsentRequest{}, false, wrap("open request", err)
		}
		got, created, found, err := scanOpened(rows)
		if err != nil {
			return store.ConsentRequest{}, false, wrap("open request", err)
		}
		if found {
			return got, created, nil
		}
		// Lost a race: the winner is visible to a new statement, unless it
		// was closed meanwhile, and then the insert is tried again.
		got, err = scanRequest(s.q(ctx).QueryRow(ctx, `SELECT `+requestColumns+` FROM consent_requests
			WHERE tenant_id = $1 AND person_id = $2 AND status = 'open'`, r.TenantID, r.PersonID))
		if err == nil {
			return got, false, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return store.ConsentRequest{}, false, wrap("open request", err)
		}
	}
	return store.ConsentRequest{}, false, fmt.Errorf("postgres: open request: the open request of %s/%s keeps changing", r.TenantID, r.PersonID)
}

// scanOpened reads OpenRequest's rows: the inserted request wins over an
// open one of the statement's snapshot (closed meanwhile).
func scanOpened(rows pgx.Rows) (req store.ConsentRequest, created, found bool, err error) {
	defer rows.Close()
	for rows.Next() {
		var inserted bool
		r, err := scanRequest(rows, &inserted)
		if err != nil {
			return store.ConsentRequest{}, false, false, err
		}
		if !found || inserted {
			req, created, found = r, inserted, true
		}
	}
	return req, created, found, rows.Err()
}

// OpenRequestOf implements store.Consents; the row is locked FOR UPDATE,
// which the janitor's SKIP LOCKED claim passes by.
func (s *Store) OpenRequestOf(ctx context.Context, tenantID, personID string) (store.ConsentRequest, error) {
	if !store.ValidKeys(tenantID, personID) {
		return store.ConsentRequest{}, store.ErrNotFound
	}
	r, err := scanRequest(s.q(ctx).QueryRow(ctx, `SELECT `+requestColumns+` FROM consent_requests
		WHERE tenant_id = $1 AND person_id = $2 AND status = 'open' FOR UPDATE`, tenantID, personID))
	return r, wrap("open request of", err)
}

// LockConsents implements store.Consents with a row lock on the roster
// record (FOR NO KEY UPDATE: it conflicts with itself, not with the key
// share locks of foreign-key checks, so links and relations of the record
// are written meanwhile).
func (s *Store) LockConsents(ctx context.Context, tenantID, personID string) error {
	if !store.ValidKeys(tenantID, personID) {
		return nil
	}
	if s.txOf(ctx) == nil {
		return nil
	}
	_, err := s.q(ctx).Exec(ctx, `SELECT 1 FROM roster_persons WHERE tenant_id = $1 AND external_id = $2 FOR NO KEY UPDATE`,
		tenantID, personID)
	return wrap("lock consents", err)
}

// GetRequest implements store.Consents.
func (s *Store) GetRequest(ctx context.Context, tenantID, id string) (store.ConsentRequest, error) {
	if !store.ValidKeys(tenantID, id) {
		return store.ConsentRequest{}, store.ErrNotFound
	}
	r, err := scanRequest(s.q(ctx).QueryRow(ctx, `SELECT `+requestColumns+` FROM consent_requests
		WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return r, wrap("get request", err)
}

// OpenRequestsFor implements store.Consents: oldest first.
func (s *Store) OpenRequestsFor(ctx context.Context, tenantID, parentRecord string) ([]store.ConsentRequest, error) {
	if !store.ValidKeys(tenantID, parentRecord) {
		return nil, nil
	}
	out, err := collectRequests(s.q(ctx).Query(ctx, `SELECT `+requestColumns+` FROM consent_requests
		WHERE tenant_id = $1 AND status = 'open' AND parents @> ARRAY[$2::text]
		ORDER BY created_at, seq`, tenantID, parentRecord))
	return out, wrap("open requests for", err)
}

// AddDecline implements store.Consents: a closed request is ErrInactive, a
// second decline of the same parent ErrAlreadyExists (a parent is named by
// the roster record, or by the ESIA oid when not in the roster). A zero At
// is now. Concurrent declines of two parents are both kept: the second
// update waits for the first's row lock and appends to what it wrote.
func (s *Store) AddDecline(ctx context.Context, tenantID, id string, d store.Decline) error {
	if err := store.ValidateDecline(d); err != nil {
		return err
	}
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	if d.ParentRecord == "" && d.GrantorOID == "" {
		return fmt.Errorf("%w: a decline needs the parent's record or ESIA oid", store.ErrInvalid)
	}
	if d.At.IsZero() {
		d.At = s.now()
	}
	one, err := declinesJSON([]store.Decline{d})
	if err != nil {
		return fmt.Errorf("postgres: add decline: %w", err)
	}
	// The JSON a decline of the same parent contains.
	who := map[string]string{"parent_record": d.ParentRecord}
	if d.ParentRecord == "" {
		who["grantor_oid"] = d.GrantorOID
	}
	byParent, err := json.Marshal([]map[string]string{who})
	if err != nil {
		return fmt.Errorf("postgres: add decline: %w", err)
	}
	tag, err := s.q(ctx).Exec(ctx, `UPDATE consent_requests SET declines = declines || $3::jsonb
		WHERE tenant_id = $1 AND id = $2 AND status = 'open' AND NOT declines @> $4::jsonb`,
		tenantID, id, one, string(byParent))
	if err != nil {
		return wrap("add decline", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Why not, as of now (a new statement sees a concurrent winner).
	var status string
	var declined bool
	err = s.q(ctx).QueryRow(ctx, `SELECT status, declines @> $3::jsonb FROM consent_requests
		WHERE tenant_id = $1 AND id = $2`, tenantID, id, string(byParent)).Scan(&status, &declined)
	switch {
	case err != nil:
		return wrap("add decline", err)
	case status != string(store.RequestOpen):
		return store.ErrInactive
	case declined:
		return store.ErrAlreadyExists
	}
	return fmt.Errorf("postgres: add decline: request %s changed meanwhile", id)
}

// CloseRequest implements store.Consents.
func (s *Store) CloseRequest(ctx context.Context, tenantID, id string, status store.RequestStatus, at time.Time) error {
	if !store.ValidKeys(tenantID, id) {
		return store.ErrNotFound
	}
	if status != store.RequestGranted && status != store.RequestExpired {
		return fmt.Errorf("%w: a consent request cannot close as %q", store.ErrInvalid, status)
	}
	if at.IsZero() {
		at = s.now()
	}
	return s.changed(ctx, "close request", `WITH u AS (
			UPDATE consent_requests SET status = $3, closed_at = $4
			WHERE tenant_id = $1 AND id = $2 AND status = 'open' RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM consent_requests WHERE tenant_id = $1 AND id = $2)`,
		tenantID, id, string(status), at)
}

// ExpireRequests implements store.Consents. An expired request closed when
// it expired (ClosedAt = ExpiresAt). Rows locked by another replica's claim
// are skipped.
func (s *Store) ExpireRequests(ctx context.Context, now time.Time, limit int) ([]store.ConsentRequest, error) {
	out, err := collectRequests(s.q(ctx).Query(ctx, `WITH due AS (
			SELECT id FROM consent_requests WHERE status = 'open' AND expires_at < $1
			ORDER BY expires_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED),
		done AS (
			UPDATE consent_requests r SET status = 'expired', closed_at = r.expires_at
			FROM due WHERE r.id = due.id RETURNING r.*)
		SELECT `+requestColumns+` FROM done ORDER BY expires_at, seq`, now, rowLimit(limit)))
	return out, wrap("expire requests", err)
}

// evidenceAAD binds sealed evidence details to their row.
func evidenceAAD(tenantID, personID string, id int64) []byte {
	return []byte("evidence\x00" + tenantID + "\x00" + personID + "\x00" + strconv.FormatInt(id, 10))
}

// evidenceDestroyedEvent is the event that records a destruction; its
// record never counts as holding personal data.
const evidenceDestroyedEvent = "destroyed"

func detailsEmpty(d store.EvidenceDetails) bool {
	return d.GrantorOID == "" && d.GrantorName == "" && d.SubjectName == "" && d.SubjectOID == "" &&
		d.Operator == "" && d.OperatorAddress == "" && d.Purpose == "" && len(d.DataCategories) == 0 &&
		d.TextVersion == "" && d.TextHash == "" && d.ESIASessionID == "" && d.Channel == "" && d.Note == ""
}

// AppendEvidence implements store.Consents. The details are sealed like
// roster personal data, under associated data naming the row (so the id is
// taken from the sequence first); empty details are stored as NULL. A zero
// At is now.
func (s *Store) AppendEvidence(ctx context.Context, e store.Evidence) error {
	if err := store.ValidateEvidence(e); err != nil {
		return err
	}
	if e.TenantID == "" || e.PersonID == "" || e.Event == "" {
		return fmt.Errorf("%w: evidence needs a tenant, a record and an event", store.ErrInvalid)
	}
	if e.Destroyed {
		return fmt.Errorf("%w: evidence cannot be appended destroyed", store.ErrInvalid)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	if detailsEmpty(e.Details) {
		_, err := s.q(ctx).Exec(ctx, `INSERT INTO consent_evidence (tenant_id, person_id, consent_id, request_id, event, at)
			VALUES ($1, $2, $3, $4, $5, $6)`, e.TenantID, e.PersonID, e.ConsentID, e.RequestID, e.Event, e.At)
		return wrap("append evidence", err)
	}
	if s.sealer == nil {
		return ErrNoSealer
	}
	plain, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("postgres: append evidence: %w", err)
	}
	var id int64
	if err := s.q(ctx).QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('consent_evidence', 'id'))`).Scan(&id); err != nil {
		return wrap("append evidence", err)
	}
	keyID, sealed, err := s.sealer.Seal(plain, evidenceAAD(e.TenantID, e.PersonID, id))
	if err != nil {
		return fmt.Errorf("postgres: append evidence: %w", err)
	}
	_, err = s.q(ctx).Exec(ctx, `INSERT INTO consent_evidence
		(id, tenant_id, person_id, consent_id, request_id, event, at, details, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id, e.TenantID, e.PersonID, e.ConsentID, e.RequestID, e.Event, e.At, sealed, keyID)
	return wrap("append evidence", err)
}

// EvidenceOf implements store.Consents: oldest first.
func (s *Store) EvidenceOf(ctx context.Context, tenantID, personID string) ([]store.Evidence, error) {
	if !store.ValidKeys(tenantID, personID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT id, consent_id, request_id, event, at, details, key_id, destroyed
		FROM consent_evidence WHERE tenant_id = $1 AND person_id = $2 ORDER BY at, id`, tenantID, personID)
	if err != nil {
		return nil, wrap("evidence of", err)
	}
	defer rows.Close()
	var out []store.Evidence
	for rows.Next() {
		e := store.Evidence{TenantID: tenantID, PersonID: personID}
		var sealed []byte
		var keyID string
		if err := rows.Scan(&e.ID, &e.ConsentID, &e.RequestID, &e.Event, &e.At, &sealed, &keyID, &e.Destroyed); err != nil {
			return nil, wrap("evidence of", err)
		}
		e.At = e.At.UTC()
		if sealed != nil {
			if s.sealer == nil {
				return nil, ErrNoSealer
			}
			plain, err := s.sealer.Open(keyID, sealed, evidenceAAD(tenantID, personID, e.ID))
			if err != nil {
				return nil, fmt.Errorf("postgres: open evidence %d: %w", e.ID, err)
			}
			if err := json.Unmarshal(plain, &e.Details); err != nil {
				return nil, fmt.Errorf("postgres: decode evidence %d: %w", e.ID, err)
			}
		}
		out = append(out, e)
	}
	return out, wrap("evidence of", rows.Err())
}

// DestroyEvidence implements store.Consents: the sealed details are
// dropped (the append-only trigger allows exactly this change), and the
// oids of the record's consents and requests cleared, in one transaction.
// Records already destroyed are not counted again.
func (s *Store) DestroyEvidence(ctx context.Context, tenantID, personID string, before time.Time) (int, error) {
	if !store.ValidKeys(tenantID, personID) {
		return 0, nil
	}
	n := 0
	err := s.InTx(ctx, func(ctx context.Context) error {
		tag, err := s.q(ctx).Exec(ctx, `UPDATE consent_evidence SET details = NULL, key_id = '', destroyed = true
			WHERE tenant_id = $1 AND person_id = $2 AND at < $3 AND NOT destroyed`, tenantID, personID, before)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if _, err := s.q(ctx).Exec(ctx, `UPDATE consents SET grantor_oid = ''
			WHERE tenant_id = $1 AND person_id = $2 AND granted_at < $3 AND grantor_oid <> ''`, tenantID, personID, before); err != nil {
			return err
		}
		_, err = s.q(ctx).Exec(ctx, `UPDATE consent_requests SET child_oid = '',
				declines = (SELECT coalesce(jsonb_agg(d || '{"grantor_oid": ""}'::jsonb ORDER BY i), '[]'::jsonb)
					FROM jsonb_array_elements(declines) WITH ORDINALITY AS x(d, i))
			WHERE tenant_id = $1 AND person_id = $2 AND created_at < $3
			AND (child_oid <> '' OR declines <> '[]'::jsonb)`, tenantID, personID, before)
		return err
	})
	if err != nil {
		return 0, wrap("destroy evidence", err)
	}
	return n, nil
}

// ClaimWithdrawn implements store.Consents. It starts from the tenant's
// revoked consents (index consents_revoked), keeps those no newer consent
// of the record follows, and whose record has evidence with personal data:
// not empty, not destroyed, and not the record of a destruction (event
// "destroyed"), so that noting one does not make the record due again.
func (s *Store) ClaimWithdrawn(ctx context.Context, tenantID string, before time.Time, limit int) ([]store.ConsentRef, error) {
	if !store.ValidKeys(tenantID) {
		return nil, nil
	}
	rows, err := s.q(ctx).Query(ctx, `SELECT c.tenant_id, c.person_id FROM consents c
		WHERE c.tenant_id = $1 AND c.status = 'revoked' AND c.ended_at < $2
		AND NOT EXISTS (SELECT 1 FROM consents n WHERE n.tenant_id = c.tenant_id AND n.person_id = c.person_id
			AND (n.granted_at > c.granted_at OR n.granted_at = c.granted_at AND n.seq > c.seq))
		AND EXISTS (SELECT 1 FROM consent_evidence e WHERE e.tenant_id = c.tenant_id AND e.person_id = c.person_id
			AND e.details IS NOT NULL AND e.event <> $4)
		ORDER BY c.ended_at, c.person_id LIMIT $3 FOR UPDATE OF c SKIP LOCKED`, tenantID, before, rowLimit(limit), evidenceDestroyedEvent)
	if err != nil {
		return nil, wrap("claim withdrawn", err)
	}
	defer rows.Close()
	var out []store.ConsentRef
	for rows.Next() {
		var r store.ConsentRef
		if err := rows.Scan(&r.TenantID, &r.PersonID); err != nil {
			return nil, wrap("claim withdrawn", err)
		}
		out = append(out, r)
	}
	return out, wrap("claim withdrawn", rows.Err())
}
