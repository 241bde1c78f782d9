-- +goose Up
-- Self-contained access tokens of logins (issue 13): a grant names its
-- current access token (a nonce the token carries under its MAC), so that
-- a rotation ends the access tokens issued before it without a row per
-- token. '' for grants whose access tokens have rows of their own.
ALTER TABLE oauth_grants ADD COLUMN access text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth_grants DROP COLUMN access;
