-- Re-sealing after a personal-data key rotation (broker keys rotate --kind
-- pii) claims the OAuth records still sealed under a retired key in
-- batches, and a retired key is deleted only when no record uses it: both
-- look records up by key. roster_persons has had roster_pii_key from the
-- start. Deactivating a record does not touch key_id, so those updates stay
-- HOT.

-- +goose Up
CREATE INDEX oauth_records_key ON oauth_records (key_id);

-- +goose Down
DROP INDEX oauth_records_key;
