-- +goose Up
-- The refresh token reuse interval (docs/oauth.md). A rotation records on
-- the rotated refresh token when it happened and the signature of the
-- token that replaced it — no token, no secret: a signature is what the
-- table keys tokens by already. Neither column is indexed, so deactivation
-- stays a HOT update.
ALTER TABLE oauth_records ADD COLUMN rotated_at timestamptz, ADD COLUMN successor text NOT NULL DEFAULT '';
-- A tenant's token settings (store.TokenPolicy); '{}' is the defaults.
ALTER TABLE tenants ADD COLUMN tokens jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE tenants DROP COLUMN tokens;
ALTER TABLE oauth_records DROP COLUMN rotated_at, DROP COLUMN successor;
