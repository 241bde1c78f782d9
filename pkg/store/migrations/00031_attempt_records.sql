-- +goose Up
-- The roster records a login attempt named — the candidates the ladder
-- compared, the record a diary asked to link, the links a re-check
-- suspended — so that support finds the failed logins of a record («дневник
-- не найден») that never made a link. created_at is the attempt's, copied
-- so that the newest attempts of a record come from the index alone.
--
-- Replicas keep serving while this runs: the table is made without its
-- foreign key, filled from the existing attempts (which takes only a read
-- lock on attempts), and the key is added last, NOT VALID — its lock on
-- attempts, which would stop every login's attempt upsert, lasts from there
-- to the commit only. 00032 validates it without blocking writes.
CREATE TABLE attempt_records (
    ref         text        NOT NULL,
    tenant_id   text        NOT NULL,
    external_id text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (ref, external_id)
);
CREATE INDEX attempt_records_record ON attempt_records (tenant_id, external_id, created_at DESC, ref DESC);

-- Attempts recorded before this migration: the same records, read from the
-- events' detail (store.RecordsNamedIn).
INSERT INTO attempt_records (ref, tenant_id, external_id, created_at)
SELECT DISTINCT a.ref, a.tenant_id, r.id, a.created_at
FROM attempts a
JOIN attempt_events e ON e.ref = a.ref AND jsonb_typeof(e.detail) = 'object'
CROSS JOIN LATERAL (
    SELECT c ->> 'record' FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(e.detail -> 'candidates') = 'array' THEN e.detail -> 'candidates' ELSE '[]'::jsonb END) AS c
    UNION
    SELECT s ->> 'record' FROM jsonb_array_elements(
        CASE WHEN jsonb_typeof(e.detail -> 'suspended_links') = 'array' THEN e.detail -> 'suspended_links' ELSE '[]'::jsonb END) AS s
    UNION
    SELECT e.detail ->> 'manual_record'
) AS r(id)
WHERE r.id IS NOT NULL AND r.id <> ''
ON CONFLICT DO NOTHING;

ALTER TABLE attempt_records ADD CONSTRAINT attempt_records_ref_fkey
    FOREIGN KEY (ref) REFERENCES attempts (ref) ON DELETE CASCADE NOT VALID;

-- +goose Down
DROP TABLE attempt_records;
