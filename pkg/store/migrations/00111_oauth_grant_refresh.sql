-- +goose Up
-- A grant keeps its live refresh token (issue 13): the token's row key
-- (an HMAC of the ory_rg_ token, as an oauth_records signature would be),
-- when it was issued (the rotation's time, which the reuse interval is
-- measured from) and when it expires. A rotation is then one UPDATE of
-- the grant, gated on refresh being the presented token's key, and a code
-- exchange writes no refresh token row. '' for grants from before, whose
-- refresh tokens have rows (their first rotation moves the token here).
-- Constant defaults only: the ALTER changes the catalog, not the rows.
-- refresh is in no index, and a rotation moves the indexed expires_at
-- only now and then, so most rotations are HOT updates.
ALTER TABLE oauth_grants
    ADD COLUMN refresh            text NOT NULL DEFAULT '',
    ADD COLUMN refresh_at         timestamptz,
    ADD COLUMN refresh_expires_at timestamptz;

-- +goose Down
ALTER TABLE oauth_grants
    DROP COLUMN refresh,
    DROP COLUMN refresh_at,
    DROP COLUMN refresh_expires_at;
