-- +goose Up
-- A grant knows it was revoked (reuse detection, revocation, logout,
-- consent withdrawal): its tokens read as inactive, a rotation of one of
-- them fails, and a rotation never moves its expiry on again. Revocation
-- and rotation both take the grant's row lock first, so a rotation under
-- way either ends before the revocation sees its new refresh token, or
-- finds the grant revoked.
ALTER TABLE oauth_grants ADD COLUMN revoked_at timestamptz;

-- +goose Down
ALTER TABLE oauth_grants DROP COLUMN revoked_at;
