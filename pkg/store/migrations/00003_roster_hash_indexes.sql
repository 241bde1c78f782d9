-- Blind indexes (64 hex characters of an HMAC) are only ever looked up by
-- equality, and are random: a B-tree of them is large (the whole value per
-- entry, about 100 bytes) and every insert lands on a random page, which at
-- a million records no longer fits in shared buffers. A hash index keeps a
-- 4-byte hash code per entry and finds a value in one bucket, so a roster
-- import writes less than half as much (docs/performance.md, "Linking at
-- scale"). The tenant is checked on the rows found: the same person in two
-- tenants has the same blind index, which costs one more row read.
-- Replacing the indexes locks roster_persons for the time of the build (a
-- few seconds per million records).

-- +goose Up
DROP INDEX roster_ix_snils;
DROP INDEX roster_ix_birth_cert;
DROP INDEX roster_ix_birth_date;
DROP INDEX roster_ix_name_birth;
CREATE INDEX roster_ix_snils ON roster_persons USING hash (ix_snils) WHERE ix_snils IS NOT NULL;
CREATE INDEX roster_ix_birth_cert ON roster_persons USING hash (ix_birth_cert) WHERE ix_birth_cert IS NOT NULL;
CREATE INDEX roster_ix_birth_date ON roster_persons USING hash (ix_birth_date) WHERE ix_birth_date IS NOT NULL;
CREATE INDEX roster_ix_name_birth ON roster_persons USING hash (ix_name_birth) WHERE ix_name_birth IS NOT NULL;

-- +goose Down
DROP INDEX roster_ix_snils;
DROP INDEX roster_ix_birth_cert;
DROP INDEX roster_ix_birth_date;
DROP INDEX roster_ix_name_birth;
CREATE INDEX roster_ix_snils ON roster_persons (tenant_id, ix_snils) WHERE ix_snils IS NOT NULL;
CREATE INDEX roster_ix_birth_cert ON roster_persons (tenant_id, ix_birth_cert) WHERE ix_birth_cert IS NOT NULL;
CREATE INDEX roster_ix_birth_date ON roster_persons (tenant_id, ix_birth_date) WHERE ix_birth_date IS NOT NULL;
CREATE INDEX roster_ix_name_birth ON roster_persons (tenant_id, ix_name_birth) WHERE ix_name_birth IS NOT NULL;
