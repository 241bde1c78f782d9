-- The fault campaign's integrity checks (scripts/chaos.sh): one row per
-- check, "name|violations". Every count must be 0.
SELECT 'person linked twice (one oid, two records of one role)', count(*) FROM (
    SELECT 1 FROM links WHERE status = 'active'
    GROUP BY tenant_id, esia_oid, role HAVING count(*) > 1) x
UNION ALL
SELECT 'record linked to two people', count(*) FROM (
    SELECT 1 FROM links
    GROUP BY tenant_id, external_id HAVING count(DISTINCT esia_oid) > 1) x
UNION ALL
SELECT 'record with two granted consents of one text', count(*) FROM (
    SELECT 1 FROM consents WHERE status = 'granted'
    GROUP BY tenant_id, person_id, text_version HAVING count(*) > 1) x
UNION ALL
SELECT 'grant with two live refresh tokens', count(*) FROM (
    SELECT 1 FROM oauth_records
    WHERE kind = 'refresh' AND active AND (expires_at IS NULL OR expires_at > now())
    GROUP BY request_id HAVING count(*) > 1) x
UNION ALL
SELECT 'consent without exactly one consent.granted event', count(*) FROM consents c
    WHERE (SELECT count(*) FROM outbox_events e
           WHERE e.tenant_id = c.tenant_id AND e.type = 'consent.granted' AND e.data ->> 'consent_id' = c.id) <> 1
UNION ALL
SELECT 'consent.granted event of no consent', count(*) FROM outbox_events e
    WHERE e.type = 'consent.granted'
      AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.tenant_id = e.tenant_id AND c.id = e.data ->> 'consent_id')
UNION ALL
SELECT 'linked record without exactly one link.created event per link', count(*) FROM (
    SELECT l.tenant_id, l.external_id, count(*) AS links,
           (SELECT count(*) FROM outbox_events e WHERE e.tenant_id = l.tenant_id AND e.type = 'link.created'
              AND e.data ->> 'person_id' = l.external_id) AS events
    FROM links l GROUP BY l.tenant_id, l.external_id) x
    WHERE links <> events;
