-- Addresses were stored with the local part as typed (Anna@example.org); since this migration the whole address is
-- lower-case (EmailAddress.Normalize: one person, one row). Rows that fold to one address are one person who signed
-- up twice in other case: they become one row. The row that survives is the one with the person's latest decision
-- (confirmed or unsubscribed, whichever happened last; a mere pending signup decides nothing), else the first row.
-- It keeps its status and choices and takes over the others' consents, link events and deliveries (of two deliveries
-- of one mailing the sent one stays, so nobody gets a mail twice). The domain part was lower-cased already.
CREATE TEMP TABLE email_fold AS
SELECT id, FIRST_VALUE(id) OVER (PARTITION BY folded ORDER BY decided_at DESC, id) AS survivor
FROM (
    SELECT id, LOWER(email) AS folded,
           CASE WHEN COALESCE(confirmed_at, 0) > COALESCE(unsubscribed_at, 0)
                THEN COALESCE(confirmed_at, 0) ELSE COALESCE(unsubscribed_at, 0) END AS decided_at
    FROM subscribers
    WHERE LOWER(email) IN (SELECT LOWER(email) FROM subscribers WHERE email <> LOWER(email))
) AS candidates;

CREATE TEMP TABLE delivery_fold AS
SELECT d.id, f.survivor,
       ROW_NUMBER() OVER (
           PARTITION BY f.survivor, d.mailing
           ORDER BY CASE WHEN d.status = 'sent' THEN 0 ELSE 1 END, CASE WHEN d.subscriber_id = f.survivor THEN 0 ELSE 1 END, d.id
       ) AS keep_rank
FROM deliveries d
JOIN email_fold f ON f.id = d.subscriber_id;

DELETE FROM deliveries WHERE id IN (SELECT id FROM delivery_fold WHERE keep_rank > 1);

UPDATE deliveries SET subscriber_id = (SELECT x.survivor FROM delivery_fold x WHERE x.id = deliveries.id)
WHERE id IN (SELECT id FROM delivery_fold WHERE keep_rank = 1);

UPDATE consents SET subscriber_id = (SELECT f.survivor FROM email_fold f WHERE f.id = consents.subscriber_id)
WHERE subscriber_id IN (SELECT id FROM email_fold WHERE id <> survivor);

UPDATE link_events SET subscriber_id = (SELECT f.survivor FROM email_fold f WHERE f.id = link_events.subscriber_id)
WHERE subscriber_id IN (SELECT id FROM email_fold WHERE id <> survivor);

DELETE FROM subscribers WHERE id IN (SELECT id FROM email_fold WHERE id <> survivor);

UPDATE subscribers SET email = LOWER(email) WHERE email <> LOWER(email);

DROP TABLE delivery_fold;
DROP TABLE email_fold;
