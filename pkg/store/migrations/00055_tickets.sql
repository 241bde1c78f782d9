-- +goose Up
-- Support tickets («Сообщить о проблеме» on the failed-login pages,
-- docs/support.md): bound to an attempt's reference code, routed to the
-- schools of its candidate records (none: the tenant's queue). What the
-- reporter wrote (contact and comment) is sealed with the personal-data
-- key (report, report_key_id; '' when they wrote nothing). At most one
-- ticket per reference code is open. The retention janitor destroys
-- tickets, notes included, after the tenant's attempt period.
CREATE TABLE tickets (
    id            text        PRIMARY KEY,
    tenant_id     text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ref           text        NOT NULL,
    reason        text        NOT NULL DEFAULT '',
    schools       text[]      NOT NULL DEFAULT '{}',
    report        bytea,
    report_key_id text        NOT NULL DEFAULT '',
    state         text        NOT NULL CHECK (state IN ('new', 'in_progress', 'resolved')),
    assigned_to   text        NOT NULL DEFAULT '',
    resolution    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    resolved_at   timestamptz
);
CREATE UNIQUE INDEX tickets_open_ref ON tickets (tenant_id, ref) WHERE state <> 'resolved';
CREATE INDEX tickets_tenant_created ON tickets (tenant_id, created_at, id);
CREATE INDEX tickets_schools ON tickets USING gin (schools);

-- Staff comments on a ticket, oldest first.
CREATE TABLE ticket_notes (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id text        NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL,
    author    text        NOT NULL,
    body      text        NOT NULL
);
CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, id);

-- The audit log page filters by actor, action and target within a tenant.
CREATE INDEX audit_log_tenant_target ON audit_log (tenant_id, target, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, id DESC);

-- +goose Down
DROP INDEX audit_log_actor;
DROP INDEX audit_log_tenant_target;
DROP TABLE ticket_notes;
DROP TABLE tickets;
