-- +goose Up
-- The ESIA-side values a login's matching used, sealed with the
-- personal-data key (data, key_id; associated data: ref and tenant), kept
-- for the support console's «Проверить снова» for the tenant's period
-- (recheck_days, 0: the default 30). The retention janitor destroys them
-- after it: data and key_id are cleared, destroyed_at says when, and the
-- row goes with the attempt.
CREATE TABLE attempt_values (
    ref          text        PRIMARY KEY REFERENCES attempts (ref) ON DELETE CASCADE,
    tenant_id    text        NOT NULL,
    kept_at      timestamptz NOT NULL,
    data         bytea,
    key_id       text        NOT NULL DEFAULT '',
    destroyed_at timestamptz,
    CHECK ((data IS NULL) = (destroyed_at IS NOT NULL)),
    CHECK ((data IS NULL) = (key_id = ''))
);
-- The janitor's claim: a tenant's kept values, oldest first.
CREATE INDEX attempt_values_due ON attempt_values (tenant_id, kept_at) WHERE data IS NOT NULL;

ALTER TABLE tenants
    ADD COLUMN recheck_retention_days integer NOT NULL DEFAULT 0 CHECK (recheck_retention_days >= 0);

-- +goose Down
ALTER TABLE tenants DROP COLUMN recheck_retention_days;
DROP TABLE attempt_values;
