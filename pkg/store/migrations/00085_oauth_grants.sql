-- +goose Up
-- The session once per grant (issue 13): the sealed request — claims,
-- scopes, what fosite needs — is kept here once, written at code exchange;
-- the grant's access and refresh token rows in oauth_records then carry no
-- data (data = '', key_id = '') nor subject (subject = '') and read them
-- from here. Older token rows,
-- and codes with their PKCE and OpenID sessions, keep their own.
CREATE TABLE oauth_grants (
    request_id text        PRIMARY KEY,
    client_id  text        NOT NULL DEFAULT '',
    tenant_id  text        NOT NULL DEFAULT '',
    subject    text        NOT NULL DEFAULT '',
    data       bytea       NOT NULL, -- sealed: it holds the claims given to the diary
    key_id     text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz
) WITH (fillfactor = 90); -- a rotation moves expires_at on
CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at);
CREATE INDEX oauth_grants_subject ON oauth_grants (tenant_id, subject);

-- +goose Down
DROP TABLE oauth_grants;
