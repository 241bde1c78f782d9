-- +goose Up
-- Webhook outbox (DESIGN.md §4, §6): events are inserted in the transaction
-- of the change they report and delivered at least once afterwards. A
-- replica claims due rows with FOR UPDATE SKIP LOCKED and leases them by
-- moving next_attempt_at forward; seq keeps insertion order among events
-- due at the same instant.
CREATE TABLE outbox_events (
    id              text        PRIMARY KEY,
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    tenant_id       text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type            text        NOT NULL,
    data            jsonb,
    created_at      timestamptz NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    delivered_at    timestamptz
);
CREATE INDEX outbox_events_due ON outbox_events (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX outbox_events_tenant ON outbox_events (tenant_id, created_at DESC, seq DESC);
CREATE INDEX outbox_events_tenant_status ON outbox_events (tenant_id, status, created_at DESC, seq DESC);

-- +goose Down
DROP TABLE outbox_events;
