-- +goose Up
-- Append-only audit log of access to personal data (support reads) and of
-- changes made through the APIs. UPDATE and DELETE are refused by a trigger.
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    tenant_id text        NOT NULL,
    actor     text        NOT NULL DEFAULT '',
    action    text        NOT NULL,
    target    text        NOT NULL DEFAULT '',
    detail    jsonb
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id DESC);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE audit_log;
