-- +goose NO TRANSACTION
-- +goose Up
-- One index for a login's events (issue 13): attempt_events had a primary
-- key on id and an index on (ref, id), two B-tree insertions per event —
-- four events a login. Nothing looks an event up by id alone (an
-- attempt's events are read by ref, in id order), so (ref, id) becomes
-- the primary key and the two indexes one. The unique index is built
-- CONCURRENTLY (logins keep journaling while it runs) and then taken over
-- by the constraint (the columns are NOT NULL already: no table scan, a
-- moment's lock). A build that failed half-way leaves an invalid index of
-- that name, so it is dropped first; a rerun after the swap builds it
-- again and swaps again.
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_ref_id;
CREATE UNIQUE INDEX CONCURRENTLY attempt_events_ref_id ON attempt_events (ref, id);
ALTER TABLE attempt_events DROP CONSTRAINT attempt_events_pkey,
    ADD CONSTRAINT attempt_events_pkey PRIMARY KEY USING INDEX attempt_events_ref_id;
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_ref;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_id;
CREATE UNIQUE INDEX CONCURRENTLY attempt_events_id ON attempt_events (id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempt_events_ref ON attempt_events (ref, id);
ALTER TABLE attempt_events DROP CONSTRAINT attempt_events_pkey,
    ADD CONSTRAINT attempt_events_pkey PRIMARY KEY USING INDEX attempt_events_id;
