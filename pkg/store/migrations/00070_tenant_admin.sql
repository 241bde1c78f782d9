-- +goose Up
-- Tenants and clients an operator can disable (tokens stop working, logins
-- are refused), clients whose secret is rotated with a grace period for the
-- previous one, operator-level API clients that belong to no tenant, and
-- the deletion of a disabled tenant with all its data (docs/operations.md).
ALTER TABLE tenants ADD COLUMN disabled_at timestamptz;
ALTER TABLE clients
    ADD COLUMN disabled_at           timestamptz,
    ADD COLUMN previous_secret_hash  bytea,
    ADD COLUMN previous_secret_until timestamptz,
    ADD COLUMN secret_rotated_at     timestamptz,
    ALTER COLUMN tenant_id DROP NOT NULL;

-- A tenant's deletion (broker.delete_tenant set to its id for the
-- transaction) may delete its audit entries and its consent evidence; no
-- other change to them is allowed.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.action = 'read_attempt'
        AND current_setting('broker.retention', true) = 'destroy_attempts'
        AND NOT EXISTS (SELECT 1 FROM attempts WHERE ref = OLD.target) THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.tenant_id <> '' AND current_setting('broker.delete_tenant', true) = OLD.tenant_id THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION consent_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.person_id = OLD.person_id
            AND NEW.consent_id = OLD.consent_id AND NEW.request_id = OLD.request_id
            AND NEW.event = OLD.event AND NEW.at = OLD.at THEN
            IF NEW.destroyed AND NEW.details IS NULL AND NEW.key_id = '' THEN
                RETURN NEW;
            END IF;
            IF NOT OLD.destroyed AND NOT NEW.destroyed AND OLD.details IS NOT NULL
                AND NEW.details IS NOT NULL AND NEW.key_id <> OLD.key_id THEN
                RETURN NEW;
            END IF;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' AND current_setting('broker.delete_tenant', true) = OLD.tenant_id THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'consent_evidence is append-only: its personal data can only be destroyed or re-sealed';
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION consent_evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.person_id = OLD.person_id
            AND NEW.consent_id = OLD.consent_id AND NEW.request_id = OLD.request_id
            AND NEW.event = OLD.event AND NEW.at = OLD.at THEN
            IF NEW.destroyed AND NEW.details IS NULL AND NEW.key_id = '' THEN
                RETURN NEW;
            END IF;
            IF NOT OLD.destroyed AND NOT NEW.destroyed AND OLD.details IS NOT NULL
                AND NEW.details IS NOT NULL AND NEW.key_id <> OLD.key_id THEN
                RETURN NEW;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION 'consent_evidence is append-only: its personal data can only be destroyed or re-sealed';
END;
$$;
-- +goose StatementEnd
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
DELETE FROM clients WHERE tenant_id IS NULL;
ALTER TABLE clients
    ALTER COLUMN tenant_id SET NOT NULL,
    DROP COLUMN secret_rotated_at,
    DROP COLUMN previous_secret_until,
    DROP COLUMN previous_secret_hash,
    DROP COLUMN disabled_at;
ALTER TABLE tenants DROP COLUMN disabled_at;
