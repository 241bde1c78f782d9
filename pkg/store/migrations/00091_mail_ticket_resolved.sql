-- +goose Up
-- A resolved support ticket is e-mailed to the person who reported it when
-- they left an address (issue 12, families 3): a mail job of its own kind,
-- naming the ticket (request_id) and no roster record.
ALTER TABLE mail_jobs DROP CONSTRAINT mail_jobs_kind_check;
ALTER TABLE mail_jobs ADD CONSTRAINT mail_jobs_kind_check CHECK (kind IN ('requested', 'reminder', 'ticket_resolved'));

-- +goose Down
DELETE FROM mail_jobs WHERE kind = 'ticket_resolved';
ALTER TABLE mail_jobs DROP CONSTRAINT mail_jobs_kind_check;
ALTER TABLE mail_jobs ADD CONSTRAINT mail_jobs_kind_check CHECK (kind IN ('requested', 'reminder'));
