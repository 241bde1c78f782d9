-- +goose NO TRANSACTION
-- +goose Up
-- One index for a login's events (issue 13): attempt_events had a primary
-- key on id and an index on (ref, id), two B-tree insertions per event —
-- four events a login. Nothing looks an event up by id alone (an
-- attempt's events are read by ref, in id order), so (ref, id) becomes
-- the primary key and the two indexes one. The unique index is built
-- CONCURRENTLY (logins keep journaling while it runs) and then taken over
-- by the constraint: the columns are NOT NULL already, so no scan, but
-- the swap needs the table's exclusive lock, which it waits for at most
-- 5 s (a long transaction on the table, such as a tenant's deletion,
-- would otherwise hold every login's journaling behind the waiting
-- ALTER); it then fails and `broker migrate up` can be run again. A
-- build that failed half-way leaves an invalid index of that name, so it
-- is dropped first; a rerun after the swap builds it again and swaps
-- again.
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_ref_id;
CREATE UNIQUE INDEX CONCURRENTLY attempt_events_ref_id ON attempt_events (ref, id);
-- +goose StatementBegin
BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE attempt_events DROP CONSTRAINT attempt_events_pkey,
    ADD CONSTRAINT attempt_events_pkey PRIMARY KEY USING INDEX attempt_events_ref_id;
COMMIT;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_ref;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_id;
CREATE UNIQUE INDEX CONCURRENTLY attempt_events_id ON attempt_events (id);
DROP INDEX CONCURRENTLY IF EXISTS attempt_events_ref;
CREATE INDEX CONCURRENTLY attempt_events_ref ON attempt_events (ref, id);
-- +goose StatementBegin
BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE attempt_events DROP CONSTRAINT attempt_events_pkey,
    ADD CONSTRAINT attempt_events_pkey PRIMARY KEY USING INDEX attempt_events_id;
COMMIT;
-- +goose StatementEnd
