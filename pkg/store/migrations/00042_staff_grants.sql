-- +goose Up
-- Staff grants of the support console (/support, docs/support.md). The
-- SNILS is kept only as its blind index (the roster's SNILS index key) and a
-- masked form; the ESIA oid is bound at the grant's first sign-in. An
-- operator grant has no tenant (NULL); a person has at most one grant per
-- tenant and one operator grant.
CREATE TABLE staff_grants (
    id           text        PRIMARY KEY,
    tenant_id    text        REFERENCES tenants (id) ON DELETE CASCADE,
    role         text        NOT NULL CHECK (role IN ('school_admin', 'tenant_support', 'operator')),
    schools      text[]      NOT NULL DEFAULT '{}',
    ix_snils     text        NOT NULL,
    snils_masked text        NOT NULL DEFAULT '',
    esia_oid     text        NOT NULL DEFAULT '',
    granted_by   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK ((role = 'operator') = (tenant_id IS NULL)),
    CHECK ((role = 'school_admin') = (cardinality(schools) > 0))
);
CREATE UNIQUE INDEX staff_grants_person ON staff_grants (COALESCE(tenant_id, ''), ix_snils);
CREATE INDEX staff_grants_snils ON staff_grants (ix_snils);

-- +goose Down
DROP TABLE staff_grants;
