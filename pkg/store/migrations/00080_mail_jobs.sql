-- +goose Up
-- E-mail to parents about consent requests (issue 12): an outbox of its
-- own, written in the transaction that opens the request. A job names the
-- parent's roster record, never the address (read from the roster when the
-- job is sent). Replicas claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE mail_jobs (
    id              text        PRIMARY KEY,
    seq             bigint      GENERATED ALWAYS AS IDENTITY,
    tenant_id       text        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    request_id      text        NOT NULL,
    child_record    text        NOT NULL DEFAULT '',
    parent_record   text        NOT NULL,
    attempt_ref     text        NOT NULL DEFAULT '',
    kind            text        NOT NULL CHECK (kind IN ('requested', 'reminder')),
    status          text        NOT NULL CHECK (status IN ('pending', 'sent', 'skipped', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    done_at         timestamptz
);
CREATE INDEX mail_jobs_due ON mail_jobs (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX mail_jobs_request ON mail_jobs (tenant_id, request_id, seq);

-- +goose Down
DROP TABLE mail_jobs;
