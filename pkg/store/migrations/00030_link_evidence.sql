-- +goose Up
-- The evidence a link keeps of the ESIA person it was made for (DESIGN.md
-- §5, issue 4: links are re-checked when the roster record changes): the
-- blind indexes of the ESIA SNILS and birth date at the last check, never
-- the values. A roster write compares the record's own indexes with them
-- and suspends the link on disagreement, without waiting for a login.
-- Links made before this migration have none ('') until their next login.
ALTER TABLE links
    ADD COLUMN snils_index      text NOT NULL DEFAULT '',
    ADD COLUMN birth_date_index text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE links
    DROP COLUMN snils_index,
    DROP COLUMN birth_date_index;
