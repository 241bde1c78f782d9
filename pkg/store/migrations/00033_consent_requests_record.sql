-- +goose NO TRANSACTION
-- +goose Up
-- The requests of one record, open or closed: the destruction of a
-- withdrawn record's evidence clears the ESIA oids of its requests
-- (DestroyEvidence), which without this read the whole table, closed
-- requests being kept. Built CONCURRENTLY: requests keep being written.
CREATE INDEX CONCURRENTLY IF NOT EXISTS consent_requests_record ON consent_requests (tenant_id, person_id, created_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS consent_requests_record;
