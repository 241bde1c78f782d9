-- +goose Up
-- At most one granted consent per tenant, record and kind (DESIGN.md §6):
-- the backstop of the record's decision lock (store.LockConsents) that the
-- self-consent and the parents' grants take. Concurrent first logins of one
-- adult used to make several granted consents, each with its evidence and
-- webhook; production data may hold such duplicates, so they are cleaned
-- first, deterministically, in the same transaction:
--   - of the granted consents of a tenant, record and kind, the newest
--     (granted_at, then seq — the order ConsentsOf reads) stays granted;
--   - the others become superseded, ended now, for the reason "duplicate",
--     each with a "superseded" evidence record without personal data (the
--     grant's own evidence stays as it was); no webhook is sent: the diary
--     still sees one granted consent.
-- The table is locked against writes (reads go on) while this runs, so
-- that no duplicate slips in between the cleaning and the index.
LOCK TABLE consents IN SHARE ROW EXCLUSIVE MODE;

CREATE TEMPORARY TABLE consents_duplicate ON COMMIT DROP AS
SELECT id, tenant_id, person_id FROM (
    SELECT id, tenant_id, person_id,
           row_number() OVER (PARTITION BY tenant_id, person_id, kind ORDER BY granted_at DESC, seq DESC) AS n
    FROM consents WHERE status = 'granted') ranked
WHERE n > 1;

UPDATE consents c SET status = 'superseded', ended_at = now(), end_reason = 'duplicate'
FROM consents_duplicate d WHERE c.id = d.id;

INSERT INTO consent_evidence (tenant_id, person_id, consent_id, event, at)
SELECT tenant_id, person_id, id, 'superseded', now() FROM consents_duplicate ORDER BY tenant_id, person_id, id;

CREATE UNIQUE INDEX consents_one_granted ON consents (tenant_id, person_id, kind) WHERE status = 'granted';

-- +goose Down
-- The superseded duplicates stay superseded.
DROP INDEX consents_one_granted;
