-- +goose Up
CREATE TABLE tenants (
    id               text PRIMARY KEY,
    display_name     text        NOT NULL DEFAULT '',
    operator_name    text        NOT NULL DEFAULT '',
    operator_address text        NOT NULL DEFAULT '',
    time_zone        text        NOT NULL DEFAULT 'Europe/Moscow',
    matching         jsonb       NOT NULL DEFAULT '{}',
    consent          jsonb       NOT NULL DEFAULT '{}',
    webhook_url      text        NOT NULL DEFAULT '',
    webhook_secret   text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE clients (
    id                        text PRIMARY KEY,
    tenant_id                 text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                      text        NOT NULL DEFAULT '',
    secret_hash               bytea,
    public                    boolean     NOT NULL DEFAULT false,
    redirect_uris             text[]      NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[]      NOT NULL DEFAULT '{}',
    grant_types               text[]      NOT NULL DEFAULT '{}',
    response_types            text[]      NOT NULL DEFAULT '{}',
    scopes                    text[]      NOT NULL DEFAULT '{}',
    created_at                timestamptz NOT NULL
);
CREATE INDEX clients_tenant ON clients (tenant_id);

-- Roster records. Personal data lives only in pii, sealed (AES-256-GCM) under
-- the key named by pii_key_id; the ix_* columns are keyed blind indexes.
CREATE TABLE roster_persons (
    tenant_id     text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    external_id   text        NOT NULL,
    role          text        NOT NULL,
    school        text        NOT NULL DEFAULT '',
    class         text        NOT NULL DEFAULT '',
    pii           bytea       NOT NULL,
    pii_key_id    text        NOT NULL,
    ix_snils      text,
    ix_birth_cert text,
    ix_birth_date text,
    ix_name_birth text,
    flags         text[]      NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, external_id)
);
CREATE INDEX roster_ix_snils ON roster_persons (tenant_id, ix_snils) WHERE ix_snils IS NOT NULL;
CREATE INDEX roster_ix_birth_cert ON roster_persons (tenant_id, ix_birth_cert) WHERE ix_birth_cert IS NOT NULL;
CREATE INDEX roster_ix_birth_date ON roster_persons (tenant_id, ix_birth_date) WHERE ix_birth_date IS NOT NULL;
CREATE INDEX roster_ix_name_birth ON roster_persons (tenant_id, ix_name_birth) WHERE ix_name_birth IS NOT NULL;
CREATE INDEX roster_pii_key ON roster_persons (pii_key_id);

CREATE TABLE roster_relations (
    tenant_id  text NOT NULL,
    parent_id  text NOT NULL,
    student_id text NOT NULL,
    kind       text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, parent_id, student_id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES roster_persons (tenant_id, external_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, student_id) REFERENCES roster_persons (tenant_id, external_id) ON DELETE CASCADE
);
CREATE INDEX roster_relations_student ON roster_relations (tenant_id, student_id);

CREATE TABLE links (
    tenant_id   text        NOT NULL,
    esia_oid    text        NOT NULL,
    external_id text        NOT NULL,
    role        text        NOT NULL DEFAULT '',
    rung        text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT 'active',
    reason      text        NOT NULL DEFAULT '',
    esia_etag   text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, esia_oid, external_id),
    FOREIGN KEY (tenant_id, external_id) REFERENCES roster_persons (tenant_id, external_id) ON DELETE CASCADE
);
CREATE INDEX links_record ON links (tenant_id, external_id);

-- Login attempts for support: masked values and outcomes only.
CREATE TABLE attempts (
    ref        text PRIMARY KEY,
    tenant_id  text        NOT NULL DEFAULT '',
    client_id  text        NOT NULL DEFAULT '',
    esia_oid   text        NOT NULL DEFAULT '',
    outcome    text        NOT NULL DEFAULT '',
    reason     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX attempts_oid ON attempts (tenant_id, esia_oid, created_at DESC);

CREATE TABLE attempt_events (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref    text        NOT NULL REFERENCES attempts (ref) ON DELETE CASCADE,
    step   text        NOT NULL,
    at     timestamptz NOT NULL,
    detail jsonb
);
CREATE INDEX attempt_events_ref ON attempt_events (ref, id);

-- The broker's own keys, secret parts sealed under BROKER_KEK.
CREATE TABLE keys (
    id            text PRIMARY KEY,
    kind          text        NOT NULL,
    algorithm     text        NOT NULL DEFAULT '',
    sealed        bytea       NOT NULL,
    public        bytea,
    created_at    timestamptz NOT NULL,
    retired_at    timestamptz,
    publish_until timestamptz
);
CREATE UNIQUE INDEX keys_one_active ON keys (kind) WHERE retired_at IS NULL;

-- Downstream OAuth codes, tokens and request sessions, keyed by signature.
CREATE TABLE oauth_records (
    kind       text        NOT NULL,
    signature  text        NOT NULL,
    request_id text        NOT NULL DEFAULT '',
    client_id  text        NOT NULL DEFAULT '',
    tenant_id  text        NOT NULL DEFAULT '',
    subject    text        NOT NULL DEFAULT '',
    active     boolean     NOT NULL DEFAULT true,
    data       bytea       NOT NULL, -- sealed: it holds the claims given to the diary
    key_id     text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (kind, signature)
) WITH (fillfactor = 80); -- room for HOT updates: deactivation touches no indexed column
CREATE INDEX oauth_records_request ON oauth_records (kind, request_id);
CREATE INDEX oauth_records_subject ON oauth_records (tenant_id, subject);
CREATE INDEX oauth_records_expiry ON oauth_records (expires_at);

-- +goose Down
DROP TABLE oauth_records;
DROP TABLE keys;
DROP TABLE attempt_events;
DROP TABLE attempts;
DROP TABLE links;
DROP TABLE roster_relations;
DROP TABLE roster_persons;
DROP TABLE clients;
DROP TABLE tenants;
