-- +goose NO TRANSACTION
-- +goose Up
-- Checks the existing rows against the foreign key 00031 added NOT VALID.
-- VALIDATE takes a SHARE UPDATE EXCLUSIVE lock on attempt_records and a
-- ROW SHARE lock on attempts: logins keep writing while it scans.
ALTER TABLE attempt_records VALIDATE CONSTRAINT attempt_records_ref_fkey;

-- +goose Down
SELECT 1;
