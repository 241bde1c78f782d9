-- +goose Up
-- One active key per kind AND algorithm: ID tokens are signed with ES256 or
-- RS256 per client (issue 9, provider behaviour 2), so an ES256 and an RS256
-- signing key are active together, each rotated on its own. Every other kind
-- has one algorithm, so nothing changes for them.
DROP INDEX keys_one_active;
CREATE UNIQUE INDEX keys_one_active ON keys (kind, algorithm) WHERE retired_at IS NULL;

-- +goose Down
DROP INDEX keys_one_active;
CREATE UNIQUE INDEX keys_one_active ON keys (kind) WHERE retired_at IS NULL;
