-- +goose Up
-- The support console lists the webhook events about one roster record
-- (store.RecordConsole.RecordEventsInScope): an index on the record id the
-- event's data names, newest first.
CREATE INDEX outbox_events_person ON outbox_events (tenant_id, (data->>'person_id'), created_at DESC, seq DESC);

-- +goose Down
DROP INDEX outbox_events_person;
