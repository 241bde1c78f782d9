-- +goose NO TRANSACTION
-- +goose Up
-- A token row's subject index only over rows that name a subject (issue
-- 13): a login's slim refresh token rows (00085) name none — their grant
-- does — yet every one of them was an entry under (tenant_id, '') in the
-- full index, one more B-tree insertion per refresh rotation and code
-- exchange, all into the same key's leaf pages. RevokeOAuthSubject, the
-- one query that looks token rows up by subject, asks for subject <> ''
-- and finds the slim rows through oauth_grants_subject. Built
-- CONCURRENTLY: token requests keep writing the table. A build that failed
-- half-way leaves an invalid index of that name, which IF NOT EXISTS would
-- keep, and the next line would then drop the valid one: the new index is
-- dropped first, so that a rerun builds it whole.
DROP INDEX CONCURRENTLY IF EXISTS oauth_records_subject_named;
CREATE INDEX CONCURRENTLY oauth_records_subject_named ON oauth_records (tenant_id, subject) WHERE subject <> '';
DROP INDEX CONCURRENTLY IF EXISTS oauth_records_subject;

-- +goose Down
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth_records_subject ON oauth_records (tenant_id, subject);
DROP INDEX CONCURRENTLY IF EXISTS oauth_records_subject_named;
