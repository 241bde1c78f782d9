-- +goose Up
-- Per-tenant retention (store.RetentionPolicy), in days; 0 is the broker's
-- default (attempts 365, delivered webhook events 30, dead ones 90). A
-- constant default makes ADD COLUMN a catalogue change: tenants is not
-- rewritten.
ALTER TABLE tenants
    ADD COLUMN attempt_retention_days       integer NOT NULL DEFAULT 0 CHECK (attempt_retention_days >= 0),
    ADD COLUMN outbox_retention_days        integer NOT NULL DEFAULT 0 CHECK (outbox_retention_days >= 0),
    ADD COLUMN outbox_failed_retention_days integer NOT NULL DEFAULT 0 CHECK (outbox_failed_retention_days >= 0);

-- The audit log stays append-only, with one exception: an entry of support
-- reading an attempt goes with the attempt when the retention janitor
-- destroys it — in a transaction that says so (broker.retention, set
-- locally by DestroyAttempts) and once the attempt itself is gone.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.action = 'read_attempt'
        AND current_setting('broker.retention', true) = 'destroy_attempts'
        AND NOT EXISTS (SELECT 1 FROM attempts WHERE ref = OLD.target) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
ALTER TABLE tenants
    DROP COLUMN outbox_failed_retention_days,
    DROP COLUMN outbox_retention_days,
    DROP COLUMN attempt_retention_days;
