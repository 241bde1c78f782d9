-- +goose Up
-- A client's PKCE policy ('' or 'required', 'optional' for a confidential
-- OIDC client that sends a nonce instead) and its ID token algorithm
-- (id_token_signed_response_alg: '' for the broker's default, ES256, RS256);
-- issue 9, provider behaviour 1 and 2.
ALTER TABLE clients
    ADD COLUMN pkce         text NOT NULL DEFAULT '' CHECK (pkce IN ('', 'required', 'optional')),
    ADD COLUMN id_token_alg text NOT NULL DEFAULT '' CHECK (id_token_alg IN ('', 'ES256', 'RS256'));

-- +goose Down
ALTER TABLE clients DROP COLUMN pkce, DROP COLUMN id_token_alg;
