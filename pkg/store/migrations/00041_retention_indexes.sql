-- +goose NO TRANSACTION
-- +goose Up
-- The retention janitor's queries (store.Retention), each on its own
-- index so that a batch reads only due rows. Built CONCURRENTLY: logins,
-- support reads and webhook deliveries keep writing these tables.
--
-- Attempts still in progress, by their last event (AbandonAttempts); small,
-- as the janitor keeps few of them.
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempts_in_progress ON attempts (updated_at) WHERE outcome = 'in_progress';
-- A tenant's attempts by age (DestroyAttempts).
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempts_tenant_created ON attempts (tenant_id, created_at);
-- The audit entries of support reading an attempt, by reference code
-- (DestroyAttempts takes them with the attempt).
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_log_read_attempt ON audit_log (tenant_id, target) WHERE action = 'read_attempt';
-- A tenant's delivered events by delivery, dead ones by their last
-- attempt (PurgeEvents).
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_events_delivered ON outbox_events (tenant_id, delivered_at) WHERE status = 'delivered';
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_events_dead ON outbox_events (tenant_id, next_attempt_at) WHERE status = 'dead';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS outbox_events_dead;
DROP INDEX CONCURRENTLY IF EXISTS outbox_events_delivered;
DROP INDEX CONCURRENTLY IF EXISTS audit_log_read_attempt;
DROP INDEX CONCURRENTLY IF EXISTS attempts_tenant_created;
DROP INDEX CONCURRENTLY IF EXISTS attempts_in_progress;
