-- +goose Up
-- What staff write on a support ticket — comments and the resolution —
-- may name the person («звонила маме Павловой…»), so it is sealed with
-- the personal-data key like the reporter's contact and comment
-- (DESIGN.md §5). Rows written before stay readable as they are
-- (key_id '' means plaintext); new ones keep '' in the plaintext column.
ALTER TABLE ticket_notes ADD COLUMN sealed bytea, ADD COLUMN key_id text NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN resolution_sealed bytea, ADD COLUMN resolution_key_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tickets DROP COLUMN resolution_sealed, DROP COLUMN resolution_key_id;
ALTER TABLE ticket_notes DROP COLUMN sealed, DROP COLUMN key_id;
